// Painting on the map: with a target grid chosen, pressing and dragging over cells moves them to it
// (one stroke per press, the map does not pan meanwhile); without a target, or with Shift held, a press
// on a cell picks its grid as the target. Cells skipped by a fast drag are filled in along the way.

import { getResolution, gridPathCells, latLngToCell } from '/static/vendor/h3-js.es.js';

export class Painter {
  /**
   * @param {object} map  the MapLibre map
   * @param {object} handlers  `pick(index)` a grid was picked, `painted()` cells moved, `ended()` a stroke ended
   */
  constructor(map, handlers) {
    this.map = map;
    this.handlers = handlers;
    this.assignment = null;
    this.resolution = null;
    this.target = null;
    this.lastCell = null;
    map.boxZoom.disable();
    map.on('mousedown', (event) => this.pressed(event));
    map.on('touchstart', (event) => this.pressed(event));
    map.on('mousemove', (event) => this.moved(event));
    map.on('touchmove', (event) => this.moved(event));
    window.addEventListener('mouseup', () => this.released());
    window.addEventListener('touchend', () => this.released());
  }

  /** Paints into `assignment` from now on (no target). */
  setAssignment(assignment) {
    this.assignment = assignment;
    const cell = assignment.owner.keys().next().value;
    this.resolution = cell ? getResolution(cell) : null;
    this.setTarget(null);
  }

  /** The grid painted into (an index), or null: then the map pans as usual. */
  setTarget(index) {
    this.target = index;
    if (index === null) this.map.dragPan.enable();
    else this.map.dragPan.disable();
    this.map.getContainer().classList.toggle('map-painting', index !== null);
  }

  /** The community's cell under a screen point, or null. */
  cellAt(point) {
    if (!this.assignment || this.resolution === null) return null;
    const { lng, lat } = this.map.unproject(point);
    const cell = latLngToCell(lat, lng, this.resolution);
    return this.assignment.gridOf(cell) === undefined ? null : cell;
  }

  pressed(event) {
    const cell = this.cellAt(event.point);
    if (!cell) return;
    if (this.target === null || event.originalEvent.shiftKey) {
      this.handlers.pick(this.assignment.gridOf(cell));
      return;
    }
    event.preventDefault();
    this.assignment.beginStroke(this.target);
    this.lastCell = null;
    this.paintAt(event.point);
  }

  moved(event) {
    if (this.assignment?.stroke) this.paintAt(event.point);
  }

  released() {
    if (!this.assignment?.stroke) return;
    this.assignment.endStroke();
    this.lastCell = null;
    this.handlers.ended();
  }

  /** Paints the cell under `point`, and the cells on the way from the last one painted. */
  paintAt(point) {
    const cell = this.cellAt(point);
    if (!cell) return;
    let path = [cell];
    if (this.lastCell && this.lastCell !== cell) {
      try {
        path = gridPathCells(this.lastCell, cell);
      } catch {
        path = [cell];
      }
    }
    this.lastCell = cell;
    let changed = false;
    for (const step of path) changed = this.assignment.paint(step) || changed;
    if (changed) this.handlers.painted();
  }
}
