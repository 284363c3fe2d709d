// The dispatch list in the drawer: the worker a case is dispatched or reassigned to, picked from
// `GET /api/incidents/{id}/candidates` — on duty first, then nearest, then least loaded, as the server
// sorts them — each option saying duty, distance and open load. Until the list arrives (or if it
// cannot be read) the select holds every worker, the case's grid's first, so it is never empty.

import { api } from '../common/api.js';

/**
 * A `<select name="worker">` for case `id`, filled at once from `workers` and then from the server's
 * candidates; `data-ready` is set once they are shown.
 * @param {object} options
 * @param {(key: string, values?: object) => string} options.t
 * @param {number} options.id  the case
 * @param {number} options.gridId  the case's grid
 * @param {Array<object>} options.workers  every worker (names, grids)
 */
export function dispatchSelect({ t, id, gridId, workers }) {
  const select = document.createElement('select');
  select.name = 'worker';
  select.className = 'dispatch-list';
  const ofGrid = (w) => (w.grids || []).some((d) => d.grid_id === gridId);
  for (const worker of [...workers.filter(ofGrid), ...workers.filter((w) => !ofGrid(w))]) {
    select.append(new Option(`${worker.name} (#${worker.id})`, worker.id));
  }
  const touched = { value: false };
  select.addEventListener('change', () => { touched.value = true; });
  api(`/api/incidents/${id}/candidates`)
    .then((answer) => {
      const chosen = touched.value ? select.value : null;
      select.replaceChildren(...answer.candidates.map((c) => option(c, t)));
      if (chosen) select.value = chosen;
      select.dataset.ready = '1';
    })
    .catch(() => { select.dataset.ready = 'failed'; });
  return select;
}

/** One candidate as an option: name, duty, distance, open load, and whether the grid is theirs. */
function option(c, t) {
  const parts = [c.name, t(c.on_duty ? 'dispatch.on_duty' : 'dispatch.off_duty')];
  parts.push(c.distance_m == null ? t('dispatch.far_unknown') : distance(c.distance_m, t));
  parts.push(t('dispatch.load', { n: c.open_load }));
  if (c.responsible) parts.push(t('dispatch.responsible'));
  const opt = new Option(parts.join(' · '), c.id);
  opt.dataset.distance = c.distance_m == null ? '' : String(c.distance_m);
  opt.dataset.onDuty = String(c.on_duty);
  opt.dataset.load = String(c.open_load);
  return opt;
}

function distance(m, t) {
  return m < 1000 ? t('dispatch.m', { n: Math.round(m) }) : t('dispatch.km', { n: (m / 1000).toFixed(1) });
}
