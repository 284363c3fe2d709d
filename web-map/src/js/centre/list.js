// The list of the incidents in view: what the live data holds inside the map's bounds, narrowed by the
// status, priority and overdue filters; overdue first, then by priority, newest first. Redrawn on
// `moveend` and whenever the live data changed (at most once per animation frame). Picking a row flies
// the map to the case and rings it (`highlightIncident`) before the drawer opens it.

import { highlightIncident, STATUS_COLORS } from './layers.js';

/** The zoom a picked case is shown at: past the clusters' last zoom, so its own dot is drawn. */
export const PICK_ZOOM = 17;

const MAX_ROWS = 200;
const PRIORITY_RANK = { urgent: 0, high: 1, normal: 2, low: 3 };

export class IncidentList {
  /**
   * @param {object} options
   * @param {import('maplibre-gl').Map} options.map
   * @param {import('./feature-set.js').FeatureSet} options.incidents
   * @param {(key: string, values?: object) => string} options.t
   * @param {(code: string) => string} options.categoryName
   * @param {(id: number) => void} options.onSelect
   */
  constructor({ map, incidents, t, categoryName, onSelect }) {
    this.map = map;
    this.categoryName = categoryName;
    this.incidents = incidents;
    this.t = t;
    this.onSelect = onSelect;
    /** The case picked last, marked in the list while it is in it. */
    this.selected = null;
    this.root = document.getElementById('incident-list');
    this.count = document.getElementById('list-count');
    this.status = document.getElementById('filter-status');
    this.priority = document.getElementById('filter-priority');
    this.overdue = document.getElementById('filter-overdue');
    fillOptions(this.status, Object.keys(STATUS_COLORS), (s) => t(`status.${s}`), t('filter.all'));
    fillOptions(this.priority, Object.keys(PRIORITY_RANK), (p) => t(`priority.${p}`), t('filter.all'));
    for (const input of [this.status, this.priority, this.overdue]) input.addEventListener('change', () => this.render());
    this.root.addEventListener('click', (event) => {
      const row = event.target.closest('[data-incident]');
      if (row) this.pick(Number(row.dataset.incident));
    });
  }

  /** Flies to case `id`, rings it on the map, marks its row and opens it. */
  pick(id) {
    const feature = this.incidents.features.get(id);
    if (feature) {
      this.map.flyTo({ center: feature.geometry.coordinates, zoom: Math.max(this.map.getZoom(), PICK_ZOOM), duration: 800 });
    }
    highlightIncident(this.map, id);
    this.selected = id;
    for (const li of this.root.querySelectorAll('[data-incident]')) li.classList.toggle('selected', Number(li.dataset.incident) === id);
    this.onSelect(id);
  }

  /** The incidents in view that pass the filters, sorted. */
  visible() {
    const bounds = this.map.getBounds();
    const status = this.status.value;
    const priority = this.priority.value;
    const overdueOnly = this.overdue.checked;
    const rows = [];
    for (const feature of this.incidents.values()) {
      const p = feature.properties;
      if (status && p.status !== status) continue;
      if (priority && p.priority !== priority) continue;
      if (overdueOnly && !p.overdue) continue;
      if (!bounds.contains(feature.geometry.coordinates)) continue;
      rows.push(p);
    }
    return rows.sort((a, b) => (b.overdue - a.overdue)
      || (PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority])
      || (b.id - a.id));
  }

  /**
   * Redraws the rows, keeping the element of every row whose case looks the same (its status, priority,
   * deadline state and category): a camera move or a live change then moves a few rows instead of
   * building 200 again, and the page's layout and style work stays small (BENCHMARKS.md, issue 22); a row
   * under the pointer stays the same element, so a click is not lost to a redraw.
   */
  render() {
    const rows = this.visible();
    const shown = rows.slice(0, MAX_ROWS);
    this.count.textContent = this.t('list.count', { shown: shown.length, total: rows.length });
    const kept = new Map();
    const nodes = shown.map((p) => {
      const look = `${p.status}|${p.priority}|${p.overdue ? 1 : 0}|${p.category}`;
      const old = this.rows?.get(p.id);
      const li = old && old.look === look ? old.li : this.row(p);
      li.classList.toggle('selected', p.id === this.selected);
      kept.set(p.id, { li, look });
      return li;
    });
    this.rows = kept;
    if (!rows.length) {
      const empty = document.createElement('li');
      empty.className = 'empty';
      empty.textContent = this.t('list.empty');
      nodes.push(empty);
    }
    const current = this.root.children;
    const same = current.length === nodes.length && nodes.every((node, i) => current[i] === node);
    if (!same) this.root.replaceChildren(...nodes);
  }

  row(p) {
    const t = this.t;
    const li = document.createElement('li');
    li.dataset.incident = p.id;
    li.tabIndex = 0;
    if (p.id === this.selected) li.classList.add('selected');
    const dot = document.createElement('span');
    dot.className = 'dot';
    dot.style.background = STATUS_COLORS[p.status] || '#6b7280';
    const title = document.createElement('span');
    title.className = 'what';
    title.textContent = `#${p.id} ${this.categoryName(p.category)}`;
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = `${t(`status.${p.status}`)} · ${t(`priority.${p.priority}`)}`;
    li.append(dot, title, meta);
    if (p.overdue) {
      const badge = document.createElement('span');
      badge.className = 'badge overdue';
      badge.textContent = t('overdue');
      li.append(badge);
    }
    li.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') this.pick(p.id);
    });
    return li;
  }
}

function fillOptions(select, values, label, allLabel) {
  const all = new Option(allLabel, '');
  select.replaceChildren(all, ...values.map((v) => new Option(label(v), v)));
}
