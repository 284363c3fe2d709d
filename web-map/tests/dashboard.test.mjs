// The command centre's dashboard (报表) and daily report (日报): the KPI panel's 结案率 reads "—" while
// nothing is due; the daily report of the area in view lists exactly the cases the API lists for the
// same day and area, prints alone, and its CSV button downloads those rows; the counts by community are
// the API's; each chart draws one mark per day of the API's series.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { cellToLatLng } from 'h3-js';
import { newPage, screenshot, serverAndBrowser, signIn, waitForMap } from './harness.mjs';

let server;
let browser;

serverAndBrowser((s, b) => {
  server = s;
  browser = b;
});

async function openCentre(lang) {
  const page = await newPage(browser, { acceptDownloads: true });
  await signIn(page, server, { role: 'admin' });
  await page.goto(`${server.url}/?lang=${lang}`);
  await waitForMap(page);
  await page.waitForSelector('body[data-snapshot-seq]');
  return page;
}

/** Registers a case in the `n`-th grid of the city; resolves to its id. */
async function registerCase(n, category = 'advertising') {
  const grids = await server.api('/api/grids');
  const id = grids.features[n % grids.features.length].properties.id;
  const grid = await server.api(`/api/grids/${id}`);
  const [lat, lon] = cellToLatLng(grid.properties.cells[0]);
  const created = await server.api('/api/incidents', {
    method: 'POST',
    body: { lat, lon, category, priority: 'normal', description: '井盖缺失 dashboard test', source: 'hotline' },
  });
  return created.id;
}

/** Opens the dashboard and waits until every part has loaded. */
async function openDashboard(page) {
  await page.click('#dashboard-open');
  await page.waitForSelector('#daily-report table[data-list=registered]');
  await page.waitForFunction(() => {
    const d = document.getElementById('dashboard');
    return !d.dataset.loading && document.querySelector('#chart-cases') && document.querySelector('#dashboard-communities table');
  }, null, { polling: 100, timeout: 20_000 });
}

const listed = (page, list) => page.$$eval(`#daily-report table[data-list=${list}] tr[data-case]`,
  (rows) => rows.map((r) => Number(r.dataset.case)));

test('结案率 reads — (not 0%) while nothing registered this month is due yet', async () => {
  // A case registered now is due hours from now: nothing is due yet, so no rate can be computed.
  await registerCase(0);
  for (const [lang, label] of [['zh-CN', '结案率'], ['en', 'Closure rate']]) {
    const page = await openCentre(lang);
    await page.waitForFunction(
      () => Number(document.querySelector('#kpi [data-kpi=registered] b')?.textContent) >= 1,
      null, { polling: 100, timeout: 20_000 },
    );
    assert.equal(await page.textContent('#kpi [data-kpi=closure_rate] span'), label);
    assert.equal(await page.textContent('#kpi [data-kpi=closure_rate] b'), '—', lang);
    assert.equal(await page.textContent('#kpi [data-kpi=on_time_rate] b'), '—', lang);
    await page.context().close();
  }
});

test('the daily report lists what the API lists for the area in view, prints alone, and exports it as CSV', async () => {
  for (const n of [0, 1, 5]) await registerCase(n);
  const page = await openCentre('zh-CN');
  await openDashboard(page);
  await screenshot(page, 'dashboard-daily');

  const path = await page.getAttribute('#daily-report', 'data-path');
  assert.match(path, /^\/api\/reports\/daily\?date=\d{4}-\d{2}-\d{2}&bbox=/);
  const report = await server.api(path);
  const ids = (lines) => lines.map((l) => l.id);
  assert.ok(report.registered.length >= 4, `the cases registered today: ${JSON.stringify(report.totals)}`);
  assert.deepEqual(await listed(page, 'registered'), ids(report.registered));
  assert.deepEqual(await listed(page, 'overdue'), ids(report.overdue));
  for (const key of ['registered', 'closed', 'open', 'overdue']) {
    assert.equal(await page.textContent(`#daily-report [data-total=${key}] dd`), String(report.totals[key]), key);
  }
  const title = await page.textContent('#daily-report h2');
  assert.match(title, /日报/);
  assert.doesNotMatch(await page.textContent('#daily-report'), /Daily|Registered|Overdue|hotline/);

  // Printing shows the daily report alone.
  await page.evaluate(() => { window.print = () => { window.printed = (window.printed || 0) + 1; }; });
  await page.click('#dashboard-print');
  assert.equal(await page.evaluate(() => window.printed), 1);
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.isVisible('#map'), false, 'the map is not printed');
  assert.equal(await page.isVisible('#chart-cases'), false, 'the charts are not printed');
  assert.equal(await page.isVisible('#daily-report table[data-list=registered]'), true);
  await page.emulateMedia({ media: 'screen' });

  // The CSV button downloads the day's rows: a UTF-8 byte-order mark (Excel), one line per listed case.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#dashboard-csv')]);
  assert.match(download.suggestedFilename(), /^gridwatch-daily-\d{4}-\d{2}-\d{2}\.csv$/);
  const text = await readFile(await download.path(), 'utf8');
  assert.equal(text.charCodeAt(0), 0xfeff, 'a UTF-8 byte-order mark');
  const lines = text.slice(1).split('\r\n').filter(Boolean);
  assert.match(lines[0], /^list,id,category/);
  const inList = (list) => lines.slice(1).filter((l) => l.startsWith(`${list},`)).map((l) => Number(l.split(',')[1]));
  assert.deepEqual(inList('registered'), ids(report.registered));
  assert.deepEqual(inList('overdue'), ids(report.overdue));

  const [kpi] = await Promise.all([page.waitForEvent('download'), page.click('#dashboard-kpi-csv')]);
  const kpiText = await readFile(await kpi.path(), 'utf8');
  assert.match(kpiText, /^\uFEFFkey_id,key_code,key_name,registered/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('counts by community and by worker are the API\'s, and each chart draws one mark per day', async () => {
  await registerCase(2, 'public_safety');
  const page = await openCentre('en');
  await openDashboard(page);

  for (const id of ['#dashboard-communities', '#dashboard-workers']) {
    const path = await page.getAttribute(id, 'data-path');
    assert.match(path, /^\/api\/reports\/kpi\?level=(community|worker)&from=/);
    const api = await server.api(path);
    const rows = await page.$$eval(`${id} tbody tr[data-key]`, (trs) => trs.map((tr) => ({
      key: tr.dataset.key, cells: [...tr.cells].map((c) => c.textContent),
    })));
    assert.deepEqual(rows.map((r) => r.key), api.rows.map((r) => (r.key ? String(r.key.id) : 'none')), id);
    api.rows.forEach((r, i) => {
      assert.deepEqual(rows[i].cells.slice(1, 4), [String(r.registered), String(r.due), String(r.closed)], `${id} row ${i}`);
      assert.equal(rows[i].cells[4], r.closure_rate == null ? '—' : `${Math.round(r.closure_rate * 100)}%`);
    });
    if (id === '#dashboard-communities') assert.ok(api.rows.length >= 1, 'a community with cases');
  }

  const series = await server.api(await page.getAttribute('#dashboard-charts', 'data-path'));
  assert.equal(series.days.length, 14);
  const bars = await page.$$eval('#chart-cases g[data-day]', (gs) => gs.map((g) => [g.dataset.day, Number(g.dataset.total)]));
  assert.deepEqual(bars, series.days.map((d) => [d.date, d.registered]));
  assert.ok(bars.at(-1)[1] >= 1, 'today has cases');
  const points = await page.$$eval('#chart-rates g[data-day]', (gs) => gs.map((g) => [g.dataset.day, g.querySelectorAll('circle').length]));
  assert.deepEqual(points, series.days.map((d) => [d.date, (d.closure_rate == null ? 0 : 1) + (d.on_time_rate == null ? 0 : 1)]));
  assert.equal(await page.textContent('#dashboard h2'), 'Reports for the area in view');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
