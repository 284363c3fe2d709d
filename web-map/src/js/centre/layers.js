// The command centre's sources and layers on top of the base map: grids and cameras from gridwatch's
// vector tiles, incidents (clustered), workers and their trails as GeoJSON fed by the websocket, the
// early warnings, and the replay overlay (the grids and cameras of a past moment, drawn instead of the
// live tiles while the timeline shows one). Each toggle in the side panel names a group of layers here.

import { FONT, FONT_BOLD } from '../common/basemap.js';
import { resourceUrl } from '../common/api.js';
import { addWorkerImages } from './legend.js';

export const STATUS_COLORS = {
  registered: '#6b7280', dispatched: '#1f6feb', accepted: '#0e9f9a', in_progress: '#e8890c', resolved: '#8250df',
};

const EMPTY = { type: 'FeatureCollection', features: [] };

/** Layer ids per toggle, in the order the toggles are listed. */
export const GROUPS = {
  grids: ['grid-fill', 'grid-line', 'grid-label'],
  cameras: ['camera-sector', 'camera-point'],
  trails: ['trail-line'],
  incidents: ['incident-cluster', 'incident-cluster-count', 'incident-overdue', 'incident-highlight', 'incident-point'],
  workers: ['worker-point'],
  warnings: ['warning-halo', 'warning-point', 'warning-mark'],
};

/** The replay overlay's layers standing in for a live group while the timeline shows a past moment. */
const REPLAY_GROUPS = {
  grids: ['replay-grid-line', 'replay-grid-label'],
  cameras: ['replay-camera-point'],
};
/** Live groups with nothing to say about a past moment: hidden during a replay. */
const LIVE_ONLY = new Set(['grids', 'cameras', 'warnings']);

/** Adds every source and layer of the view to a map whose base style has loaded. */
export function addLayers(map) {
  map.addSource('grids', { type: 'vector', url: resourceUrl('/tiles/grids.json'), promoteId: 'id' });
  map.addSource('cameras', { type: 'vector', url: resourceUrl('/tiles/cameras.json'), promoteId: 'id' });
  map.addSource('incidents', {
    type: 'geojson', data: EMPTY, cluster: true, clusterRadius: 40, clusterMaxZoom: 15,
    clusterProperties: { overdue: ['+', ['case', ['get', 'overdue'], 1, 0]] },
  });
  map.addSource('workers', { type: 'geojson', data: EMPTY });
  map.addSource('trails', { type: 'geojson', data: EMPTY });
  map.addSource('warnings', { type: 'geojson', data: EMPTY });
  map.addSource('replay-grids', { type: 'geojson', data: EMPTY });
  map.addSource('replay-cameras', { type: 'geojson', data: EMPTY });

  map.addLayer({
    id: 'grid-fill', type: 'fill', source: 'grids', 'source-layer': 'grids',
    paint: {
      'fill-color': ['interpolate', ['linear'], ['coalesce', ['get', 'open_cases'], 0],
        0, '#e6f4ea', 1, '#fff3c4', 3, '#fdc68a', 6, '#f4845f', 10, '#d62828'],
      'fill-opacity': 0.45,
    },
  });
  map.addLayer({
    id: 'grid-line', type: 'line', source: 'grids', 'source-layer': 'grids',
    paint: { 'line-color': '#3d5a80', 'line-width': ['interpolate', ['linear'], ['zoom'], 12, 0.6, 17, 2] },
  });
  map.addLayer({
    id: 'grid-label', type: 'symbol', source: 'grids', 'source-layer': 'grids', minzoom: 15,
    // Each tile draws its piece of a grid's label: wide padding keeps the repeats apart.
    layout: { 'text-field': ['get', 'code'], 'text-font': FONT, 'text-size': 11, 'text-padding': 80 },
    paint: { 'text-color': '#203040', 'text-halo-color': '#ffffff', 'text-halo-width': 1.2 },
  });
  // The grids of the boundary version in force at the replayed moment: dashed outlines over the map.
  map.addLayer({
    id: 'replay-grid-line', type: 'line', source: 'replay-grids', layout: { visibility: 'none' },
    paint: { 'line-color': '#9a3412', 'line-width': ['interpolate', ['linear'], ['zoom'], 12, 1, 17, 2.5], 'line-dasharray': [3, 2] },
  });
  map.addLayer({
    id: 'replay-grid-label', type: 'symbol', source: 'replay-grids', minzoom: 15,
    layout: { visibility: 'none', 'text-field': ['get', 'code'], 'text-font': FONT, 'text-size': 11 },
    paint: { 'text-color': '#9a3412', 'text-halo-color': '#ffffff', 'text-halo-width': 1.2 },
  });
  map.addLayer({
    id: 'camera-sector', type: 'fill', source: 'cameras', 'source-layer': 'camera_sectors',
    paint: {
      'fill-color': ['match', ['get', 'status'], 'online', '#2a9d8f', '#9ca3af'],
      'fill-opacity': 0.18, 'fill-outline-color': '#2a9d8f',
    },
  });
  map.addLayer({
    id: 'camera-point', type: 'circle', source: 'cameras', 'source-layer': 'cameras',
    paint: {
      'circle-radius': 4, 'circle-color': ['match', ['get', 'status'], 'online', '#2a9d8f', '#9ca3af'],
      'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1,
    },
  });
  map.addLayer({
    id: 'replay-camera-point', type: 'circle', source: 'replay-cameras', layout: { visibility: 'none' },
    paint: {
      'circle-radius': 4, 'circle-color': ['match', ['get', 'status'], 'online', '#2a9d8f', '#9ca3af'],
      'circle-stroke-color': '#9a3412', 'circle-stroke-width': 1,
    },
  });
  map.addLayer({
    id: 'trail-line', type: 'line', source: 'trails',
    layout: { 'line-cap': 'round', 'line-join': 'round' },
    paint: { 'line-color': '#5a4fcf', 'line-width': 2, 'line-opacity': 0.55 },
  });
  map.addLayer({
    id: 'incident-cluster', type: 'circle', source: 'incidents', filter: ['has', 'point_count'],
    paint: {
      'circle-color': '#1f6feb', 'circle-opacity': 0.85,
      'circle-radius': ['step', ['get', 'point_count'], 14, 10, 18, 100, 24, 1000, 30],
      'circle-stroke-color': ['case', ['>', ['get', 'overdue'], 0], '#d1242f', '#ffffff'],
      'circle-stroke-width': ['case', ['>', ['get', 'overdue'], 0], 3, 1.5],
    },
  });
  map.addLayer({
    id: 'incident-cluster-count', type: 'symbol', source: 'incidents', filter: ['has', 'point_count'],
    layout: { 'text-field': ['get', 'point_count_abbreviated'], 'text-font': FONT_BOLD, 'text-size': 12 },
    paint: { 'text-color': '#ffffff' },
  });
  map.addLayer({
    id: 'incident-overdue', type: 'circle', source: 'incidents',
    filter: ['all', ['!', ['has', 'point_count']], ['==', ['get', 'overdue'], true]],
    paint: { 'circle-radius': ['+', priorityRadius(), 4], 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#d1242f', 'circle-stroke-width': 2.5 },
  });
  // The case picked in the list or the search: a wide yellow ring under its dot (`highlightIncident`).
  map.addLayer({
    id: 'incident-highlight', type: 'circle', source: 'incidents',
    filter: ['all', ['!', ['has', 'point_count']], ['==', ['get', 'id'], -1]],
    paint: {
      'circle-radius': ['+', priorityRadius(), 9], 'circle-color': 'rgba(250,204,21,0.35)',
      'circle-stroke-color': '#eab308', 'circle-stroke-width': 3,
    },
  });
  map.addLayer({
    id: 'incident-point', type: 'circle', source: 'incidents', filter: ['!', ['has', 'point_count']],
    paint: {
      'circle-radius': priorityRadius(),
      'circle-color': ['match', ['get', 'status'], ...Object.entries(STATUS_COLORS).flat(), '#6b7280'],
      'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1.5,
    },
  });
  // A worker is a square with a person on it (legend.js), never a dot like a case.
  addWorkerImages(map);
  map.addLayer({
    id: 'worker-point', type: 'symbol', source: 'workers',
    layout: {
      'icon-image': ['match', ['get', 'duty'], 'on_duty', 'worker-on_duty', 'worker-off_duty'],
      'icon-allow-overlap': true, 'icon-ignore-placement': true,
    },
  });
  // An early warning: a wide ring that pulses (warnings.js animates it), a dot and a "!" on top.
  map.addLayer({
    id: 'warning-halo', type: 'circle', source: 'warnings',
    paint: {
      'circle-radius': 22, 'circle-color': '#f59e0b', 'circle-opacity': 0.18,
      'circle-stroke-color': '#d97706', 'circle-stroke-width': 2, 'circle-stroke-opacity': 0.8,
    },
  });
  map.addLayer({
    id: 'warning-point', type: 'circle', source: 'warnings',
    paint: {
      'circle-radius': 10, 'circle-color': ['match', ['get', 'kind'], 'repeat', '#b45309', '#d97706'],
      'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2,
    },
  });
  map.addLayer({
    id: 'warning-mark', type: 'symbol', source: 'warnings',
    layout: { 'text-field': '!', 'text-font': FONT_BOLD, 'text-size': 13, 'text-allow-overlap': true },
    paint: { 'text-color': '#ffffff' },
  });
}

/** Rings case `id` on the map (`null`: none); said on `<body data-highlight>` for tools and tests. */
export function highlightIncident(map, id) {
  const target = id == null ? -1 : Number(id);
  map.setFilter('incident-highlight', ['all', ['!', ['has', 'point_count']], ['==', ['get', 'id'], target]]);
  if (id == null) delete document.body.dataset.highlight;
  else document.body.dataset.highlight = String(target);
}

/** The radius of an incident's dot by priority, px. */
function priorityRadius() {
  return ['match', ['get', 'priority'], 'urgent', 9, 'high', 7.5, 'normal', 6, 5];
}

/** Shows or hides one toggle's layers. */
export function setGroupVisible(map, group, visible) {
  for (const id of GROUPS[group]) map.setLayoutProperty(id, 'visibility', visible ? 'visible' : 'none');
}

/**
 * Shows each group as its toggle says, live or (during a replay) from the replay overlay: the live
 * tiles of grids and cameras and the warnings say nothing about a past moment, so a replay hides them
 * and draws the overlay of that moment in their place.
 * @param {Set<string>} shown  the groups whose toggle is on
 */
export function applyVisibility(map, shown, replaying) {
  for (const group of Object.keys(GROUPS)) {
    setGroupVisible(map, group, shown.has(group) && !(replaying && LIVE_ONLY.has(group)));
  }
  for (const [group, ids] of Object.entries(REPLAY_GROUPS)) {
    const visible = replaying && shown.has(group) ? 'visible' : 'none';
    for (const id of ids) map.setLayoutProperty(id, 'visibility', visible);
  }
}

/** The vector sources to refresh when gridwatch says tiles of a tile set changed. */
const TILE_SOURCES = { grids: 'grids', cameras: 'cameras' };

/**
 * Reloads the tiles a `tiles_invalidated` message names, for the tile sets this view draws. Ranges are
 * expanded into tiles while they stay few; a larger change reloads the source's visible tiles.
 */
export function refreshTiles(map, message) {
  const source = TILE_SOURCES[message.layer];
  if (!source || !map.getSource(source)) return;
  const tiles = (message.tiles || []).map(([z, x, y]) => ({ z, x, y }));
  let total = tiles.length;
  for (const range of message.ranges || []) {
    const [x0, x1] = range.x;
    const [y0, y1] = range.y;
    total += (x1 - x0 + 1) * (y1 - y0 + 1);
    if (total > 512) {
      map.refreshTiles(source);
      return;
    }
    for (let x = x0; x <= x1; x += 1) for (let y = y0; y <= y1; y += 1) tiles.push({ z: range.z, x, y });
  }
  if (tiles.length) map.refreshTiles(source, tiles);
}
