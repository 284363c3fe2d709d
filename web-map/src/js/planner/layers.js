// The planner's map layers: every cell of the community as an H3 hexagon coloured by its grid (with its
// households as a label; a painted cell's grid and colour are its feature state), each grid's outline
// (the target grid's drawn bold), and the cells a refused plan named.

import { cellToBoundary, cellsToMultiPolygon } from '/static/vendor/h3-js.es.js';
import { FONT_BOLD } from '../common/basemap.js';

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#393b79', '#637939'];
const EMPTY = { type: 'FeatureCollection', features: [] };

/** The colour of grid `index`. */
export function gridColour(index) {
  return PALETTE[index % PALETTE.length];
}

const hexagons = new Map();

/** A cell's hexagon as GeoJSON (kept: cells are redrawn on every stroke). */
function hexagon(cell) {
  let geometry = hexagons.get(cell);
  if (!geometry) {
    geometry = { type: 'Polygon', coordinates: [cellToBoundary(cell, true)] };
    hexagons.set(cell, geometry);
  }
  return geometry;
}

/** Adds the planner's sources and layers above the base map. */
export function addLayers(map) {
  map.addSource('planner-cells', { type: 'geojson', data: EMPTY });
  map.addSource('planner-outlines', { type: 'geojson', data: EMPTY });
  map.addSource('planner-problems', { type: 'geojson', data: EMPTY });
  map.addLayer({
    id: 'planner-cells', type: 'fill', source: 'planner-cells',
    paint: { 'fill-color': ['coalesce', ['feature-state', 'colour'], ['get', 'colour']], 'fill-opacity': ['case', ['>', ['get', 'households'], 0], 0.55, 0.28] },
  });
  map.addLayer({
    id: 'planner-cell-edges', type: 'line', source: 'planner-cells', minzoom: 16,
    paint: { 'line-color': '#ffffff', 'line-width': 0.5, 'line-opacity': 0.6 },
  });
  map.addLayer({
    id: 'planner-outlines', type: 'line', source: 'planner-outlines',
    paint: {
      'line-color': ['get', 'colour'],
      'line-width': ['case', ['get', 'target'], 4, 1.6],
    },
  });
  map.addLayer({
    id: 'planner-problems', type: 'line', source: 'planner-problems',
    paint: { 'line-color': '#c4320a', 'line-width': 3, 'line-dasharray': [1, 1] },
  });
  map.addLayer({
    id: 'planner-households', type: 'symbol', source: 'planner-cells', minzoom: 16,
    filter: ['>', ['get', 'households'], 0],
    layout: { 'text-field': ['to-string', ['get', 'households']], 'text-font': FONT_BOLD, 'text-size': 12, 'text-allow-overlap': true },
    paint: { 'text-color': '#1f2430', 'text-halo-color': '#ffffff', 'text-halo-width': 1.5 },
  });
}

/** Each drawn cell's feature id and the grid (index) it is drawn in. */
const drawn = new Map();

/** Draws every cell of the assignment afresh (a community was loaded). */
export function showCells(map, assignment) {
  map.removeFeatureState({ source: 'planner-cells' });
  drawn.clear();
  const features = [];
  for (const [cell, index] of assignment.owner) {
    const id = features.length;
    drawn.set(cell, { id, index });
    features.push({
      type: 'Feature', id,
      geometry: hexagon(cell),
      properties: { cell, grid: assignment.grids[index].code, colour: gridColour(index), households: assignment.householdsOf(cell) },
    });
  }
  map.getSource('planner-cells').setData({ type: 'FeatureCollection', features });
}

/** Recolours the cells whose grid changed since drawn (feature state: no re-tiling while painting). */
export function recolourCells(map, assignment) {
  for (const [cell, index] of assignment.owner) {
    const shown = drawn.get(cell);
    if (!shown || shown.index === index) continue;
    shown.index = index;
    map.setFeatureState({ source: 'planner-cells', id: shown.id }, { grid: assignment.grids[index].code, colour: gridColour(index) });
  }
}

/** Redraws the grid outlines; the grid at index `target` (if any) is drawn bold. */
export function showOutlines(map, assignment, target) {
  const features = assignment.cellsByGrid().flatMap((cells, index) => {
    if (cells.length === 0) return [];
    return [{
      type: 'Feature',
      geometry: { type: 'MultiPolygon', coordinates: cellsToMultiPolygon(cells, true) },
      properties: { grid: assignment.grids[index].code, colour: gridColour(index), target: index === target },
    }];
  });
  map.getSource('planner-outlines').setData({ type: 'FeatureCollection', features });
}

/** Outlines the cells a refused plan named (none clears them). */
export function showProblemCells(map, cells) {
  const features = cells.map((cell) => ({ type: 'Feature', geometry: hexagon(cell), properties: { cell } }));
  map.getSource('planner-problems').setData({ type: 'FeatureCollection', features });
}

/** The bounds `[[w, s], [e, n]]` of some GeoJSON features, or null. */
export function featureBounds(features) {
  const box = [Infinity, Infinity, -Infinity, -Infinity];
  const visit = (c) => {
    if (typeof c[0] === 'number') {
      box[0] = Math.min(box[0], c[0]);
      box[1] = Math.min(box[1], c[1]);
      box[2] = Math.max(box[2], c[0]);
      box[3] = Math.max(box[3], c[1]);
    } else {
      c.forEach(visit);
    }
  };
  features.forEach((f) => f.geometry && visit(f.geometry.coordinates));
  return box[0] === Infinity ? null : [[box[0], box[1]], [box[2], box[3]]];
}
