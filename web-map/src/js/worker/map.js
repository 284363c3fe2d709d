// The worker's map: the base map, my cases and the nearby ones as circles (mine larger, coloured by
// status), and my position with its accuracy. Sources: `cases` (Points with `id`, `status`, `mine`)
// and `me`.

import * as maplibregl from '/static/vendor/maplibre-gl.mjs';
import { api } from '../common/api.js';
import { baseStyle, cityBounds, MAP_OPTIONS } from '../common/basemap.js';

const EMPTY = { type: 'FeatureCollection', features: [] };
const STATUS_COLOURS = [
  'match', ['get', 'status'],
  'dispatched', '#c4320a',
  'accepted', '#b54708',
  'in_progress', '#1f6feb',
  'resolved', '#1a7f37',
  '#667085',
];

function addLayers(map) {
  map.addSource('cases', { type: 'geojson', data: EMPTY });
  map.addSource('me', { type: 'geojson', data: EMPTY });
  map.addLayer({
    id: 'me-accuracy', type: 'circle', source: 'me',
    paint: {
      'circle-color': '#1f6feb', 'circle-opacity': 0.12,
      'circle-radius': ['interpolate', ['exponential', 2], ['zoom'], 12, ['/', ['get', 'accuracy_m'], 8], 18, ['*', ['get', 'accuracy_m'], 8]],
    },
  });
  map.addLayer({
    id: 'cases', type: 'circle', source: 'cases',
    paint: {
      'circle-color': STATUS_COLOURS,
      'circle-radius': ['case', ['get', 'mine'], 9, 6],
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': ['case', ['get', 'mine'], 2.5, 1.5],
      'circle-opacity': ['case', ['get', 'mine'], 1, 0.75],
    },
  });
  map.addLayer({
    id: 'me', type: 'circle', source: 'me',
    paint: { 'circle-color': '#1f6feb', 'circle-radius': 7, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 3 },
  });
}

/** Creates the map in `container`; `onPick(id)` when a case's circle is tapped, `onProblem(problem)`;
 * `transformRequest` sees every resource the map asks for (the offline cache records the tiles). */
export function createMap(container, { onPick, onProblem, transformRequest }) {
  const map = new maplibregl.Map({ container, style: baseStyle(), center: [113.11, 36.19], zoom: 14, transformRequest, ...MAP_OPTIONS });
  let centred = false;
  const pending = {};
  const setData = (source, data) => {
    if (map.getSource(source)) map.getSource(source).setData(data);
    else pending[source] = data;
  };
  map.on('load', () => {
    addLayers(map);
    for (const [source, data] of Object.entries(pending)) map.getSource(source).setData(data);
  });
  map.on('click', 'cases', (event) => {
    const id = event.features?.[0]?.properties?.id;
    if (id !== undefined) onPick(Number(id));
  });
  cityBounds(api)
    .then((bounds) => {
      if (bounds && !centred) map.fitBounds(bounds, { padding: 20, animate: false });
    })
    .catch(onProblem);

  return {
    map,
    /** Shows the cases (`[{id, lat, lon, status}]`) with `mine` telling mine apart. */
    showCases(mine, nearby) {
      const feature = (c, isMine) => ({
        type: 'Feature', id: c.id,
        geometry: { type: 'Point', coordinates: [c.lon, c.lat] },
        properties: { id: c.id, status: c.status, mine: isMine },
      });
      setData('cases', { type: 'FeatureCollection', features: [...mine.map((c) => feature(c, true)), ...nearby.map((c) => feature(c, false))] });
    },
    /** Shows my position; the first one centres the map on me. */
    showMe(fix) {
      setData('me', {
        type: 'FeatureCollection',
        features: [{ type: 'Feature', geometry: { type: 'Point', coordinates: [fix.lon, fix.lat] }, properties: { accuracy_m: fix.accuracy_m || 0 } }],
      });
      if (!centred) {
        centred = true;
        map.jumpTo({ center: [fix.lon, fix.lat], zoom: 16 });
      }
    },
    /** The map's centre, `{lat, lon}`. */
    centre() {
      const { lat, lng } = map.getCenter();
      return { lat, lon: lng };
    },
    /** Centres the map on a case. */
    focus(c) {
      map.easeTo({ center: [c.lon, c.lat], zoom: Math.max(map.getZoom(), 16) });
    },
  };
}
