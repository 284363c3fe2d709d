// The command centre's operator tools (issue 22, item 4): search, list → map, worker popups, the
// dispatch list, the legend.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { cellToLatLng } from 'h3-js';
import {
  eventually, foreignRequests, serverAndBrowser, newPage, screenshot, signIn, startServer, waitForMap,
} from './harness.mjs';
import { replayBbox } from '../src/js/centre/timeline.js';
import { clickCase, openCentre, registerCase, state, waitForText, zoomTo } from './centre-kit.mjs';

let server;
let browser;

serverAndBrowser((s, b) => {
  server = s;
  browser = b;
  state.server = s;
  state.browser = b;
});

// --- Operator tools (issue 22, item 4): search, list → map, worker popups, the dispatch list, the legend.

for (const lang of ['zh-CN', 'en']) {
  test(`search finds a case by a Chinese word and opens it (${lang})`, async () => {
    const placed = await registerCase(4, { description: `闻到燃气味道 ${lang} search`, priority: 'normal' });
    const page = await openCentre(lang);
    const placeholder = await page.getAttribute('#search-input', 'placeholder');
    assert.match(placeholder, lang === 'zh-CN' ? /检索/ : /Search/, placeholder);
    await page.fill('#search-input', '燃气');
    await page.press('#search-input', 'Enter');
    const hit = `#search-results [data-result=case][data-id="${placed.id}"]`;
    await page.waitForSelector(hit, { timeout: 10_000 });
    assert.match(await page.textContent(hit), /闻到燃气味道/);
    await page.click(hit);
    await page.waitForSelector(`#drawer-body[data-incident="${placed.id}"]`, { timeout: 10_000 });
    assert.match(await page.textContent('#drawer-title'), new RegExp(String(placed.id)));
    await page.waitForSelector(`body[data-highlight="${placed.id}"]`);
    await eventually(page, ([lo, la]) => {
      const c = window.gridwatchMap.getCenter();
      return !window.gridwatchMap.isMoving() && Math.abs(c.lng - lo) < 1e-4 && Math.abs(c.lat - la) < 1e-4;
    }, [placed.lon, placed.lat], { what: 'the map to fly to the case' });
    // A grid code finds its grid.
    const grid = await server.api('/api/grids/4');
    await page.fill('#search-input', grid.properties.code);
    await page.press('#search-input', 'Enter');
    await page.waitForSelector('#search-results [data-result=grid][data-id="4"]', { timeout: 10_000 });
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test('a list row click flies the map to the case and rings it', async () => {
  const placed = await registerCase(6, { priority: 'urgent', description: '列表定位 list row' });
  const page = await openCentre();
  const row = `#incident-list [data-incident="${placed.id}"]`;
  await page.waitForSelector(row, { timeout: 20_000 });
  const before = await page.evaluate(() => window.gridwatchMap.getCenter().toArray());
  assert.ok(Math.abs(before[0] - placed.lon) > 1e-3 || Math.abs(before[1] - placed.lat) > 1e-3, 'the map starts away from the case');
  await page.click(row);
  await eventually(page, ([lo, la]) => {
    const c = window.gridwatchMap.getCenter();
    return !window.gridwatchMap.isMoving() && Math.abs(c.lng - lo) < 1e-5 && Math.abs(c.lat - la) < 1e-5;
  }, [placed.lon, placed.lat], { what: 'the map centre at the case' });
  assert.ok(await page.evaluate(() => window.gridwatchMap.getZoom()) >= 16);
  await page.waitForSelector(`body[data-highlight="${placed.id}"]`);
  await eventually(page, (id) => window.gridwatchMap.queryRenderedFeatures({ layers: ['incident-highlight'] })
    .some((f) => f.properties.id === id), placed.id, { what: 'the ring around the case' });
  await page.waitForSelector(`#drawer-body[data-incident="${placed.id}"]`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

for (const lang of ['zh-CN', 'en']) {
  test(`a worker click shows a popup with name and open cases as the API says (${lang})`, async () => {
    const grid = await server.api('/api/grids/5');
    const worker = grid.properties.primary_worker_id;
    // A case in the grid is routed to its primary: at least one open case.
    await registerCase(5, { description: `弹窗 popup ${lang}` });
    const [lat0, lon0] = cellToLatLng(grid.properties.cells[0]);
    const at = { lat: lat0 + 0.0003, lon: lon0 - 0.0003 };
    await server.api('/api/positions', { method: 'POST', body: [{ worker_id: worker, ...at }] });
    const page = await openCentre(lang);
    await zoomTo(page, at, 18);
    await page.waitForFunction(
      (id) => window.gridwatchMap.queryRenderedFeatures({ layers: ['worker-point'] }).some((f) => f.properties.id === id),
      worker, { polling: 200, timeout: 30_000 },
    );
    const { x, y } = await page.evaluate(([lo, la]) => window.gridwatchMap.project([lo, la]), [at.lon, at.lat]);
    await page.mouse.click(x, y);
    const card = `.worker-card[data-worker="${worker}"] .worker-open`;
    await page.waitForSelector(card, { timeout: 10_000 });
    const api = (await server.api(`/api/workers/${worker}`)).properties;
    assert.ok(api.open_load >= 1, JSON.stringify(api));
    assert.equal(await page.getAttribute(card, 'data-open-count'), String(api.open_load));
    assert.equal(await page.textContent(`.worker-card[data-worker="${worker}"] .worker-name`), api.name);
    const text = await page.textContent(`.worker-card[data-worker="${worker}"]`);
    assert.match(text, lang === 'zh-CN' ? new RegExp(`在办案件 ${api.open_load} 件`) : new RegExp(`${api.open_load} open cases`), text);
    assert.match(text, lang === 'zh-CN' ? /最后定位: \d+ 秒前|最后定位: \d+ 分钟前/ : /Last position: \d+ (s|min) ago/, text);
    assert.equal(await page.locator(`.worker-card[data-worker="${worker}"] [data-incident]`).count(), api.open_cases.length);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

for (const lang of ['zh-CN', 'en']) {
  test(`the dispatch list is sorted as the API says, with duty, distance and load (${lang})`, async () => {
    const placed = await registerCase(7, { description: `派遣 dispatch ${lang}` });
    const page = await openCentre(lang);
    await clickCase(page, placed);
    await page.waitForSelector('select.dispatch-list[data-ready="1"]', { timeout: 15_000 });
    const shown = await page.$$eval('select.dispatch-list option', (options) => options.map((o) => ({ id: Number(o.value), text: o.textContent })));
    const { candidates } = await server.api(`/api/incidents/${placed.id}/candidates`);
    assert.deepEqual(shown.map((o) => o.id), candidates.map((c) => c.id), 'the order the server gives');
    const first = candidates.findIndex((c) => c.distance_m != null);
    assert.ok(first >= 0);
    assert.match(shown[first].text, lang === 'zh-CN' ? /\d+(\.\d)? (米|公里)/ : /\d+(\.\d)? (m|km)\b/, shown[first].text);
    assert.match(shown[first].text, lang === 'zh-CN' ? /在办 \d+ 件/ : /\d+ open/, shown[first].text);
    assert.match(shown[first].text, lang === 'zh-CN' ? /在岗|离岗/ : /on duty|off duty/, shown[first].text);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

for (const lang of ['zh-CN', 'en']) {
  test(`the legend names case dots and worker symbols, which differ (${lang})`, async () => {
    const page = await openCentre(lang);
    await page.waitForSelector('#legend [data-legend=worker-on_duty]');
    const text = (sel) => page.textContent(`#legend [data-legend=${sel}]`);
    if (lang === 'zh-CN') {
      assert.equal(await text('worker-on_duty'), '在岗网格员');
      assert.equal(await text('status-dispatched'), '已派遣');
      assert.match(await page.textContent('#legend summary'), /图例/);
    } else {
      assert.equal(await text('worker-on_duty'), 'Worker on duty');
      assert.equal(await text('status-dispatched'), 'Dispatched');
      assert.match(await page.textContent('#legend summary'), /Legend/);
    }
    assert.equal(await page.locator('#legend [data-kind=cases] li').count(), 10);
    assert.equal(await page.locator('#legend [data-kind=workers] li').count(), 2);
    // Workers are drawn as an icon, cases as circles: the two never look alike.
    const kinds = await page.evaluate(() => ({
      worker: window.gridwatchMap.getLayer('worker-point').type,
      case: window.gridwatchMap.getLayer('incident-point').type,
      icon: window.gridwatchMap.hasImage('worker-on_duty'),
    }));
    assert.deepEqual(kinds, { worker: 'symbol', case: 'circle', icon: true });
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}
