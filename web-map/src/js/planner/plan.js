// The dry run and the save: "Preview" stores the edit as a draft plan and shows the server's diff
// (cells, households, buildings, workers and open cases moved, grids out of range); a refusal (422)
// lists its problems and outlines the cells it names; "Save" applies the draft, and a 409 `plan-stale`
// says what to do.

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

/** Shows an API error: its title and detail, and for a refused plan each problem with the cells and grids it names. */
export function renderProblem(section, problem, t, action = null) {
  const problems = Array.isArray(problem.body?.problems) ? problem.body.problems : [];
  const items = problems.map((p) => el('li', { 'data-kind': p.kind },
    el('strong', {}, p.message || p.kind),
    p.grids?.length ? el('div', {}, `${t('problem.grids')}: ${p.grids.join(', ')}`) : null,
    p.cells?.length ? el('div', { class: 'cells' }, `${t('problem.cells')}: ${p.cells.join(', ')}`) : null,
    p.count > Math.max(p.cells?.length || 0, p.grids?.length || 0) ? el('div', {}, t('problem.more', { count: p.count })) : null));
  const heading = problem.status === 422 ? t('refused') : `${t('error')} ${problem.status || ''}`;
  const parts = [
    el('h2', { class: 'problem' }, heading),
    el('p', { class: 'problem', 'data-type': problem.type }, [problem.title, problem.detail].filter(Boolean).join(': ')),
    items.length ? el('ul', { class: 'problem' }, items) : null,
    action,
  ];
  section.replaceChildren(...parts.filter(Boolean));
  section.dataset.state = 'problem';
}

/** The cells a refusal names (to outline on the map). */
export function problemCells(problem) {
  const problems = Array.isArray(problem.body?.problems) ? problem.body.problems : [];
  return problems.flatMap((p) => p.cells || []);
}

/** Shows an applied plan. */
export function renderSaved(section, result, t) {
  section.replaceChildren(el('p', { class: 'saved' }, t('saved', { version: result.version?.id, cells: result.cells_moved })));
  section.dataset.state = 'saved';
}
