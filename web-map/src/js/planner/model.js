// The planner's working copy of one community's assignment of H3 cells to grids: which grid owns each
// cell, paint strokes (moves of cells to a target grid) with undo and redo, and each grid's figures
// (households from the buildings in its cells, cell count, the 100–150 check, contiguity).

import { gridDisk } from '/static/vendor/h3-js.es.js';

export const MIN_HOUSEHOLDS = 100;
export const MAX_HOUSEHOLDS = 150;

/** The 100–150 check of a grid: `empty`, `low`, `high` or `ok`. */
export function rangeState(cells, households) {
  if (cells === 0) return 'empty';
  if (households < MIN_HOUSEHOLDS) return 'low';
  if (households > MAX_HOUSEHOLDS) return 'high';
  return 'ok';
}

export class Assignment {
  /**
   * @param {{code: string, name: string, id: number, cells: string[], primary_worker_id?: number|null,
   *   backup_worker_ids?: number[]}[]} grids  the grids as they are (`/api/grids` properties)
   * @param {Map<string, number>} householdsByCell  households of the buildings in each cell
   */
  constructor(grids, householdsByCell) {
    this.grids = grids.map(({ code, name, id, primary_worker_id: primary = null, backup_worker_ids: backups = [] }) =>
      ({ code, name, id, primary, backups: backups || [] }));
    this.households = householdsByCell;
    this.owner = new Map();
    grids.forEach((grid, index) => grid.cells.forEach((cell) => this.owner.set(cell, index)));
    this.original = new Map(this.owner);
    this.done = [];
    this.undone = [];
    this.stroke = null;
    this.revision = 0;
  }

  /** The index of the grid owning `cell`, or undefined when the cell is outside the community. */
  gridOf(cell) {
    return this.owner.get(cell);
  }

  householdsOf(cell) {
    return this.households.get(cell) || 0;
  }

  /** Starts a paint stroke towards grid `target` (an index). */
  beginStroke(target) {
    this.stroke = { target, moves: [] };
  }

  /** Moves `cell` to the stroke's target; returns whether anything changed. */
  paint(cell) {
    if (!this.stroke) return false;
    const from = this.owner.get(cell);
    if (from === undefined || from === this.stroke.target) return false;
    this.owner.set(cell, this.stroke.target);
    this.stroke.moves.push({ cell, from, to: this.stroke.target });
    this.revision += 1;
    return true;
  }

  /** Ends the stroke; one that moved cells becomes one undo step (and clears the redo stack). */
  endStroke() {
    const stroke = this.stroke;
    this.stroke = null;
    if (!stroke || stroke.moves.length === 0) return false;
    this.done.push(stroke.moves);
    this.undone = [];
    return true;
  }

  canUndo() {
    return this.done.length > 0;
  }

  canRedo() {
    return this.undone.length > 0;
  }

  undo() {
    const moves = this.done.pop();
    if (!moves) return false;
    for (let i = moves.length - 1; i >= 0; i -= 1) this.owner.set(moves[i].cell, moves[i].from);
    this.undone.push(moves);
    this.revision += 1;
    return true;
  }

  redo() {
    const moves = this.undone.pop();
    if (!moves) return false;
    for (const move of moves) this.owner.set(move.cell, move.to);
    this.done.push(moves);
    this.revision += 1;
    return true;
  }

  /** How many cells are in another grid than when loaded. */
  movedCount() {
    let moved = 0;
    for (const [cell, index] of this.owner) if (this.original.get(cell) !== index) moved += 1;
    return moved;
  }

  /** The cells of each grid, by index. */
  cellsByGrid() {
    const cells = this.grids.map(() => []);
    for (const [cell, index] of this.owner) cells[index].push(cell);
    return cells;
  }

  /** Each grid's figures: `{code, name, id, primary, backups, households, cells, range, parts}` (`parts` > 1: split). */
  stats() {
    return this.cellsByGrid().map((cells, index) => {
      const households = cells.reduce((sum, cell) => sum + this.householdsOf(cell), 0);
      return {
        ...this.grids[index],
        households,
        cells: cells.length,
        range: rangeState(cells.length, households),
        parts: this.components(cells, index),
      };
    });
  }

  /** How many pieces grid `index`'s cells form, connected through cell edges. */
  components(cells, index) {
    const seen = new Set();
    let parts = 0;
    for (const start of cells) {
      if (seen.has(start)) continue;
      parts += 1;
      seen.add(start);
      const queue = [start];
      while (queue.length > 0) {
        for (const next of gridDisk(queue.pop(), 1)) {
          if (!seen.has(next) && this.owner.get(next) === index) {
            seen.add(next);
            queue.push(next);
          }
        }
      }
    }
    return parts;
  }

  /** The body of `POST /api/communities/{id}/plans`: every grid that keeps cells (others are retired). */
  planBody(note) {
    const grids = this.cellsByGrid()
      .map((cells, index) => ({ code: this.grids[index].code, cells: cells.sort() }))
      .filter((grid) => grid.cells.length > 0);
    return note ? { grids, note } : { grids };
  }
}
