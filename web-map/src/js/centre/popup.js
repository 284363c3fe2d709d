// A worker's popup: clicking a worker's symbol on the map reads `GET /api/workers/{id}` (their duty,
// open cases the user may see, last fix) and shows it beside the symbol; a case in it opens the drawer.

import * as maplibregl from '/static/vendor/maplibre-gl.mjs';
import { api } from '../common/api.js';

/**
 * Wires the `worker-point` layer's clicks to popups.
 * @param {object} options
 * @param {import('maplibre-gl').Map} options.map
 * @param {(key: string, values?: object) => string} options.t
 * @param {(id: number) => void} options.onCase  opens a case
 * @param {(err: unknown) => void} options.onProblem
 */
export function workerPopups({ map, t, onCase, onProblem }) {
  const popup = new maplibregl.Popup({ closeButton: true, maxWidth: '280px', className: 'worker-popup' });
  let asked = 0;
  map.on('click', 'worker-point', async (event) => {
    const feature = event.features[0];
    const id = Number(feature.properties.id);
    const ask = ++asked;
    const body = document.createElement('div');
    body.className = 'worker-card';
    body.dataset.worker = String(id);
    body.textContent = t('drawer.loading');
    popup.setLngLat(feature.geometry.coordinates).setDOMContent(body).addTo(map);
    try {
      const worker = await api(`/api/workers/${id}`);
      if (ask !== asked) return;
      fill(body, worker.properties, t, onCase);
    } catch (err) {
      if (ask === asked) popup.remove();
      onProblem(err);
    }
  });
  map.on('mouseenter', 'worker-point', () => { map.getCanvas().style.cursor = 'pointer'; });
  map.on('mouseleave', 'worker-point', () => { map.getCanvas().style.cursor = ''; });
  return popup;
}

function fill(body, p, t, onCase) {
  const el = (tag, text, cls) => {
    const node = document.createElement(tag);
    if (text != null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  };
  const name = el('strong', p.name, 'worker-name');
  const duty = el('div', `${t('popup.duty')}: ${t(`popup.duty.${p.duty}`)}`, 'worker-duty');
  duty.dataset.duty = p.duty;
  const fix = el('div', `${t('popup.last_fix')}: ${p.last_fix_age_s == null ? t('popup.no_fix') : age(p.last_fix_age_s, t)}`, 'worker-fix');
  const count = el('div', t('popup.open_cases', { n: p.open_load }), 'worker-open');
  count.dataset.openCount = String(p.open_load);
  const list = el('ul', null, 'worker-cases');
  for (const c of p.open_cases || []) {
    const li = el('li');
    const link = el('button', `#${c.id} ${t(`status.${c.status}`)}${c.description ? ` · ${c.description}` : ''}`);
    link.type = 'button';
    link.dataset.incident = String(c.id);
    link.addEventListener('click', () => onCase(c.id));
    li.append(link);
    list.append(li);
  }
  body.replaceChildren(name, duty, count, list, fix);
}

/** A fix's age in words: seconds, minutes, hours or days ago. */
function age(seconds, t) {
  if (seconds < 60) return t('popup.ago.s', { n: seconds });
  if (seconds < 3600) return t('popup.ago.m', { n: Math.floor(seconds / 60) });
  if (seconds < 86400) return t('popup.ago.h', { n: Math.floor(seconds / 3600) });
  return t('popup.ago.d', { n: Math.floor(seconds / 86400) });
}
