// Where the worker is: `navigator.geolocation.watchPosition`, always shown on the map, and shared with
// gridwatch while on duty — over the websocket (`position`, answered by `position_ack`) when it is open,
// else kept and sent as one batch to `POST /api/positions` once the network is back. A fix sent on the
// socket but not acknowledged before it dropped goes into that batch too. A batch that got no answer is
// sent again as it was, with the same `Idempotency-Key`, so it is stored once.

import { api, inFlight, newIdempotencyKey } from '../common/api.js';

/** Most fixes kept while offline (the oldest are dropped beyond it). */
const MAX_BUFFERED = 2000;

export class PositionSharer {
  /**
   * @param {object} options
   * @param {import('../common/live.js').Live} options.live
   * @param {(fix: object) => void} options.onFix        every new fix, shared or not
   * @param {(error: {code: number, message: string}) => void} options.onUnavailable  geolocation failed
   * @param {(problem: import('../common/api.js').Problem) => void} options.onProblem  the server refused fixes
   */
  constructor({ live, onFix, onUnavailable, onProblem }) {
    this.live = live;
    this.onFix = onFix;
    this.onUnavailable = onUnavailable;
    this.onProblem = onProblem;
    this.sharing = false;
    this.last = null;
    this.sent = 0;
    this.inflight = new Map();
    this.buffer = [];
    /** The batch last sent that got no answer, and its idempotency key: `{batch, key}` or null. */
    this.unsent = null;
    this.flushing = false;
  }

  /** Starts watching the device's position. */
  watch() {
    if (!('geolocation' in navigator)) {
      this.onUnavailable({ code: 0, message: 'no geolocation' });
      return;
    }
    navigator.geolocation.watchPosition(
      (position) => this.take(position),
      (error) => this.onUnavailable(error),
      { enableHighAccuracy: true, maximumAge: 5000, timeout: 60000 },
    );
  }

  /** Shares from now on (sending the latest fix at once) or stops. */
  setSharing(sharing) {
    if (sharing === this.sharing) return;
    this.sharing = sharing;
    if (sharing && this.last) this.share(this.last);
  }

  take(position) {
    const { latitude, longitude, accuracy } = position.coords;
    const fix = { lat: latitude, lon: longitude, accuracy_m: accuracy, at: new Date(position.timestamp || Date.now()).toISOString() };
    this.last = fix;
    this.onFix(fix);
    if (this.sharing) this.share(fix);
  }

  share(fix) {
    this.sent += 1;
    const ref = `fix-${this.sent}`;
    if (this.live.send({ type: 'position', ...fix, ref })) this.inflight.set(ref, fix);
    else this.keep([fix]);
  }

  keep(fixes) {
    this.buffer.push(...fixes);
    if (this.buffer.length > MAX_BUFFERED) this.buffer.splice(0, this.buffer.length - MAX_BUFFERED);
  }

  /** The server stored the fix sent with this `ref`. */
  acknowledged(ref) {
    this.inflight.delete(ref);
  }

  /** The socket dropped: what it did not acknowledge goes to the batch. */
  socketLost() {
    this.keep([...this.inflight.values()]);
    this.inflight.clear();
  }

  /** Sends the kept fixes, oldest first, in one batch. A batch that failed is sent again as it was, with
   * its idempotency key, before any later fix: a batch stored whose answer was lost is stored once. */
  async flush() {
    if (this.flushing || (!this.unsent && this.buffer.length === 0)) return;
    this.flushing = true;
    this.unsent ||= { batch: this.buffer.splice(0, this.buffer.length), key: newIdempotencyKey() };
    const { batch, key } = this.unsent;
    let again = false;
    try {
      await api('/api/positions', { method: 'POST', body: batch, idempotencyKey: key });
      this.unsent = null;
      again = this.buffer.length > 0;
    } catch (err) {
      if (!(err.offline || err.status >= 500 || inFlight(err))) {
        this.unsent = null;
        this.onProblem(err);
      }
    } finally {
      this.flushing = false;
    }
    if (again) await this.flush();
  }
}
