// The command centre's early warnings (研判预警): places where cases are building up faster than their
// history says they should. The set loads from `GET /api/warnings` after every snapshot (on start and
// after a reconnect) and follows the websocket's `warnings` layer: a `warning.raised` delta carries the
// warning (with `lat`, `lon`), a `warning.cleared` one `{key, at, grids}`. Each is a marker on the map
// (the `warnings` source, its layers in layers.js) with a pulsing ring around it, and a row in the side
// panel. The ring is a CSS animation on an HTML marker (`.warning-pulse`, still under reduced motion):
// animating the layer's paint would redraw the map all the time and it would never be idle. The popup
// and the row give the evidence — observed against expected cases in the window, the p-value, the cases
// (each opens the case drawer).

import * as maplibregl from '/static/vendor/maplibre-gl.mjs';
import { api } from '../common/api.js';
import { formatShort } from '../common/time.js';

/** Most rings and rows drawn at once. A burst can raise hundreds of warnings (5,000 cases registered in a
 * few minutes raised 727: BENCHMARKS.md); each ring is an animated DOM element, so past this many the
 * page spends its frames on style work. The newest are drawn; the count and the map's points stay whole. */
export const MAX_DRAWN = 50;

export class Warnings {
  /**
   * @param {object} options
   * @param {import('maplibre-gl').Map} options.map  with the `warnings` source
   * @param {(key: string, values?: object) => string} options.t
   * @param {(id: number) => void} options.onCase  a case of a warning was chosen (open the drawer)
   * @param {(err: unknown) => void} options.onProblem
   */
  constructor({ map, t, onCase, onProblem }) {
    this.map = map;
    this.t = t;
    this.onCase = onCase;
    this.onProblem = onProblem;
    /** key → warning, the active ones. */
    this.active = new Map();
    this.popup = null;
    /** key → the pulsing ring's marker. */
    this.rings = new Map();
    this.visible = true;
    this.section = document.getElementById('warnings');
    this.list = document.getElementById('warning-list');
    this.count = document.getElementById('warning-count');
    this.section.hidden = false;

    map.on('click', 'warning-point', (event) => this.open(event.features[0].properties.key));
    map.on('mouseenter', 'warning-point', () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', 'warning-point', () => { map.getCanvas().style.cursor = ''; });
    this.render();
  }

  /** Reads the active warnings again (after a snapshot: the page's starting point, or a reconnect). */
  async load() {
    try {
      const { warnings } = await api('/api/warnings');
      this.active = new Map(warnings.map((w) => [w.key, w]));
      this.render();
    } catch (err) {
      this.onProblem(err);
    }
  }

  /** A `delta` of the `warnings` layer. */
  delta(message) {
    const data = message.data || {};
    if (message.kind === 'warning.raised') this.active.set(data.key, data);
    else if (message.kind === 'warning.cleared') {
      this.active.delete(data.key);
      if (this.popup?.key === data.key) this.popup.remove();
    } else return;
    this.render();
  }

  render() {
    const shown = [...this.active.values()].filter((w) => Number.isFinite(w.lat) && Number.isFinite(w.lon));
    this.map.getSource('warnings')?.setData({
      type: 'FeatureCollection',
      features: shown.map((w) => ({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [w.lon, w.lat] },
        properties: { key: w.key, kind: w.kind, group: w.group, observed: w.observed, expected: w.expected },
      })),
    });
    this.count.textContent = String(this.active.size);
    this.section.dataset.open = String(this.active.size);
    document.body.dataset.warnings = String(this.active.size);
    this.list.replaceChildren();
    if (!this.active.size) {
      const li = document.createElement('li');
      li.className = 'empty';
      li.textContent = this.t('warning.none');
      this.list.append(li);
    }
    const newest = [...this.active.values()].sort((a, b) => String(b.raised_at).localeCompare(String(a.raised_at)) || a.key.localeCompare(b.key));
    for (const w of newest.slice(0, MAX_DRAWN)) {
      const li = document.createElement('li');
      li.dataset.warning = w.key;
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'what';
      button.textContent = `${this.t(`warning.kind.${w.kind}`)} · ${this.groupName(w.group)} · ${this.t('warning.observed_expected', { observed: w.observed, expected: expected(w.expected) })}`;
      button.addEventListener('click', () => {
        if (Number.isFinite(w.lon)) this.map.easeTo({ center: [w.lon, w.lat], zoom: Math.max(this.map.getZoom(), 15) });
        this.open(w.key);
      });
      li.append(button);
      this.list.append(li);
    }
    if (newest.length > MAX_DRAWN) this.list.append(more(this.t('list.more', { n: newest.length - MAX_DRAWN })));
    const ringed = new Set(newest.slice(0, MAX_DRAWN).map((w) => w.key));
    this.placeRings(shown.filter((w) => ringed.has(w.key)));
  }

  /** One pulsing ring per warning shown (pointer events pass through it to the map's marker). */
  placeRings(shown) {
    const keys = new Set(shown.map((w) => w.key));
    for (const [key, marker] of this.rings) {
      if (!keys.has(key)) {
        marker.remove();
        this.rings.delete(key);
      }
    }
    for (const w of shown) {
      if (this.rings.has(w.key)) continue;
      // MapLibre places the marker with `transform`: the ring inside it is what pulses.
      const element = document.createElement('div');
      element.className = 'warning-pulse';
      element.setAttribute('aria-hidden', 'true');
      element.append(document.createElement('span'));
      element.hidden = !this.visible;
      this.rings.set(w.key, new maplibregl.Marker({ element }).setLngLat([w.lon, w.lat]).addTo(this.map));
    }
  }

  /** Hides the rings (during a replay, which shows no warnings) or shows them again. */
  setVisible(visible) {
    this.visible = visible;
    for (const marker of this.rings.values()) marker.getElement().hidden = !visible;
  }

  groupName(group) {
    const key = `warning.group.${group}`;
    const name = this.t(key);
    return name === key ? group : name;
  }

  /** Opens the popup of one warning with its evidence. */
  open(key) {
    const w = this.active.get(key);
    if (!w || !Number.isFinite(w.lon)) return;
    this.popup?.remove();
    const popup = new maplibregl.Popup({ closeButton: true, maxWidth: '320px', className: 'warning-popup' })
      .setLngLat([w.lon, w.lat])
      .setDOMContent(this.evidence(w))
      .addTo(this.map);
    popup.key = key;
    popup.on('close', () => {
      if (this.popup === popup) this.popup = null;
    });
    this.popup = popup;
  }

  /** A warning's evidence as a small block: what, observed vs expected, p-value, window, cases. */
  evidence(w) {
    const t = this.t;
    const root = document.createElement('div');
    root.className = 'warning-evidence';
    root.dataset.warning = w.key;
    const title = document.createElement('h3');
    title.textContent = `${t('warning.title')} · ${t(`warning.kind.${w.kind}`)}`;
    const facts = document.createElement('dl');
    const fact = (name, value, attr) => {
      const dt = document.createElement('dt');
      dt.textContent = t(name);
      const dd = document.createElement('dd');
      dd.textContent = value;
      if (attr) dd.dataset.fact = attr;
      facts.append(dt, dd);
    };
    fact('warning.group', this.groupName(w.group));
    fact('warning.observed', String(w.observed), 'observed');
    fact('warning.expected', expected(w.expected), 'expected');
    fact('warning.p_value', pValue(w.p_value), 'p_value');
    fact('warning.window', `${this.time(w.window_start)} – ${this.time(w.window_end)}`);
    fact('warning.raised_at', this.time(w.raised_at));
    if (w.grids?.length) fact('warning.grids', w.grids.join(', '));
    const cases = document.createElement('div');
    cases.className = 'warning-cases';
    const label = document.createElement('span');
    label.textContent = `${t('warning.cases')}: `;
    cases.append(label);
    for (const id of w.cases || []) {
      const link = document.createElement('button');
      link.type = 'button';
      link.className = 'link';
      link.dataset.case = String(id);
      link.textContent = `#${id}`;
      link.addEventListener('click', () => this.onCase(id));
      cases.append(link, ' ');
    }
    root.append(title, facts, cases);
    return root;
  }

  time(value) {
    const ms = Date.parse(value);
    return Number.isFinite(ms) ? formatShort(new Date(ms).toISOString(), this.t.lang) : '';
  }
}

/** Expected cases, to two places (a fraction of a case is the usual answer). */
function expected(value) {
  return Number(value).toFixed(2);
}

/** A p-value in scientific notation below 0.001, else to three places. */
function pValue(value) {
  const p = Number(value);
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}

/** The last row of a list cut at [`MAX_DRAWN`]. */
export function more(label) {
  const li = document.createElement('li');
  li.className = 'empty more';
  li.textContent = label;
  return li;
}
