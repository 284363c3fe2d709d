// The live map's connection: one websocket to `/ws`, kept open across network drops.
//
// `subscribe` once with a filter; the server answers with a `snapshot` and then `delta`s in `seq`
// order. After a drop the client reconnects (backing off up to 15 s) and sends `resume` with the last
// `seq` it applied, so the server replays exactly what was missed; a `resync` (the server's queue for
// this client overflowed) is answered the same way. Handlers get every message by its `type`; a
// snapshot sent in parts (`snapshot` with `more: true`, then `snapshot_part`s) reaches them whole.
// The socket authenticates with the session cookie the browser sends with the upgrade (never a token in
// the URL); a close with 1008 means the session or account no longer holds: the page goes to login.

import { toLogin } from './api.js';

const MAX_BACKOFF_MS = 15000;
/** RFC 6455's Policy Violation: the server ended the socket because its credential no longer holds. */
const POLICY_CLOSE = 1008;

export class Live {
  /**
   * @param {object} options
   * @param {object} options.filter            the `subscribe` filter (bbox, grids, layers, mine, near, tiles…)
   * @param {Record<string, (msg: object) => void>} options.on  handlers by message type, plus `status`
   */
  constructor({ filter = {}, on = {} }) {
    this.filter = filter;
    this.on = on;
    this.seq = null;
    /** A snapshot whose parts are still arriving. */
    this.partial = null;
    this.socket = null;
    this.backoff = 500;
    this.closed = false;
    this.status = 'connecting';
    this.connect();
  }

  /** Changes the filter (a new `subscribe`: the server sends a fresh snapshot for it). */
  setFilter(filter) {
    this.filter = filter;
    this.seq = null;
    this.send({ type: 'subscribe', ...filter });
  }

  /** Sends a message if the socket is open; returns whether it was sent. */
  send(message) {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  close() {
    this.closed = true;
    this.socket?.close();
  }

  setStatus(status) {
    this.status = status;
    this.on.status?.(status);
  }

  connect() {
    const url = new URL('/ws', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    this.setStatus('connecting');
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      this.backoff = 500;
      this.partial = null;
      this.setStatus('connected');
      if (this.seq === null) this.send({ type: 'subscribe', ...this.filter });
      else this.send({ type: 'resume', seq: this.seq, ...this.filter });
    };
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      // A large snapshot comes in parts (`more: true`, then `snapshot_part`s): handlers get it whole.
      if (message.type === 'snapshot' && message.more) {
        this.partial = message;
        return;
      }
      if (message.type === 'snapshot_part') {
        if (!this.partial || this.partial.seq !== message.seq) return;
        this.partial.incidents.push(...message.incidents);
        this.partial.workers.push(...message.workers);
        if (message.more) return;
        message = { ...this.partial, more: false };
        this.partial = null;
      }
      if (message.type === 'snapshot') this.seq = message.seq;
      if (message.type === 'delta' && typeof message.seq === 'number') this.seq = Math.max(this.seq ?? 0, message.seq);
      if (message.type === 'resync') {
        this.send({ type: 'resume', seq: message.seq });
      }
      this.on[message.type]?.(message);
      this.on.any?.(message);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.setStatus('offline');
      if (event.code === POLICY_CLOSE) {
        this.closed = true;
        toLogin('ended');
        return;
      }
      if (this.closed) return;
      const wait = this.backoff;
      this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
      setTimeout(() => this.connect(), wait);
    };
    socket.onerror = () => socket.close();
  }
}
