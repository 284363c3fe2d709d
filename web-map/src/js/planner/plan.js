// The dry run and the save: "Preview" stores the edit as a draft plan and shows the server's diff
// (cells, households, buildings, workers and open cases moved, grids out of range); "Save" applies the
// draft. A refusal is shown by refusal.js.

import { api } from '../common/api.js';
import { el } from './dom.js';

/** Stores `body` as a draft of community `community` and fetches its diff: `{plan, diff}`. */
export async function draft(community, body) {
  const plan = await api(`/api/communities/${community}/plans`, { method: 'POST', body });
  const diff = await api(`/api/communities/${community}/plans/${plan.id}/diff`);
  return { plan, diff };
}

/** Applies draft `planId` of community `community`. */
export function applyDraft(community, planId) {
  return api(`/api/communities/${community}/plans/${planId}/apply`, { method: 'POST' });
}

function figure(key, value, t) {
  return [el('dt', {}, t(key)), el('dd', { 'data-figure': key.replace('diff.', '') }, value)];
}

function list(items, t) {
  return items.length === 0 ? el('p', {}, t('none')) : el('ul', {}, items.map((item) => el('li', {}, item)));
}

/** Shows a draft's diff. */
export function renderDiff(section, plan, diff, t) {
  const changed = diff.grids.map((g) =>
    t('diff.grid', { code: g.code, before: g.households_before, after: g.households_after, change: t(`change.${g.change}`) }));
  const warnings = (plan.warnings || []).map((w) => `${w.code}: ${w.households} (${w.reason?.kind ?? ''})`);
  const workers = diff.workers.map((w) => `${w.name} — ${w.grid} (${t(`change.${w.change}`)})`);
  const cases = diff.incidents.map((c) => `#${c.id}: ${c.from_grid} → ${c.to_grid}`);
  section.replaceChildren(
    el('h2', { 'data-plan': plan.id }, t('preview.title', { id: plan.id })),
    el('dl', {},
      figure('diff.cells', diff.cells_moved, t),
      figure('diff.households', diff.households_moved, t),
      figure('diff.buildings', diff.buildings_moved, t),
      figure('diff.workers', diff.workers.length, t),
      figure('diff.cases', diff.incidents.length, t)),
    list(changed, t),
    el('h3', {}, t('diff.out_of_range')), list(warnings, t),
    el('h3', {}, t('diff.workers')), list(workers, t),
    el('h3', {}, t('diff.cases')), list(cases, t),
    el('h3', {}, t('diff.without_worker')), list(diff.grids_without_worker, t),
  );
  section.dataset.state = 'preview';
}

/** Shows an applied plan. */
export function renderSaved(section, result, t) {
  section.replaceChildren(el('p', { class: 'saved' }, t('saved', { version: result.version?.id, cells: result.cells_moved })));
  section.dataset.state = 'saved';
}
