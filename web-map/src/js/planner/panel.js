// The side panel's grid list: each grid's code, households, cell count, the 100–150 check and the
// split/emptied flags, and the painting hint and change count above it.

import { gridColour } from './layers.js';
import { el } from './dom.js';

/** Fills the grid list from `stats` (see Assignment.stats); `target` is the target grid's index or null. */
export function renderGrids(tbody, stats, target, t) {
  const rows = stats.map((grid, index) => {
    const flags = [];
    if (grid.parts > 1) flags.push(el('span', { class: 'flag', 'data-flag': 'split' }, t('flag.split', { parts: grid.parts })));
    return el('tr', { 'data-code': grid.code, 'data-index': index, 'data-range': grid.range, 'data-split': grid.parts > 1, class: index === target ? 'target' : null },
      el('td', {}, swatch(gridColour(index))),
      el('td', { class: 'code', title: grid.name }, grid.code),
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
  node.textContent = target === null ? t('hint.pick') : t('hint.paint', { grid: assignment.grids[target].code });
}

/** The count of cells whose grid differs from the grids as loaded. */
export function renderChanges(node, moved, t) {
  node.textContent = moved === 0 ? t('no.changes') : t('changes', { n: moved });
  node.dataset.moved = moved;
}
