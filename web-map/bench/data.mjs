// The benchmark's data, the same on every run (a seeded PRNG): workers on duty in the city's grids,
// open incidents at the centres of random cells of random grids, and the workers' walks (small steps,
// far below the server's implausible-jump speed, kept near each worker's home cell).

import { cellToLatLng } from 'h3-js';

/** mulberry32: a small, fast, seeded PRNG; returns a function giving floats in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = (random, list) => list[Math.floor(random() * list.length)];

/** The centre of a random H3 cell of `grid` (a feature of `/api/grids?cells=true`), as `{lat, lon}`. */
function pointIn(random, grid) {
  const [lat, lon] = cellToLatLng(pick(random, grid.properties.cells));
  return { lat, lon };
}

/** Runs `task(item, index)` over `items` with at most `inFlight` at a time; resolves to the results. */
export async function inParallel(items, inFlight, task) {
  const results = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, items.length) }, lane));
  return results;
}

/** Creates `count` on-duty workers, each a backup of one grid (round robin); resolves to their ids. */
export async function createWorkers(server, grids, count) {
  const kinds = ['grid_worker', 'grid_worker', 'patroller'];
  const bodies = Array.from({ length: count }, (_, i) => ({
    name: `bench worker ${i + 1}`,
    kind: kinds[i % kinds.length],
    duty: 'on_duty',
    grids: [{ grid_id: grids[i % grids.length].id, responsibility: 'backup' }],
  }));
  const created = await inParallel(bodies, 8, (body) => server.api('/api/workers', { method: 'POST', body }));
  return created.map((feature) => feature.id);
}

/** Registers `count` incidents over the grids, in the active categories; resolves to their ids. */
export async function createIncidents(server, grids, categories, count, seed) {
  const random = mulberry32(seed);
  const priorities = ['low', 'normal', 'normal', 'normal', 'high', 'urgent'];
  const bodies = Array.from({ length: count }, (_, i) => ({
    ...pointIn(random, pick(random, grids)),
    category: pick(random, categories),
    priority: pick(random, priorities),
    description: `bench incident ${i + 1}`,
  }));
  const created = await inParallel(bodies, 16, (body) => server.api('/api/incidents', { method: 'POST', body }));
  return created.map((feature) => feature.id);
}

const METERS_PER_DEGREE = 111_320;
/** How far a walker may stray from its home cell before it turns back, meters. */
const HOME_RANGE_M = 300;

/**
 * One walker per worker, starting at a random cell of its grid. `step()` moves every walker by 2–10 m
 * (a walk or a slow bicycle, one fix a second) and returns the batch of fixes for `POST /api/positions`.
 */
export function walkers(workerIds, grids, seed) {
  const random = mulberry32(seed);
  const walking = workerIds.map((id, i) => {
    const home = pointIn(random, grids[i % grids.length]);
    return { id, home, lat: home.lat, lon: home.lon, heading: random() * 2 * Math.PI };
  });
  const fixes = () => walking.map((w) => ({ worker_id: w.id, lat: w.lat, lon: w.lon }));
  return {
    fixes,
    step() {
      for (const w of walking) {
        const metersPerDegreeLon = METERS_PER_DEGREE * Math.cos((w.lat * Math.PI) / 180);
        const east = (w.lon - w.home.lon) * metersPerDegreeLon;
        const north = (w.lat - w.home.lat) * METERS_PER_DEGREE;
        w.heading = Math.hypot(east, north) > HOME_RANGE_M
          ? Math.atan2(-north, -east) + (random() - 0.5)
          : w.heading + (random() - 0.5) * 0.8;
        const meters = 2 + random() * 8;
        w.lon += (Math.cos(w.heading) * meters) / metersPerDegreeLon;
        w.lat += (Math.sin(w.heading) * meters) / METERS_PER_DEGREE;
      }
      return fixes();
    },
  };
}
