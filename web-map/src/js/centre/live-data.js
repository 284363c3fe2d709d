// What the websocket says, as map features: open incidents (from the snapshot and `incident.*`
// deltas), workers at their last position and each worker's short trail (from `position` messages).
// A case that leaves the loop (closed, deferred, cancelled, merged) leaves the map.

import { FeatureSet } from './feature-set.js';

const OPEN = new Set(['registered', 'dispatched', 'accepted', 'in_progress', 'resolved']);
const TRAIL_POINTS = 10;
/** How often the overdue marks are recomputed from the deadlines, ms (time passes without events). */
const OVERDUE_CHECK_MS = 30_000;

/** A case summary (`incident_summary` on the server) as a flat GeoJSON Feature. */
function incidentFeature(summary, now = Date.now()) {
  const deadline = summary.deadline ? Date.parse(summary.deadline) : null;
  return {
    type: 'Feature',
    id: summary.id,
    geometry: { type: 'Point', coordinates: [summary.lon, summary.lat] },
    properties: {
      id: summary.id,
      status: summary.status,
      priority: summary.priority,
      category: summary.category,
      level: summary.level,
      grid: summary.grid,
      assignee: summary.assignee ?? null,
      deadline: summary.deadline ?? null,
      created_at: summary.created_at,
      overdue: deadline !== null && deadline < now,
    },
  };
}

export class LiveData {
  /**
   * @param {import('maplibre-gl').Map} map  with the `incidents`, `workers` and `trails` sources
   * @param {() => void} onChange  called after the incidents on the map changed
   */
  constructor(map, onChange) {
    this.incidents = new FeatureSet(map, 'incidents', onChange);
    this.workers = new FeatureSet(map, 'workers');
    this.trails = new FeatureSet(map, 'trails');
    /** worker id → {name, duty} */
    this.staff = new Map();
    /** worker id → [[lon, lat], …], oldest first */
    this.paths = new Map();
    /** The replayed moment (ms) while the map shows one, else null: overdue is judged at that time. */
    this.replayAt = null;
    /** Called with the summary of every incident that changed (the drawer follows its case). */
    this.onIncident = () => {};
    setInterval(() => this.markOverdue(), OVERDUE_CHECK_MS);
  }

  /**
   * Replaces everything with a snapshot (live, or a replayed moment's state: `keepTrails: false`, so a
   * trail never joins the present to the past).
   */
  snapshot(message, { keepTrails = true } = {}) {
    const now = this.now();
    this.incidents.reset(message.incidents.filter((s) => OPEN.has(s.status)).map((s) => incidentFeature(s, now)));
    this.staff = new Map(message.workers.map((w) => [w.id, { name: w.name, duty: w.duty }]));
    // A new snapshot (a re-subscribe when the scope changed) keeps the trails of the workers still in
    // view: their last position is appended when it moved meanwhile.
    const before = keepTrails ? this.paths : new Map();
    this.paths = new Map();
    const placed = message.workers.filter((w) => w.position);
    for (const w of placed) {
      const at = [w.position.lon, w.position.lat];
      const path = before.get(w.id) || [];
      const last = path[path.length - 1];
      if (!last || last[0] !== at[0] || last[1] !== at[1]) path.push(at);
      while (path.length > TRAIL_POINTS) path.shift();
      this.paths.set(w.id, path);
    }
    this.workers.reset(placed.map((w) => this.workerFeature(w.id)));
    this.trails.reset([...this.paths].filter(([, path]) => path.length > 1).map(([id, path]) => trailFeature(id, path)));
  }

  delta(message) {
    if (message.layer === 'incidents' && message.kind !== 'incident.photo_added') {
      const summary = message.data;
      if (OPEN.has(summary.status)) this.incidents.set(incidentFeature(summary, this.now()));
      else this.incidents.delete(summary.id);
      this.onIncident(summary);
    } else if (message.layer === 'workers') {
      const w = message.data;
      this.staff.set(w.id, { name: w.name, duty: w.duty });
      if (this.paths.has(w.id)) this.workers.set(this.workerFeature(w.id));
    }
  }

  position(message) {
    const path = this.paths.get(message.worker) || [];
    path.push([message.lon, message.lat]);
    if (path.length > TRAIL_POINTS) path.shift();
    this.paths.set(message.worker, path);
    this.workers.set(this.workerFeature(message.worker));
    if (path.length > 1) {
      this.trails.set(trailFeature(message.worker, path));
    }
  }

  /** The time the map shows, ms. */
  now() {
    return this.replayAt ?? Date.now();
  }

  workerFeature(id) {
    const path = this.paths.get(id);
    const who = this.staff.get(id) || {};
    return {
      type: 'Feature',
      id,
      geometry: { type: 'Point', coordinates: path[path.length - 1] },
      properties: { id, name: who.name ?? '', duty: who.duty ?? 'on_duty' },
    };
  }

  /** Marks the cases whose deadline has passed since they last changed. */
  markOverdue() {
    const now = this.now();
    for (const feature of this.incidents.values()) {
      const p = feature.properties;
      if (!p.overdue && p.deadline && Date.parse(p.deadline) < now) {
        this.incidents.set({ ...feature, properties: { ...p, overdue: true } });
      }
    }
  }
}

/** A worker's trail as a line feature (a copy of the path). */
function trailFeature(id, path) {
  return { type: 'Feature', id, geometry: { type: 'LineString', coordinates: [...path] }, properties: {} };
}
