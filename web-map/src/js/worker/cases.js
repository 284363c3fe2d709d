// The cases the worker sees, kept from the websocket's snapshot and deltas (and the answers to the
// worker's own actions): "mine" (assigned to or handled by me) and "nearby" (other open cases, nearest
// first). Queued actions are applied on top, so the list shows what the worker did before the server
// has heard of it.

/** Statuses still in the loop; a resolved case stays on my list until it is verified. */
const SHOWN = new Set(['registered', 'dispatched', 'accepted', 'in_progress', 'resolved']);

/** What a queued worker action makes of a case, before the server confirms it. */
const OPTIMISTIC = { accept: 'accepted', start: 'in_progress', resolve: 'resolved', send_back: 'registered' };

/** The actions this view offers a worker for a case in each status. */
export const WORKER_ACTIONS = {
  dispatched: ['accept', 'send_back'],
  accepted: ['start', 'send_back'],
  in_progress: ['resolve'],
};

/** Great-circle distance in meters. */
export function distanceM(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
}

/** A case from a websocket summary or from a GeoJSON Feature of the API, in one shape. */
function normalise(value) {
  if (value?.type === 'Feature') {
    const [lon, lat] = value.geometry?.coordinates || [];
    const p = value.properties || {};
    return { ...p, lat, lon, grid: p.grid_id };
  }
  return { ...value };
}

export class CaseBook {
  constructor() {
    this.byId = new Map();
    this.me = null;
  }

  /** Replaces everything with a snapshot's cases. */
  reset(summaries) {
    const descriptions = new Map([...this.byId].map(([id, c]) => [id, c.description]));
    this.byId.clear();
    for (const summary of summaries) this.upsert(summary);
    for (const [id, description] of descriptions) {
      const known = this.byId.get(id);
      if (known && known.description === undefined) known.description = description;
    }
  }

  /** Adds or updates a case (a summary or a Feature); one that left the loop is dropped. */
  upsert(value) {
    const next = normalise(value);
    if (typeof next.id !== 'number') return;
    if (!SHOWN.has(next.status)) {
      this.byId.delete(next.id);
      return;
    }
    const known = this.byId.get(next.id);
    if (known?.updated_at && next.updated_at && known.updated_at > next.updated_at) return;
    this.byId.set(next.id, { ...known, ...next, description: next.description ?? known?.description });
  }

  get(id) {
    return this.byId.get(id);
  }

  isMine(c) {
    return this.me !== null && (c.assignee === this.me || c.handler === this.me);
  }

  /** The case as the worker should see it: its status after the queued actions for it. */
  view(c, queued) {
    const pending = queued.filter((item) => item.incident === c.id);
    const status = pending.reduce((s, item) => OPTIMISTIC[item.action] ?? s, c.status);
    return { ...c, status, pending };
  }

  /** My cases (newest deadline pressure first) and the others nearest first from `here`. */
  lists(queued, here) {
    const mine = [];
    const nearby = [];
    for (const c of this.byId.values()) {
      const shown = this.view(c, queued);
      shown.distance = here && Number.isFinite(c.lat) ? distanceM(here, c) : null;
      if (this.isMine(c)) mine.push(shown);
      else if (shown.status !== 'resolved') nearby.push(shown);
    }
    mine.sort((a, b) => String(a.deadline ?? '~').localeCompare(String(b.deadline ?? '~')) || a.id - b.id);
    nearby.sort((a, b) => (a.distance ?? Infinity) - (b.distance ?? Infinity) || a.id - b.id);
    return { mine, nearby };
  }
}
