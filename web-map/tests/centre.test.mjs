// The command centre (`/`): it loads from gridwatch alone and uses its tiles and websocket; a case
// registered through the API reaches the map and the list live; the drawer's actions change the case,
// and a refused action shows the server's problem.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cellToLatLng } from 'h3-js';
import { eventually, foreignRequests, serverAndBrowser, newPage, screenshot, signIn, waitForMap } from './harness.mjs';

let server;
let browser;

serverAndBrowser((s, b) => {
  server = s;
  browser = b;
});

/** Opens the command centre in `lang` and waits for the map and the websocket's snapshot. */
async function openCentre(lang = 'en', spec = { role: 'admin' }) {
  const page = await newPage(browser);
  await signIn(page, server, spec);
  page.sockets = [];
  page.on('websocket', (socket) => page.sockets.push(socket.url()));
  await page.goto(`${server.url}/?lang=${lang}`);
  await waitForMap(page);
  await page.waitForSelector('#live-status[data-status=connected]');
  // The snapshot resets workers' trails: wait for it before sending anything live.
  await page.waitForSelector('body[data-snapshot-seq]');
  return page;
}

/** Registers a case at the centre of one of grid `gridId`'s cells; resolves to `{id, lat, lon}`. */
async function registerCase(gridId, body = {}) {
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
async function waitForText(page, selector, pattern, timeout = 10_000) {
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
async function zoomTo(page, { lat, lon }, zoom) {
  await page.evaluate(([lo, la, z]) => window.gridwatchMap.jumpTo({ center: [lo, la], zoom: z }), [lon, lat, zoom]);
  await page.waitForFunction(() => window.gridwatchMap.loaded(), null, { polling: 100 });
}

/** Zooms to a registered case, waits until its dot is drawn and clicks it (the drawer opens). */
async function clickCase(page, placed) {
  await zoomTo(page, placed, 16);
  await page.waitForFunction(
    (id) => window.gridwatchMap.queryRenderedFeatures({ layers: ['incident-point'] }).some((f) => f.properties.id === id),
    placed.id, { polling: 200, timeout: 30_000 },
  );
  const { x, y } = await page.evaluate(([lon, lat]) => window.gridwatchMap.project([lon, lat]), [placed.lon, placed.lat]);
  await page.mouse.click(x, y);
}

test('the command centre loads from gridwatch alone, with its tiles and websocket', async () => {
  const page = await openCentre();
  await page.waitForFunction(
    () => window.gridwatchMap.queryRenderedFeatures({ layers: ['grid-fill'] }).length > 0,
    null, { polling: 200, timeout: 60_000 },
  );
  await page.waitForSelector('#kpi [data-kpi=open]');
  await screenshot(page, 'centre-load');

  assert.deepEqual(foreignRequests(page, server.url), [], 'requests left the gridwatch origin');
  assert.ok(page.requests.some((url) => url.includes('/tiles/grids/')), 'grid tiles were loaded');
  assert.ok(page.requests.some((url) => url.includes('/tiles/cameras')), 'camera tiles were asked for');
  assert.ok(page.sockets.some((url) => url.startsWith(server.url.replace('http', 'ws')) && new URL(url).pathname === '/ws'), `websocket: ${page.sockets}`);
  assert.equal(await page.textContent('h1'), 'Command centre');
  assert.equal(await page.textContent('#live-status'), 'Live');
  assert.equal(await page.locator('#toggles input').count(), 5);
  assert.equal(await page.locator('#kpi [data-kpi]').count(), 7);

  await page.uncheck('#toggles input[data-toggle=grids]');
  const visibility = await page.evaluate(() => window.gridwatchMap.getLayoutProperty('grid-fill', 'visibility'));
  assert.equal(visibility, 'none', 'the grids toggle hides the grid layers');
  assert.deepEqual(page.errors, []);

  await page.click('[data-lang-switch]');
  await page.waitForFunction(() => document.querySelector('h1').textContent === '指挥中心');
  await waitForMap(page);
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  assert.equal(await page.textContent('[data-i18n="list.title"]'), '视野内案件');
  assert.equal(await page.textContent('#live-status'), '实时');
  await screenshot(page, 'centre-zh');
  await page.context().close();
});

/** Resolves to the open cases the grid tiles in view give grid `gridId` (null when it is not drawn). */
function gridOpenCases(page, gridId) {
  return page.evaluate((id) => {
    const found = window.gridwatchMap.queryRenderedFeatures({ layers: ['grid-fill'] }).find((f) => f.properties.id === id);
    return found ? found.properties.open_cases : null;
  }, gridId);
}

test('a case registered through the API appears on the map and in the list without a reload', async () => {
  const page = await openCentre();
  const gridId = 7;
  const grid = await server.api(`/api/grids/${gridId}`);
  const [lat, lon] = cellToLatLng(grid.properties.cells[0]);
  await zoomTo(page, { lat, lon }, 16);
  await page.waitForFunction(
    (id) => window.gridwatchMap.queryRenderedFeatures({ layers: ['grid-fill'] }).some((f) => f.properties.id === id),
    gridId, { polling: 200, timeout: 30_000 },
  );
  assert.equal(await gridOpenCases(page, gridId), 0);

  const placed = await registerCase(gridId);
  await eventually(
    page,
    async (id) => (await window.gridwatchMap.getSource('incidents').getData()).features.some((f) => f.id === id),
    placed.id, { polling: 200, timeout: 30_000, what: 'the case in the incidents source' },
  );
  const row = `#incident-list [data-incident="${placed.id}"]`;
  await page.waitForSelector(row);
  await waitForText(page, row, new RegExp(`#${placed.id} Advertising.*Dispatched · High`));
  await page.waitForFunction(
    (id) => window.gridwatchMap.queryRenderedFeatures({ layers: ['incident-point'] }).some((f) => f.properties.id === id),
    placed.id, { polling: 200, timeout: 30_000 },
  );
  // The grid tiles were invalidated over the websocket and reloaded in place.
  await page.waitForFunction(
    (id) => window.gridwatchMap.queryRenderedFeatures({ layers: ['grid-fill'] }).some((f) => f.properties.id === id && f.properties.open_cases === 1),
    gridId, { polling: 200, timeout: 30_000 },
  );
  await page.click(row);
  await page.waitForSelector(`#drawer-body[data-incident="${placed.id}"] dl[data-status=dispatched]`);
  await screenshot(page, 'centre-live-incident');
  assert.equal(page.requests.filter((url) => new URL(url).pathname === '/').length, 1, 'the page was not reloaded');

  await server.api(`/api/incidents/${placed.id}/actions`, { method: 'POST', body: { action: 'cancel', reason: 'test over' } });
  await page.waitForSelector(`#incident-list [data-incident="${placed.id}"]`, { state: 'detached' });
  // The source applies its diffs in turn: wait for the one removing the case.
  await eventually(
    page,
    async (id) => !(await window.gridwatchMap.getSource('incidents').getData()).features.some((f) => f.id === id),
    placed.id, { polling: 200, timeout: 10_000, what: 'the closed case to leave the incidents source' },
  );
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('workers move live, each with a short trail', async () => {
  const page = await openCentre();
  const grid = await server.api('/api/grids/3');
  const [lat, lon] = cellToLatLng(grid.properties.cells[0]);
  const worker = grid.properties.primary_worker_id;
  await zoomTo(page, { lat, lon }, 17);
  const steps = 4;
  for (let i = 0; i < steps; i += 1) {
    const at = { lat: lat + i * 0.0001, lon: lon + i * 0.0001 };
    await server.api('/api/positions', { method: 'POST', body: [{ worker_id: worker, ...at }] });
    // Positions are coalesced per worker: wait for each before sending the next, to build a trail.
    await eventually(
      page,
      async ([id, la]) => (await window.gridwatchMap.getSource('workers').getData()).features
        .some((f) => f.id === id && Math.abs(f.geometry.coordinates[1] - la) < 1e-9),
      [worker, at.lat], { what: `the worker at step ${i}` },
    );
  }
  // The trail is its own source, updated in its own animation frame: wait for it to catch up, and read
  // its length in the same look.
  const points = await eventually(
    page,
    async ([id, n]) => {
      const trail = (await window.gridwatchMap.getSource('trails').getData()).features.find((f) => f.id === id);
      const length = trail ? trail.geometry.coordinates.length : 0;
      return length >= n ? length : false;
    },
    [worker, steps], { what: 'the trail' },
  );
  assert.equal(points, steps, 'the trail holds every position received');
  await page.waitForFunction(
    (id) => window.gridwatchMap.queryRenderedFeatures({ layers: ['worker-point'] }).some((f) => f.properties.id === id),
    worker, { polling: 200, timeout: 20_000 },
  );
  assert.ok(await page.evaluate(() => window.gridwatchMap.queryRenderedFeatures({ layers: ['trail-line'] }).length > 0), 'the trail is drawn');
  await screenshot(page, 'centre-workers');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a camera added through the API is drawn live with its view sector', async () => {
  const page = await openCentre();
  const grid = await server.api('/api/grids/9');
  const [lat, lon] = cellToLatLng(grid.properties.cells[0]);
  await zoomTo(page, { lat, lon }, 17);
  const camera = await server.api('/api/cameras', {
    method: 'POST', body: { name: '路口 1', lat, lon, heading_deg: 90, fov_deg: 60, range_m: 60, kind: 'fixed' },
  });
  const drawn = (layer) => page.waitForFunction(
    ([l, id]) => window.gridwatchMap.queryRenderedFeatures({ layers: [l] }).some((f) => f.properties.id === id),
    [layer, camera.id], { polling: 200, timeout: 30_000 },
  );
  await drawn('camera-point');
  await drawn('camera-sector');
  await screenshot(page, 'centre-camera');

  await page.uncheck('#toggles input[data-toggle=cameras]');
  assert.equal(await page.evaluate(() => window.gridwatchMap.getLayoutProperty('camera-sector', 'visibility')), 'none');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the drawer escalates a case, and shows the problem when an action is refused', async () => {
  const placed = await registerCase(12);
  const page = await openCentre();
  await clickCase(page, placed);
  await page.waitForSelector('#drawer dl[data-status=dispatched][data-level=grid]');
  assert.equal(await page.textContent('#drawer-title'), `Case #${placed.id}`);

  await page.click('#drawer button[data-action=escalate]');
  await page.waitForSelector('#drawer dl[data-level=community]');
  const escalated = await server.api(`/api/incidents/${placed.id}`);
  assert.equal(escalated.properties.level, 'community');
  assert.equal(escalated.properties.history.at(-1).action, 'escalate');
  assert.match(await page.textContent('#drawer .history'), /Escalate/);

  // An extension needs a reason: the server's 422 is shown, and nothing changed.
  await page.click('#drawer button[data-action=extend]');
  await page.waitForSelector('#drawer-message.problem');
  assert.match(await page.textContent('#drawer-message'), /422.*extend needs a reason/s);
  assert.equal((await server.api(`/api/incidents/${placed.id}`)).properties.deadline, escalated.properties.deadline);

  // Escalated to the top elsewhere, the case is reloaded live; one more escalation is a 409.
  for (let i = 0; i < 2; i += 1) {
    await server.api(`/api/incidents/${placed.id}/actions`, { method: 'POST', body: { action: 'escalate' } });
  }
  await page.waitForSelector('#drawer dl[data-level=district]');
  await page.click('#drawer button[data-action=escalate]');
  await page.waitForFunction(() => /409/.test(document.querySelector('#drawer-message.problem')?.textContent || ''));
  assert.match(await page.textContent('#drawer-message'), /district level/);
  await screenshot(page, 'centre-drawer-problem');
  assert.equal((await server.api(`/api/incidents/${placed.id}`)).properties.level, 'district');
  await page.context().close();
});

test('the drawer offers only what the signed-in user may do', async () => {
  const placed = await registerCase(14);
  const handler = (await server.api(`/api/incidents/${placed.id}`)).properties.assignee;
  assert.ok(handler, "the case was dispatched to the grid's worker");
  const workerToken = await server.token({ role: 'worker', worker_id: handler, label: 'drawer test: handler' });
  for (const action of ['accept', 'start', 'resolve']) {
    await server.api(`/api/incidents/${placed.id}/actions`, { method: 'POST', body: { action }, token: workerToken });
  }
  // A commander who handled the case: its state allows verification, but not by them (监督与处置分离).
  const page = await openCentre('en', { role: 'commander', worker_id: handler });
  await clickCase(page, placed);
  await page.waitForSelector('#drawer dl[data-status=resolved]');
  assert.equal(await page.locator('#drawer button[data-action]').count(), 0);
  assert.match(await page.textContent('#drawer .actions'), /Nothing you may do/);
  await screenshot(page, 'centre-drawer-handler');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a grid worker at the command centre gets no KPI panel: their role has no reports', async () => {
  const grid = await server.api('/api/grids/5');
  const page = await openCentre('en', { role: 'worker', worker_id: grid.properties.primary_worker_id });
  await page.waitForFunction(() => document.getElementById('kpi').closest('section').hidden, null, { polling: 100, timeout: 10_000 });
  // The page never asked for the report (a 403 would show in the console).
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('an urgent case sounds the alarm on every screen; acknowledging it on one clears it on the other', async () => {
  const one = await openCentre('en', { role: 'commander' });
  const two = await openCentre('zh-CN', { role: 'admin' });
  const before = [];
  for (const page of [one, two]) {
    await page.waitForSelector('body[data-alarms-seq]');
    // A touch first: browsers play sound only on a page the person has interacted with.
    await page.click('#alarms h2');
    before.push(Number(await page.textContent('#alarm-count')));
  }
  const placed = await registerCase(2, { priority: 'urgent', description: '燃气泄漏 gas leak' });
  const { alarms } = await server.api('/api/alarms?state=open');
  const alarm = alarms.find((a) => a.case === placed.id);
  assert.ok(alarm, `an alarm for case ${placed.id}: ${JSON.stringify(alarms)}`);
  assert.equal(alarm.kind, 'urgent');

  for (const [i, page] of [one, two].entries()) {
    const n = before[i] + 1;
    await page.waitForSelector(`#alarm-list [data-alarm="${alarm.id}"]`);
    await waitForText(page, '#alarm-count', new RegExp(`^${n}$`), 30_000);
    await page.waitForFunction((count) => document.title.startsWith(`(${count}) `), n, { polling: 100, timeout: 30_000 });
    // The bundled sound was played: the page counts each play that started, and the element has played.
    await page.waitForSelector('body[data-alarms-sounded]', { timeout: 30_000 });
    const played = await page.evaluate(() => {
      const audio = document.getElementById('alarm-sound');
      return { src: new URL(audio.currentSrc).pathname, started: !audio.paused || audio.played.length > 0 };
    });
    assert.deepEqual(played, { src: '/static/sounds/alarm.wav', started: true });
  }
  await waitForText(one, `#alarm-list [data-alarm="${alarm.id}"] .what`, /Urgent case · case #\d+/, 30_000);
  await waitForText(two, `#alarm-list [data-alarm="${alarm.id}"] .what`, /特急案件/, 30_000);
  await screenshot(one, 'centre-alarm');

  // Acknowledged on one screen: it leaves both lists and the count in both titles.
  await one.click(`button[data-acknowledge="${alarm.id}"]`);
  for (const [i, page] of [one, two].entries()) {
    await page.waitForSelector(`#alarm-list [data-alarm="${alarm.id}"]`, { state: 'detached', timeout: 30_000 });
    await waitForText(page, '#alarm-count', new RegExp(`^${before[i]}$`), 30_000);
    await page.waitForFunction(
      (count) => (count ? document.title.startsWith(`(${count}) `) : !document.title.startsWith('(')),
      before[i], { polling: 100, timeout: 30_000 },
    );
  }
  const acked = await server.api('/api/alarms?state=acknowledged');
  assert.ok(acked.alarms.some((a) => a.id === alarm.id && a.acknowledged.by.role === 'commander'));

  // Muted: the next alarm is listed but not played; the switch is remembered over a reload.
  await two.click('#alarm-mute');
  await two.reload();
  await two.waitForSelector('body[data-alarms-seq]');
  assert.equal(await two.isChecked('#alarm-mute'), true);
  await two.click('#alarms h2');
  const second = await registerCase(2, { priority: 'urgent', description: '第二次 second' });
  const next = (await server.api('/api/alarms?state=open')).alarms.find((a) => a.case === second.id);
  await two.waitForSelector(`#alarm-list [data-alarm="${next.id}"]`);
  assert.equal(await two.evaluate(() => document.body.dataset.alarmsSounded ?? null), null, 'muted: not played');
  for (const page of [one, two]) {
    assert.deepEqual(foreignRequests(page, server.url), []);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});
