// The base map with no signal, from the first visit on. The service worker sees only what is fetched
// after it took control, and the map's tiles are fetched by MapLibre's web worker, which started before
// that and whose requests the page cannot list: so the page itself names the tiles to keep — every tile
// the map asked for (recorded by `transformRequest`, which runs in the page) and the tiles covering the
// worker's grids with a margin (where they work, at the zooms the view uses) — and hands them to the
// service worker with the page's other files. The style is in the page's script; the TileJSON and the
// glyphs are fetched by the page, so they are among its resource entries.
// When the signal returns, tiles that failed meanwhile are asked for again (MapLibre leaves a failed
// tile failed until the view changes).

import { cellToLatLng } from '/static/vendor/h3-js.es.js';
import { api } from '../common/api.js';

/** Zooms kept for the worker's grids, and the margin around them (m): the nearby tab's radius. */
const GRID_ZOOMS = [12, 13, 14, 15, 16, 17];
const MARGIN_M = 1000;
/** Never more tiles than this for the grids (a worker with a whole street). */
const MAX_GRID_TILES = 600;

/** The slippy-map tile (x, y) of a point at zoom `z`. */
export function tileOf(lat, lon, z) {
  const n = 2 ** z;
  const x = Math.floor(((lon + 180) / 360) * n);
  const rad = (lat * Math.PI) / 180;
  const y = Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n);
  return { x: Math.min(n - 1, Math.max(0, x)), y: Math.min(n - 1, Math.max(0, y)) };
}

/** The URLs of the tiles covering `bbox` ([w, s, e, n]) at `zooms`, from a TileJSON `template`. */
export function tileUrls(template, bbox, zooms, max = MAX_GRID_TILES) {
  const urls = [];
  for (const z of zooms) {
    const a = tileOf(bbox[3], bbox[0], z);
    const b = tileOf(bbox[1], bbox[2], z);
    for (let x = a.x; x <= b.x; x += 1) {
      for (let y = a.y; y <= b.y; y += 1) {
        if (urls.length >= max) return urls;
        urls.push(template.replace('{z}', z).replace('{x}', x).replace('{y}', y));
      }
    }
  }
  return urls;
}

/** The box of the worker's grids (cell centres), widened by `MARGIN_M`; null without grids. */
async function gridsBox(workerId) {
  const worker = await api(`/api/workers/${workerId}`);
  const ids = (worker.properties?.grids || []).map((g) => g.grid_id);
  let box = null;
  for (const id of ids) {
    const grid = await api(`/api/grids/${id}`);
    for (const cell of grid.properties?.cells || []) {
      const [lat, lon] = cellToLatLng(cell);
      box = box ? [Math.min(box[0], lon), Math.min(box[1], lat), Math.max(box[2], lon), Math.max(box[3], lat)] : [lon, lat, lon, lat];
    }
  }
  if (!box) return null;
  const dLat = MARGIN_M / 111_000;
  const dLon = dLat / Math.cos((((box[1] + box[3]) / 2) * Math.PI) / 180);
  return [box[0] - dLon, box[1] - dLat, box[2] + dLon, box[3] + dLat];
}

/** The tiles of the worker's grids, from the base map's TileJSON. */
export async function gridTiles(workerId, tilejsonUrl) {
  const [tilejson, box] = await Promise.all([api(tilejsonUrl), gridsBox(workerId)]);
  const template = tilejson?.tiles?.[0];
  if (!template || !box) return [];
  const zooms = GRID_ZOOMS.filter((z) => z >= (tilejson.minzoom ?? 0) && z <= (tilejson.maxzoom ?? 22));
  return tileUrls(template, box, zooms);
}

/**
 * Watches `map`'s base map: the tile URLs it asks for (`requested`, fed by the map's `transformRequest`)
 * and its failed tiles; `retry()` asks again for what failed.
 */
export class BaseMapWatch {
  constructor() {
    /** Every tile URL the map asked for. */
    this.requested = new Set();
    this.failed = false;
    this.map = null;
  }

  /** For `new Map({transformRequest})`: records tile URLs and changes nothing. */
  transformRequest = (url, type) => {
    if (type === 'Tile') this.requested.add(url);
    return { url };
  };

  attach(map, source = 'basemap') {
    this.map = map;
    this.source = source;
    map.on('error', (event) => {
      if (event.sourceId === source || event.source?.id === source || event.tile) this.failed = true;
    });
  }

  /** Asks again for the base map's failed tiles (or its TileJSON, if that failed). */
  retry() {
    const source = this.map?.getSource(this.source);
    if (!this.failed || !source) return false;
    this.failed = false;
    const manager = this.map.style?.tileManagers?.[this.source];
    if (!source.loaded() || !manager) {
      source.setUrl(source.url);
    } else {
      // A failed tile is dropped and asked for afresh: MapLibre 6 reloads it by waiting for a request it
      // believes in flight (the tile keeps its worker and goes back to `loading`), which never answers.
      for (const id of manager.getIds()) if (manager.getTileByID(id)?.state === 'errored') manager._removeTile(id);
      this.map._update();
    }
    document.documentElement.dataset.basemapRetried = String(Number(document.documentElement.dataset.basemapRetried || 0) + 1);
    return true;
  }
}
