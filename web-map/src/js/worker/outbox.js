// The worker's outbox: every action (a case action, a photo, a duty change) is first written to
// IndexedDB, then sent in the order it was taken. A network failure (`Problem.offline`) or a server
// that is down (5xx, 429) keeps it queued and retries later — on `online`, on a websocket reconnect
// (the page calls `flush`) and on a backing-off timer; any other refusal (4xx, e.g. a 409 for an
// `accept` replayed on a case someone already accepted) drops it and reports the problem, so a replay
// never loops. Each item gets its `Idempotency-Key` when it is queued and keeps it across every retry
// and reload, so an action whose answer was lost is not done twice: the server answers the key again
// (a 409 `idempotency-key-in-flight` means the first send is still being answered: retried too; a 409
// `idempotency-key-committed` that it was done though its answer was lost: sent).
// A send with no answer in 20 s (2 minutes for a photo) is given up and retried, and so is one in flight
// when the network comes back: on a weak signal a request can hang rather than fail.
// Photos are kept as Blobs, so they survive a reload while offline too.

import { api, committed, inFlight, newIdempotencyKey, Problem } from '../common/api.js';

const DB_NAME = 'gridwatch-worker';
const STORE = 'outbox';
const FIRST_RETRY_MS = 2000;
const MAX_RETRY_MS = 30000;
/** A send that has no answer by then is given up and retried (with its key): on a weak signal a request
 * can hang instead of failing. Photos get longer. */
const SEND_TIMEOUT_MS = 20000;
const PHOTO_TIMEOUT_MS = 120000;

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function openDb() {
  const open = indexedDB.open(DB_NAME, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: 'key', autoIncrement: true });
  return request(open);
}

/** Whether a refusal is worth retrying as it is (the server could not take it now). */
function retryable(problem) {
  return problem.offline || problem.status >= 500 || problem.status === 429 || inFlight(problem);
}

/** Sends one queued item: JSON, or a photo as multipart with the part `photo`, with its key (an item
 * queued before keys were kept has none: each send then gets a new one). */
async function send(item, controller) {
  const idempotencyKey = item.idempotencyKey;
  const timer = setTimeout(() => controller.abort(), item.photo ? PHOTO_TIMEOUT_MS : SEND_TIMEOUT_MS);
  const { signal } = controller;
  try {
    if (item.photo) {
      const form = new FormData();
      form.append('photo', item.photo, item.photoName || 'photo');
      return await api(item.path, { method: 'POST', body: form, idempotencyKey, signal });
    }
    return await api(item.path, { method: item.method, body: item.body, idempotencyKey, signal });
  } catch (err) {
    // Given up (too slow, or the network came back meanwhile): like a network failure, sent again.
    if (err?.name === 'AbortError') throw new Problem(0, { title: 'offline', detail: 'no answer in time' });
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

export class Outbox {
  /**
   * @param {object} handlers
   * @param {(item: object, result: any) => void} handlers.onSent      the server took it
   * @param {(item: object, problem: Problem) => void} handlers.onRefused  dropped: the server refused it
   * @param {() => void} handlers.onChange  the queue or its state changed
   */
  constructor({ onSent, onRefused, onChange }) {
    this.onSent = onSent;
    this.onRefused = onRefused;
    this.onChange = onChange;
    this.items = [];
    this.sending = false;
    this.stalled = false;
    this.retryMs = FIRST_RETRY_MS;
    this.timer = null;
    this.opened = null;
    /** Aborts the send in flight. */
    this.controller = null;
    /** Flush again as soon as the send in flight ends. */
    this.again = false;
  }

  /** The network is back: what waits is sent now, and a send begun without a network (which may hang
   * rather than fail) is given up and sent again, with its key. */
  online() {
    this.retryMs = FIRST_RETRY_MS;
    if (this.sending) {
      this.again = true;
      this.controller?.abort();
    } else {
      this.flush();
    }
  }

  /** Opens the store and loads what an earlier visit left queued. */
  open() {
    this.opened = (async () => {
      this.db = await openDb();
      this.items = await request(this.db.transaction(STORE).objectStore(STORE).getAll());
      this.onChange();
    })();
    return this.opened;
  }

  /** Queues an item (`{path, method, body}` or `{path, photo}`, plus what the page needs to show it). */
  async add(item) {
    await this.opened;
    const entry = { ...item, queuedAt: new Date().toISOString(), idempotencyKey: newIdempotencyKey() };
    entry.key = await request(this.db.transaction(STORE, 'readwrite').objectStore(STORE).add(entry));
    this.items.push(entry);
    this.onChange();
    this.flush();
  }

  async remove(item) {
    await request(this.db.transaction(STORE, 'readwrite').objectStore(STORE).delete(item.key));
    this.items = this.items.filter((other) => other.key !== item.key);
  }

  /** Sends the queue in order until it is empty or the network fails. */
  async flush() {
    if (this.sending) return;
    clearTimeout(this.timer);
    this.sending = true;
    this.onChange();
    try {
      while (this.items.length > 0) {
        const item = this.items[0];
        try {
          this.controller = new AbortController();
          const result = await send(item, this.controller);
          await this.remove(item);
          this.stalled = false;
          this.retryMs = FIRST_RETRY_MS;
          this.onSent(item, result);
        } catch (err) {
          if (!(err instanceof Problem)) throw err;
          if (committed(err)) {
            // Done earlier, its answer lost: the case's new state arrives over the websocket.
            await this.remove(item);
            this.stalled = false;
            this.onSent(item, null);
            this.onChange();
            continue;
          }
          if (retryable(err)) {
            this.stalled = true;
            this.timer = setTimeout(() => this.flush(), this.retryMs);
            this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
            break;
          }
          await this.remove(item);
          this.onRefused(item, err);
        }
        this.onChange();
      }
    } finally {
      this.sending = false;
      this.controller = null;
      this.onChange();
      if (this.again) {
        this.again = false;
        this.flush();
      }
    }
  }
}
