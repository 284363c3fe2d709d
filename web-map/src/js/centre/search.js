// The search box (检索): a case number, words of a case's description (Chinese too), a grid code or
// name, a place's name. Asks `GET /api/search` as the user types (after a pause) or on Enter, lists
// what the user may see, and a picked result flies the map to it — a case is ringed and opened in the
// drawer, a grid or place fitted into view.

import { api, Problem } from '../common/api.js';
import { highlightIncident } from './layers.js';
import { PICK_ZOOM } from './list.js';

const PAUSE_MS = 300;

export class SearchBox {
  /**
   * @param {object} options
   * @param {import('maplibre-gl').Map} options.map
   * @param {(key: string, values?: object) => string} options.t
   * @param {(code: string) => string} options.categoryName
   * @param {(id: number) => void} options.onCase  opens a case in the drawer
   * @param {object} [options.padding]  the map's padding for what the side panel covers
   */
  constructor({ map, t, categoryName, onCase, padding }) {
    this.map = map;
    this.t = t;
    this.categoryName = categoryName;
    this.onCase = onCase;
    this.padding = padding;
    this.input = document.getElementById('search-input');
    this.results = document.getElementById('search-results');
    this.timer = 0;
    this.asked = 0;
    this.input.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.run(), PAUSE_MS);
    });
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        clearTimeout(this.timer);
        this.run();
      } else if (event.key === 'Escape') {
        this.close();
      }
    });
    this.results.addEventListener('click', (event) => {
      const row = event.target.closest('[data-result]');
      if (row) this.pick(row.result);
    });
  }

  close() {
    this.results.hidden = true;
    this.results.replaceChildren();
  }

  async run() {
    const q = this.input.value.trim();
    const ask = ++this.asked;
    if (!q) {
      this.close();
      return;
    }
    try {
      const found = await api(`/api/search?q=${encodeURIComponent(q)}&limit=10`);
      if (ask === this.asked) this.show(found);
    } catch (err) {
      if (ask === this.asked) this.showProblem(err);
    }
  }

  show(found) {
    const t = this.t;
    const rows = [];
    for (const c of found.cases) {
      rows.push(this.row('case', c, `#${c.id} ${this.categoryName(c.category)} · ${t(`status.${c.status}`)}`, c.description));
    }
    for (const g of found.grids) rows.push(this.row('grid', g, `${t('search.grid')} ${g.code}`, g.name));
    for (const p of found.places) rows.push(this.row('place', p, p.name, t(`level.${p.kind}`)));
    if (!rows.length) {
      const empty = document.createElement('li');
      empty.className = 'empty';
      empty.textContent = t('search.none');
      rows.push(empty);
    }
    this.results.replaceChildren(...rows);
    this.results.hidden = false;
    this.results.dataset.query = found.query;
  }

  row(kind, result, title, detail) {
    const li = document.createElement('li');
    li.dataset.result = kind;
    li.dataset.id = String(result.id);
    li.result = { kind, ...result };
    li.tabIndex = 0;
    const strong = document.createElement('strong');
    strong.textContent = title;
    li.append(strong);
    if (detail) {
      const span = document.createElement('span');
      span.textContent = detail;
      li.append(span);
    }
    li.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') this.pick(li.result);
    });
    return li;
  }

  showProblem(err) {
    const li = document.createElement('li');
    li.className = 'problem';
    li.setAttribute('role', 'alert');
    li.textContent = err instanceof Problem ? `${err.status || ''} ${err.detail || err.title || this.t('error.title')}`.trim() : String(err?.message || err);
    this.results.replaceChildren(li);
    this.results.hidden = false;
  }

  /** Flies to a result; a case is ringed and opened. */
  pick(result) {
    this.close();
    if (result.kind === 'case') {
      this.map.flyTo({ center: [result.lon, result.lat], zoom: Math.max(this.map.getZoom(), PICK_ZOOM), duration: 800 });
      highlightIncident(this.map, result.id);
      this.onCase(result.id);
    } else if (result.bbox) {
      const [w, s, e, n] = result.bbox;
      this.map.fitBounds([[w, s], [e, n]], { padding: this.padding, maxZoom: 18, duration: 800 });
    } else if (result.center) {
      this.map.flyTo({ center: result.center, zoom: 16, duration: 800 });
    }
  }
}
