// What the command centre's browser tests share: the file's server and browser (set by each file's
// `serverAndBrowser`), opening the centre, registering a case, waiting for text, zooming, clicking a case.
import assert from 'node:assert/strict';
import { cellToLatLng } from 'h3-js';
import { newPage, signIn, waitForMap } from './harness.mjs';

/** The file's server and browser, set once `serverAndBrowser` has started them. */
export const state = { server: null, browser: null };

/** Opens the command centre of `on` (default: the file's server) in `lang` and waits for the map and
 * the websocket's snapshot; `setup(page)` runs before the page loads. */
export async function openCentre(lang = 'en', spec = { role: 'admin' }, on = state.server, setup = null) {
  const page = await newPage(state.browser);
  await signIn(page, on, spec);
  page.sockets = [];
  page.on('websocket', (socket) => page.sockets.push(socket.url()));
  await setup?.(page);
  await page.goto(`${on.url}/?lang=${lang}`);
  await waitForMap(page);
  await page.waitForSelector('#live-status[data-status=connected]');
  // The snapshot resets workers' trails: wait for it before sending anything live.
  await page.waitForSelector('body[data-snapshot-seq]');
  return page;
}

/** Registers a case at the centre of one of grid `gridId`'s cells; resolves to `{id, lat, lon}`. */
export async function registerCase(gridId, body = {}) {
  const server = state.server;
  const grid = await server.api(`/api/grids/${gridId}`);
  const cells = grid.properties.cells;
  const [lat, lon] = cellToLatLng(cells[Math.floor(cells.length / 2)]);
  const created = await server.api('/api/incidents', {
    method: 'POST',
    body: { lat, lon, category: 'advertising', priority: 'high', description: '占道经营 test', source: 'hotline', ...body },
  });
  return { id: created.id, lat, lon };
}

/** Waits until the text of `selector` matches `pattern`; fails with the text it last had. */
export async function waitForText(page, selector, pattern, timeout = 10_000) {
  try {
    await page.waitForFunction(
      ([sel, source]) => new RegExp(source).test(document.querySelector(sel)?.textContent || ''),
      [selector, pattern.source], { polling: 100, timeout },
    );
  } catch {
    assert.fail(`${selector} never matched ${pattern}: ${JSON.stringify(await page.textContent(selector))}`);
  }
}

/** Centres the map on a point at `zoom` and waits until it has drawn it. */
export async function zoomTo(page, { lat, lon }, zoom) {
  await page.evaluate(([lo, la, z]) => window.gridwatchMap.jumpTo({ center: [lo, la], zoom: z }), [lon, lat, zoom]);
  await page.waitForFunction(() => window.gridwatchMap.loaded(), null, { polling: 100 });
}

/** Zooms to a registered case, waits until its dot is drawn and clicks it (the drawer opens). */
export async function clickCase(page, placed) {
  await zoomTo(page, placed, 16);
  await page.waitForFunction(
    (id) => window.gridwatchMap.queryRenderedFeatures({ layers: ['incident-point'] }).some((f) => f.properties.id === id),
    placed.id, { polling: 200, timeout: 30_000 },
  );
  const { x, y } = await page.evaluate(([lon, lat]) => window.gridwatchMap.project([lon, lat]), [placed.lon, placed.lat]);
  await page.mouse.click(x, y);
}
