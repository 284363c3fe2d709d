// The base map, entirely from gridwatch: vector tiles of the imported city (`/tiles/basemap.json`)
// and glyphs rendered by the server from the bundled Noto Sans (`/fonts/{fontstack}/{range}.pbf`).
// Chinese characters are drawn with the browser's own fonts (`localIdeographFontFamily`), so no CJK
// glyph ranges are ever fetched.

import { resourceUrl } from './api.js';

export const FONT = ['Noto Sans Regular'];
export const FONT_BOLD = ['Noto Sans Bold'];

/** A MapLibre style with the base layers; pages add their own sources and layers on top. */
export function baseStyle() {
  return {
    version: 8,
    glyphs: `${window.location.origin}/fonts/{fontstack}/{range}.pbf`,
    sources: {
      basemap: { type: 'vector', url: resourceUrl('/tiles/basemap.json') },
    },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': '#f3f1ec' } },
      {
        id: 'landuse', type: 'fill', source: 'basemap', 'source-layer': 'landuse',
        paint: { 'fill-color': ['match', ['get', 'kind'], ['park', 'grass', 'forest', 'wood', 'garden'], '#d8e8c8', '#e8e4da'] },
      },
      { id: 'water', type: 'fill', source: 'basemap', 'source-layer': 'water', paint: { 'fill-color': '#aad3df' } },
      {
        id: 'waterway', type: 'line', source: 'basemap', 'source-layer': 'waterway',
        paint: { 'line-color': '#aad3df', 'line-width': ['interpolate', ['linear'], ['zoom'], 12, 1, 18, 4] },
      },
      {
        id: 'building', type: 'fill', source: 'basemap', 'source-layer': 'building', minzoom: 14,
        paint: { 'fill-color': '#dedad2', 'fill-outline-color': '#c9c3b8' },
      },
      {
        id: 'road-casing', type: 'line', source: 'basemap', 'source-layer': 'road',
        filter: ['!', ['in', ['get', 'kind'], ['literal', ['rail', 'railway', 'tram', 'subway']]]],
        layout: { 'line-cap': 'round', 'line-join': 'round' },
        paint: { 'line-color': '#cfc8bb', 'line-width': ['interpolate', ['exponential', 1.5], ['zoom'], 12, 1.5, 18, 14] },
      },
      {
        id: 'road', type: 'line', source: 'basemap', 'source-layer': 'road',
        filter: ['!', ['in', ['get', 'kind'], ['literal', ['rail', 'railway', 'tram', 'subway']]]],
        layout: { 'line-cap': 'round', 'line-join': 'round' },
        paint: { 'line-color': '#ffffff', 'line-width': ['interpolate', ['exponential', 1.5], ['zoom'], 12, 0.8, 18, 11] },
      },
      {
        id: 'rail', type: 'line', source: 'basemap', 'source-layer': 'road',
        filter: ['in', ['get', 'kind'], ['literal', ['rail', 'railway', 'tram', 'subway']]],
        paint: { 'line-color': '#9a948a', 'line-width': 1.2, 'line-dasharray': [3, 2] },
      },
      {
        id: 'boundary', type: 'line', source: 'basemap', 'source-layer': 'boundary',
        paint: { 'line-color': '#8d7fa6', 'line-width': ['match', ['get', 'level'], 'street', 2.5, 'district', 3, 1.2], 'line-dasharray': [4, 2] },
      },
      {
        id: 'road-label', type: 'symbol', source: 'basemap', 'source-layer': 'road', minzoom: 15,
        layout: { 'symbol-placement': 'line', 'text-field': ['get', 'name'], 'text-font': FONT, 'text-size': 11 },
        paint: { 'text-color': '#5b5449', 'text-halo-color': '#ffffff', 'text-halo-width': 1.2 },
      },
      {
        id: 'place-label', type: 'symbol', source: 'basemap', 'source-layer': 'place',
        layout: { 'text-field': ['get', 'name'], 'text-font': FONT_BOLD, 'text-size': ['match', ['get', 'level'], 'district', 16, 'street', 14, 12] },
        paint: { 'text-color': '#4a3f63', 'text-halo-color': '#ffffff', 'text-halo-width': 1.5 },
      },
    ],
  };
}

/** Options every page passes to `new maplibregl.Map`. */
export const MAP_OPTIONS = {
  localIdeographFontFamily: "'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif",
  attributionControl: { compact: true, customAttribution: '© OpenStreetMap contributors (ODbL)' },
};

/** The bounds of the city's grids (from the grids layer's TileJSON): `[[w, s], [e, n]]`, or null. */
export async function cityBounds(api) {
  const tilejson = await api('/tiles/grids.json');
  const b = tilejson?.bounds;
  if (!Array.isArray(b) || b.length !== 4 || b[0] <= -180) return null;
  return [[b[0], b[1]], [b[2], b[3]]];
}
