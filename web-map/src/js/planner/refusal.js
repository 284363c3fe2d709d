// A refused plan, said once and in the page's language. The server's problem+json carries a stable
// `code` (a plan problem's `kind`, or `stale`, `applied`, `bad_name`, `no_free_code`), the figures of its
// message and the `cells` it names (H3 strings); each of `problems` has `kind`, `count`, `grids` and
// `values`. The page words every line from those and the planner's strings, never from the English
// `detail`, and outlines the cells on the map instead of printing their 15-character indexes.

import { el } from './dom.js';

/** The plan problem kinds the strings table words (`refusal.<kind>`). */
const KINDS = ['invalid_cell', 'unknown_grid', 'duplicate_grid', 'empty_grid', 'overlap', 'foreign_cell', 'gap', 'split_grid', 'stale'];

/** The cells a refusal names (to outline on the map): its `cells`, or its problems' cells. */
export function problemCells(problem) {
  const body = problem.body || {};
  if (Array.isArray(body.cells)) return body.cells;
  const problems = Array.isArray(body.problems) ? body.problems : [];
  return [...new Set(problems.flatMap((p) => p.cells || []))];
}

/** One plan problem as a sentence: `label(code)` names a grid (its name and code). */
function sentence(p, t, label) {
  if (p.kind === 'stale') return t('stale');
  const grids = (p.grids || []).map(label).join(t('list.separator'));
  const parts = Object.entries(p.values?.parts || {})
    .map(([code, n]) => t('refusal.part', { grid: label(code), n }))
    .join(t('list.separator'));
  const values = { count: p.count, grids, parts, resolution: p.values?.resolution ?? '' };
  return KINDS.includes(p.kind) ? t(`refusal.${p.kind}`, values) : t('refusal.unknown');
}

/** The lines of a refusal that is not a list of plan problems, by its `code` or its status. */
function otherLines(problem, t) {
  const body = problem.body || {};
  switch (body.code) {
    case 'applied': return [t('refusal.applied', { version: body.version ?? '' })];
    case 'bad_name': return [t('refusal.bad_name', { max: body.max_chars ?? 200 })];
    case 'no_free_code': return [t('refusal.no_free_code')];
    default: break;
  }
  if (problem.status === 0) return [t('refusal.offline')];
  if (problem.status === 401) return [t('error.token')];
  if (problem.status === 403) return [t('refusal.forbidden')];
  if (problem.status === 404) return [t('refusal.not_found')];
  if (problem.status >= 500) return [t('refusal.server')];
  return [t('refusal.unknown')];
}

/**
 * Shows an API error in `section`, once: a heading, one line per problem in the page's language, how
 * many cells are outlined on the map, and `action` (a button, a hint) when given.
 */
export function renderRefusal(section, problem, t, { label = (code) => code, action = null, said = [] } = {}) {
  const body = problem.body || {};
  // `said`: kinds the action already words (a stale plan's "reload" hint), not repeated in the list.
  const problems = (Array.isArray(body.problems) ? body.problems : []).filter((p) => !said.includes(p.kind));
  let lines = problems.map((p) => el('li', { 'data-kind': p.kind }, sentence(p, t, label)));
  if (!lines.length && !said.length) lines = otherLines(problem, t).map((line) => el('li', {}, line));
  const cells = problemCells(problem);
  const heading = problem.status === 422 ? t('refused') : t('refused.status', { status: problem.status || '' });
  section.replaceChildren(...[
    el('p', { class: 'problem heading', 'data-type': problem.type, 'data-code': body.code ?? '' }, heading),
    lines.length ? el('ul', { class: 'problem' }, lines) : null,
    cells.length ? el('p', { class: 'problem-cells', 'data-cells': cells.length }, t('refusal.outlined', { n: cells.length })) : null,
    action,
  ].filter(Boolean));
  section.dataset.state = 'problem';
}
