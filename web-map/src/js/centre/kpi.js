// The KPI panel for the area in view: this month's figures so far (from the 1st, local midnight, to
// now) from `GET /api/reports/kpi?level=grid`,
// summed over the grids drawn in the viewport (all grids when none is drawn, below the grid tiles'
// zoom), with the rates recomputed from the sums as `dispatch::kpi` defines them; and the open and
// overdue cases in view from the live data. The report is read again a little after incidents change,
// never on a timer.
//
// The period ends now, not at the month's end: the KPI evaluates a period as of its end, so a month
// ending in the future would count every case due later this month as due and not closed, and show a
// 结案率 of 0% while nothing is due yet. With nothing due the rates read "—", never 0%.

import { api } from '../common/api.js';

const REFETCH_AFTER_CHANGE_MS = 5000;
const COUNTS = ['registered', 'due', 'closed', 'closed_on_time', 'deferred', 'reworked'];

export class KpiPanel {
  /**
   * @param {object} options
   * @param {import('maplibre-gl').Map} options.map
   * @param {import('./feature-set.js').FeatureSet} options.incidents
   * @param {(key: string, values?: object) => string} options.t
   * @param {(problem: Error) => void} options.onProblem
   */
  constructor({ map, incidents, t, onProblem }) {
    this.map = map;
    this.incidents = incidents;
    this.t = t;
    this.onProblem = onProblem;
    this.root = document.getElementById('kpi');
    this.title = document.getElementById('kpi-title');
    this.report = null;
    this.refetch = 0;
    this.disabled = false;
    /** The deployment calendar's UTC offset; the browser's until `/api/me` says. */
    this.tzOffsetMinutes = null;
  }

  /** The caller may not read reports (`/api/me`): the panel goes and is never loaded. */
  disable() {
    this.disabled = true;
    clearTimeout(this.refetch);
    this.root.closest('section').hidden = true;
  }

  async load() {
    if (this.disabled) return;
    const now = new Date();
    // The 1st of this month in the deployment's calendar (`tzOffsetMinutes`, from `/api/me`).
    const local = new Date(now.getTime() + (this.tzOffsetMinutes ?? -now.getTimezoneOffset()) * 60_000);
    const first = `${local.toISOString().slice(0, 7)}-01`;
    try {
      this.report = await api(`/api/reports/kpi?level=grid&from=${first}&to=${encodeURIComponent(now.toISOString())}`);
      this.render();
    } catch (err) {
      this.onProblem(err);
    }
  }

  /** Incidents changed: the month's figures will have too. */
  changed() {
    if (this.refetch || this.disabled) return;
    this.refetch = setTimeout(() => {
      this.refetch = 0;
      this.load();
    }, REFETCH_AFTER_CHANGE_MS);
  }

  /** The ids of the grids drawn in the viewport. */
  gridsInView() {
    if (!this.map.getLayer('grid-fill')) return new Set();
    return new Set(this.map.queryRenderedFeatures({ layers: ['grid-fill'] }).map((f) => f.properties.id));
  }

  render() {
    if (this.disabled) return;
    const t = this.t;
    const grids = this.gridsInView();
    const sums = Object.fromEntries(COUNTS.map((k) => [k, 0]));
    if (this.report) {
      const rows = grids.size ? this.report.rows.filter((r) => r.key && grids.has(r.key.id)) : [this.report.total];
      for (const row of rows) for (const k of COUNTS) sums[k] += row[k] || 0;
    }
    this.title.textContent = t(grids.size ? 'kpi.title' : 'kpi.title.all');
    const bounds = this.map.getBounds();
    let open = 0;
    let overdue = 0;
    for (const feature of this.incidents.values()) {
      if (!bounds.contains(feature.geometry.coordinates)) continue;
      open += 1;
      if (feature.properties.overdue) overdue += 1;
    }
    const settled = sums.due - sums.deferred;
    const figures = [
      ['open', open], ['overdue', overdue], ['registered', sums.registered], ['closed', sums.closed],
      ['closure_rate', rate(sums.closed, settled)], ['on_time_rate', rate(sums.closed_on_time, settled)],
      ['rework_rate', rate(sums.reworked, sums.closed)],
    ];
    this.root.replaceChildren(...figures.map(([key, value]) => {
      const cell = document.createElement('div');
      cell.dataset.kpi = key;
      const number = document.createElement('b');
      number.textContent = value;
      const label = document.createElement('span');
      label.textContent = t(`kpi.${key}`);
      cell.append(number, label);
      return cell;
    }));
  }
}

/** A share as a percentage, or a dash over nothing. */
function rate(part, whole) {
  return whole > 0 ? `${Math.round((100 * part) / whole)}%` : '—';
}
