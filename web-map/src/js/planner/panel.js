// The side panel's grid list: each grid's name and code, its grid worker, households, cell count, the
// 100–150 check and the split/emptied flags, and the painting hint and change count above it.

import { gridColour } from './layers.js';
import { el } from './dom.js';

/** Fills the grid list from `stats` (see Assignment.stats); `target` is the target grid's index or null;
 * `workerName(id)` is a worker's name (or null when unknown). Each row names the grid and its worker,
 * with the 15-digit code under the name. */
export function renderGrids(tbody, stats, target, t, workerName = () => null) {
  const rows = stats.map((grid, index) => {
    const flags = [];
    if (grid.parts > 1) flags.push(el('span', { class: 'flag', 'data-flag': 'split' }, t('flag.split', { parts: grid.parts })));
    const primary = grid.primary === null ? null : (workerName(grid.primary) ?? `#${grid.primary}`);
    const backups = grid.backups.length ? t('worker.backups', { n: grid.backups.length }) : null;
    return el('tr', { 'data-code': grid.code, 'data-index': index, 'data-range': grid.range, 'data-split': grid.parts > 1, class: index === target ? 'target' : null },
      el('td', {}, swatch(gridColour(index))),
      el('td', { class: 'grid' },
        el('span', { class: 'name' }, grid.name || grid.code),
        el('span', { class: 'code' }, grid.code)),
      el('td', { class: 'worker', 'data-worker': grid.primary ?? '' },
        primary ?? el('span', { class: 'none' }, t('worker.none')),
        backups ? el('span', { class: 'backups' }, backups) : null),
      el('td', { class: 'households' }, grid.households),
      el('td', { class: 'cells' }, grid.cells),
      el('td', {}, el('span', { class: 'check', 'data-range': grid.range }, t(`range.${grid.range}`)), flags));
  });
  tbody.replaceChildren(...rows);
}

/** A grid's colour chip. Its colour is set through the CSSOM: a `style` attribute is inline style, which the
 * pages' Content-Security-Policy (`style-src 'self'`) refuses. */
function swatch(colour) {
  const node = el('span', { class: 'swatch' });
  node.style.background = colour;
  return node;
}

/** The hint line: how to pick a target, or which grid is being painted. */
export function renderHint(node, target, assignment, t) {
  const grid = target === null ? null : assignment.grids[target];
  node.textContent = grid ? t('hint.paint', { grid: grid.name ? `${grid.name} (${grid.code})` : grid.code }) : t('hint.pick');
}

/** The count of cells whose grid differs from the grids as loaded. */
export function renderChanges(node, moved, t) {
  node.textContent = moved === 0 ? t('no.changes') : t('changes', { n: moved });
  node.dataset.moved = moved;
}
