// The command centre (`/`): it loads from gridwatch alone and uses its tiles and websocket; a case
// registered through the API reaches the map and the list live; the drawer's actions change the case,
// and a refused action shows the server's problem; the timeline shows the map as it was at a chosen
// moment, plays it forward and returns to live; an early warning raised by the server appears on the
// map with its evidence.
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
  // Grids, cameras, trails, incidents, workers, and the early warnings for a role that may read them.
  assert.equal(await page.locator('#toggles input').count(), 6);
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

  // An extension needs a reason: the server's 422 is shown (from its `code`), and nothing changed.
  await page.click('#drawer button[data-action=extend]');
  await page.waitForSelector('#drawer-message.problem[data-code=reason_required]');
  assert.match(await page.textContent('#drawer-message'), /To extend, give a reason/);
  assert.equal((await server.api(`/api/incidents/${placed.id}`)).properties.deadline, escalated.properties.deadline);

  // Escalated to the top elsewhere, the case is reloaded live; one more escalation is a 409.
  for (let i = 0; i < 2; i += 1) {
    await server.api(`/api/incidents/${placed.id}/actions`, { method: 'POST', body: { action: 'escalate' } });
  }
  await page.waitForSelector('#drawer dl[data-level=district]');
  await page.click('#drawer button[data-action=escalate]');
  await page.waitForSelector('#drawer-message.problem[data-code=already_at_top]');
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

/** The incidents source's features as `{id, lon, lat}`, by id. */
function incidentsOnMap(page) {
  return page.evaluate(async () => (await window.gridwatchMap.getSource('incidents').getData()).features
    .map((f) => ({ id: f.id, lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1] }))
    .sort((a, b) => a.id - b.id));
}

/** Waits until the ids in the incidents source are exactly `want` (sorted); fails showing the last seen. */
async function waitForIncidents(page, want, what, timeout = 20_000) {
  const end = Date.now() + timeout;
  let seen;
  for (;;) {
    seen = (await incidentsOnMap(page)).map((f) => f.id);
    if (JSON.stringify(seen) === JSON.stringify(want)) return;
    if (Date.now() > end) assert.deepEqual(seen, want, `the incidents source never held ${what}`);
    await sleep(150);
  }
}

/** Chooses a moment in the timeline's date-time input as a person would (its value in local time, then
 * the events the page listens to). */
async function chooseMoment(page, ms) {
  await page.evaluate((at) => {
    const input = document.getElementById('timeline-at');
    const d = new Date(at);
    const p = (n) => String(n).padStart(2, '0');
    input.value = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
  }, ms);
}

/** Registers a case at the centre of cell `k` of grid `gridId`; resolves to `{id, lat, lon}`. */
async function caseInCell(gridId, k, body = {}) {
  const grid = await server.api(`/api/grids/${gridId}`);
  const cells = grid.properties.cells;
  const [lat, lon] = cellToLatLng(cells[k % cells.length]);
  const created = await server.api('/api/incidents', {
    method: 'POST',
    body: { lat, lon, category: 'city_appearance', priority: 'normal', description: '回放 replay test', source: 'hotline', ...body },
  });
  return { id: created.id, lat, lon };
}

test('the timeline shows the map as it was at a chosen moment, plays it forward and returns to live', async () => {
  const page = await openCentre();
  const gridId = 18;
  const first = await caseInCell(gridId, 0);
  const second = await caseInCell(gridId, 3);
  await zoomTo(page, first, 15);
  await eventually(
    page,
    async (ids) => {
      const have = new Set((await window.gridwatchMap.getSource('incidents').getData()).features.map((f) => f.id));
      return ids.every((id) => have.has(id));
    },
    [first.id, second.id], { polling: 200, what: 'both cases on the live map' },
  );
  // T1, a whole second after both were registered and before anything below: what the live map holds
  // now is what it held at T1.
  await sleep(1100);
  const t1 = Math.floor(Date.now() / 1000) * 1000;
  const liveAtT1 = await incidentsOnMap(page);
  await sleep(1100);
  await server.api(`/api/incidents/${first.id}/actions`, { method: 'POST', body: { action: 'cancel', reason: 'replay test' } });
  const third = await caseInCell(gridId, 5);
  await eventually(
    page,
    async ([gone, come]) => {
      const have = new Set((await window.gridwatchMap.getSource('incidents').getData()).features.map((f) => f.id));
      return !have.has(gone) && have.has(come);
    },
    [first.id, third.id], { polling: 200, what: 'the live map after T1' },
  );

  // The bar opens from the top bar's button (keyboard: it is a button) and starts collapsed.
  assert.equal(await page.isHidden('#timeline'), true, 'the timeline starts collapsed');
  await page.focus('#replay-open');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#timeline:not([hidden])');
  assert.equal(await page.getAttribute('#replay-open', 'aria-expanded'), 'true');

  // Before the history (the server started on a fresh store a minute ago): a readable refusal.
  await chooseMoment(page, Date.now() - 2 * 3600_000);
  await waitForText(page, '#timeline-message', /No replay before .+: the history starts there\./);

  await chooseMoment(page, t1);
  await page.waitForFunction((iso) => document.body.dataset.replayAt === iso, new Date(t1).toISOString(), { polling: 100, timeout: 20_000 });
  await page.waitForSelector('#replay-banner:not([hidden])');
  await waitForText(page, '#replay-banner', /Replay: [\s\S]*Back to live/);
  const bbox = (await page.evaluate(() => document.body.dataset.replayBbox)).split(',').map(Number);
  assert.equal(bbox.length, 4);
  assert.ok(bbox[2] - bbox[0] <= 0.5 && bbox[3] - bbox[1] <= 0.5, `the replay bbox is at most 0.5° a side: ${bbox}`);
  const inside = (f) => f.lon >= bbox[0] && f.lon <= bbox[2] && f.lat >= bbox[1] && f.lat <= bbox[3];
  const atT1 = liveAtT1.filter(inside).map((f) => f.id);
  assert.ok(atT1.includes(first.id) && atT1.includes(second.id), `both cases were in view at T1: ${atT1}`);
  await waitForIncidents(page, atT1, `the cases open at T1 (${atT1})`);
  // The grids of that moment are drawn over the map instead of the live tiles.
  const overlay = await page.evaluate(async () => (await window.gridwatchMap.getSource('replay-grids').getData()).features.map((f) => f.properties.id));
  assert.ok(overlay.includes(gridId), `grid ${gridId} in the replay overlay: ${overlay}`);
  assert.equal(await page.evaluate(() => window.gridwatchMap.getLayoutProperty('replay-grid-line', 'visibility')), 'visible');
  assert.equal(await page.evaluate(() => window.gridwatchMap.getLayoutProperty('grid-fill', 'visibility')), 'none');
  await screenshot(page, 'centre-replay');

  // Live changes while replaying do not touch the map.
  const fourth = await caseInCell(gridId, 7);
  await sleep(1500);
  await waitForIncidents(page, atT1, 'the replayed cases, untouched by a live change', 1000);

  // Play at 60×: the moment moves on (on the websocket's replay, or the REST fallback) up to now, where
  // the map holds what is open now, still as a replay.
  await page.selectOption('#timeline-speed', '60');
  await page.click('#timeline-play');
  try {
    await eventually(
      page,
      async ([gone, come]) => {
        const have = new Set((await window.gridwatchMap.getSource('incidents').getData()).features.map((f) => f.id));
        return !have.has(gone) && come.every((id) => have.has(id)) && document.body.dataset.replay === 'on';
      },
      [first.id, [second.id, third.id, fourth.id]], { polling: 200, timeout: 30_000, what: 'the replay played up to now' },
    );
  } catch (err) {
    const state = await page.evaluate(() => ({
      mode: document.getElementById('timeline').dataset.mode,
      playing: document.getElementById('timeline').dataset.playing,
      message: document.getElementById('timeline-message').textContent,
      at: document.body.dataset.replayAt,
    }));
    assert.fail(`${err.message}: ${JSON.stringify({ ...state, cases: (await incidentsOnMap(page)).map((f) => f.id) })}`);
  }
  await page.waitForSelector('#timeline[data-playing=false]', { timeout: 30_000 });
  const mode = await page.getAttribute('#timeline', 'data-mode');
  assert.ok(['rest', 'ws'].includes(mode), `played on ${mode}`);

  // Back to live: the banner goes, the live layers come back and the map is current.
  await page.click('#replay-banner [data-replay-live]');
  await page.waitForSelector('#replay-banner', { state: 'hidden' });
  await eventually(
    page,
    async ([gone, come]) => {
      const have = new Set((await window.gridwatchMap.getSource('incidents').getData()).features.map((f) => f.id));
      return !have.has(gone) && come.every((id) => have.has(id));
    },
    [first.id, [second.id, third.id, fourth.id]], { polling: 200, what: 'the live map again' },
  );
  assert.equal(await page.evaluate(() => window.gridwatchMap.getLayoutProperty('grid-fill', 'visibility')), 'visible');
  assert.equal(await page.evaluate(() => window.gridwatchMap.getLayoutProperty('replay-grid-line', 'visibility')), 'none');
  // Live again: a new case reaches the map.
  const fifth = await caseInCell(gridId, 9);
  await eventually(
    page,
    async (id) => (await window.gridwatchMap.getSource('incidents').getData()).features.some((f) => f.id === id),
    fifth.id, { polling: 200, what: 'a live case after the replay' },
  );
  assert.deepEqual(foreignRequests(page, server.url), []);
  // The refused moment's 422 is the browser's console line for a failed request, and nothing else.
  assert.deepEqual(page.errors.filter((e) => !/status of 422/.test(e)), []);
  await page.context().close();
});

test('an early warning raised by the server appears on the map with its evidence', async () => {
  // A server of its own that evaluates the warnings every second (the file's server keeps the default,
  // so no warning alarm comes between the alarm test's counts).
  const own = await startServer({ args: ['--warnings-every-s', '1'] });
  let page;
  try {
    page = await openCentre('en', { role: 'commander' }, own);
    await page.waitForSelector('body[data-warnings-seq]');
    assert.equal(await page.textContent('#warning-count'), '0');
    const grid = await own.api('/api/grids/4');
    const [lat, lon] = cellToLatLng(grid.properties.cells[0]);
    await zoomTo(page, { lat, lon }, 16);
    // Six reports of one kind at one spot within seconds: far above what its history expects.
    for (let i = 0; i < 6; i += 1) {
      await own.api('/api/incidents', {
        method: 'POST',
        body: { lat, lon, category: 'advertising', priority: 'normal', description: `小广告 flyers ${i}`, source: 'hotline' },
      });
    }
    const keys = await eventually(
      page,
      async () => {
        const features = (await window.gridwatchMap.getSource('warnings').getData()).features;
        return features.length ? features.map((f) => f.properties.key) : false;
      },
      null, { polling: 200, timeout: 30_000, what: 'a warning in the warnings source' },
    );
    const { warnings } = await own.api('/api/warnings');
    for (const key of keys) assert.ok(warnings.some((w) => w.key === key), `${key} is one the server lists`);
    // The side panel lists what the map draws (another warning may be raised meanwhile: read both at once).
    await eventually(
      page,
      async () => (await window.gridwatchMap.getSource('warnings').getData()).features.length
        === Number(document.getElementById('warning-count').textContent)
        && document.querySelectorAll('#warning-list [data-warning]').length === Number(document.getElementById('warning-count').textContent),
      null, { polling: 200, what: 'the warnings list to match the map' },
    );

    // Its marker (at the centre of its H3 cells, coarser than the reports') opens a popup with the evidence.
    const [wLon, wLat] = await page.evaluate(async () => (await window.gridwatchMap.getSource('warnings').getData()).features[0].geometry.coordinates);
    await zoomTo(page, { lat: wLat, lon: wLon }, 16);
    await page.waitForFunction(
      () => window.gridwatchMap.queryRenderedFeatures({ layers: ['warning-point'] }).length > 0,
      null, { polling: 200, timeout: 20_000 },
    );
    const { x, y } = await page.evaluate(([lo, la]) => window.gridwatchMap.project([lo, la]), [wLon, wLat]);
    await page.mouse.click(x, y);
    await page.waitForSelector('.maplibregl-popup .warning-evidence');
    const key = await page.getAttribute('.maplibregl-popup .warning-evidence', 'data-warning');
    const shown = (await own.api('/api/warnings')).warnings.find((w) => w.key === key);
    assert.ok(shown, `the popup's warning ${key} is the server's`);
    assert.equal(await page.textContent('.warning-evidence [data-fact=observed]'), String(shown.observed));
    assert.equal(await page.textContent('.warning-evidence [data-fact=expected]'), shown.expected.toFixed(2));
    // Evaluated every second, a warning may be raised once three of the six reports are in: its evidence
    // is what it was raised on.
    assert.ok(shown.observed >= 3 && shown.observed > shown.expected, `observed ${shown.observed} against ${shown.expected}`);
    assert.match(await page.textContent('.warning-evidence'), /Observed.*Expected.*p-value/s);
    await screenshot(page, 'centre-warning');

    // A case in the evidence opens the drawer.
    const caseId = shown.cases[0];
    await page.click(`.warning-evidence button[data-case="${caseId}"]`);
    await page.waitForSelector(`#drawer-body[data-incident="${caseId}"]`);
    assert.deepEqual(foreignRequests(page, own.url), []);
    assert.deepEqual(page.errors, []);
  } finally {
    await page?.context().close();
    await own.stop();
  }
});

test("play follows the websocket's replay protocol when the server speaks it, and falls back when it is silent", async () => {
  // The real server for everything but the replay messages, which a stand-in answers as the protocol
  // says (so the page's side of it is checked whatever the server's state): `replay` → `replay_state`,
  // then a `replay_delta`, `replay_clock`s; `replay_stop` → `replay_end`. With `silent`, `replay` gets
  // no answer at all.
  const sent = [];
  let silent = true;
  let route = null;
  const grid = await server.api('/api/grids/21');
  const [lat, lon] = cellToLatLng(grid.properties.cells[0]);
  const summary = (id, at) => ({
    id, lat, lon, status: 'dispatched', priority: 'high', category: 'advertising', level: 'grid', grid: 21,
    assignee: null, deadline: null, created_at: at,
  });
  const page = await openCentre('en', { role: 'admin' }, server, (p) => p.routeWebSocket(/\/ws$/, (ws) => {
    route = ws;
    const upstream = ws.connectToServer();
    ws.onMessage((text) => {
      const message = JSON.parse(text);
      if (!String(message.type).startsWith('replay')) {
        sent.push(message.type);
        upstream.send(text);
        return;
      }
      sent.push(message);
      const reply = (m) => ws.send(JSON.stringify(m));
      if (message.type === 'replay' && !silent) {
        reply({ type: 'replay_state', at: message.from, seq: 1, incidents: [summary(900001, message.from)], workers: [], cameras: [], grids: [] });
        const later = new Date(Date.parse(message.from) + 1000).toISOString();
        reply({ type: 'replay_delta', seq: 2, kind: 'incident.created', at: later, layer: 'incidents', id: 900002, data: summary(900002, later) });
        reply({ type: 'replay_clock', at: later });
      } else if (message.type === 'replay_stop') {
        reply({ type: 'replay_end', at: new Date().toISOString() });
      }
    });
  }));
  await zoomTo(page, { lat, lon }, 15);
  await page.click('#replay-open');
  // A moment after the replay history starts (when this server started), whole seconds: the log may
  // start before the first keyframe, so ask again until the moment is one the server can show.
  let from = Date.now() - 86_400_000;
  for (let tries = 0; ; tries += 1) {
    const probe = await server.call(`/api/replay/state?at=${new Date(from).toISOString()}&bbox=${lon - 0.01},${lat - 0.01},${lon + 0.01},${lat + 0.01}`);
    if (probe.status === 200) break;
    assert.ok(probe.status === 422 && probe.body.starts && tries < 5, `the replay history's start: ${JSON.stringify(probe)}`);
    from = Math.ceil(Date.parse(probe.body.starts) / 1000) * 1000 + 1000;
  }
  while (Date.now() < from + 4000) await sleep(200);
  await chooseMoment(page, from);
  await page.waitForSelector('body[data-replay-at]', { state: 'attached' });

  // Silent: after 2 s the page plays on the REST endpoint.
  await page.click('#timeline-play');
  await page.waitForSelector('#timeline[data-mode=pending]');
  await page.waitForSelector('#timeline[data-mode=rest][data-playing=true]', { timeout: 5_000 });
  await page.click('#timeline-play');
  await page.waitForSelector('#timeline[data-playing=false]');
  assert.equal(sent.filter((m) => m.type === 'replay').length, 1);

  // Answered: the replayed state and its deltas are the map, the controls go over the socket.
  silent = false;
  sent.length = 0;
  await chooseMoment(page, from);
  await page.selectOption('#timeline-speed', '10');
  await page.click('#timeline-play');
  await page.waitForSelector('#timeline[data-mode=ws]');
  await waitForIncidents(page, [900001, 900002], 'the replayed state and delta');
  const replay = sent.find((m) => m.type === 'replay');
  assert.equal(replay.speed, 10);
  assert.equal(Date.parse(replay.from), from);
  assert.ok(Date.parse(replay.to) >= Date.parse(replay.from) && Date.parse(replay.to) <= Date.now());
  assert.equal(replay.bbox.length, 4);
  await page.waitForFunction((at) => document.body.dataset.replayAt === at, new Date(Date.parse(replay.from) + 1000).toISOString());
  await page.click('#timeline-play');
  await page.selectOption('#timeline-speed', '600');
  await page.click('#timeline-play');
  const controls = () => sent.slice(1).map((m) => m.type ?? m);
  for (let i = 0; i < 50 && controls().length < 3; i += 1) await sleep(100);
  assert.deepEqual(controls(), ['replay_pause', 'replay_speed', 'replay_resume']);
  assert.equal(sent.find((m) => m.type === 'replay_speed').speed, 600);

  // Back to live: `replay_stop`, and after its `replay_end` a new `subscribe`; the live map returns.
  await page.click('#timeline [data-replay-live]');
  await eventually(page, async () => !(await window.gridwatchMap.getSource('incidents').getData()).features.some((f) => f.id >= 900000), null, { what: 'no replayed case left' });
  for (let i = 0; i < 50 && !sent.includes('subscribe'); i += 1) await sleep(100);
  const tail = sent.slice(sent.findIndex((m) => m.type === 'replay_stop'));
  assert.equal(tail[0].type, 'replay_stop');
  assert.ok(tail.includes('subscribe'), `subscribed again after the stop: ${JSON.stringify(tail)}`);
  assert.ok(route);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the replay bbox is the view, cut to the 0.5° around its centre where the view is larger', () => {
  const bounds = (w, s, e, n) => ({
    getWest: () => w, getSouth: () => s, getEast: () => e, getNorth: () => n,
    getCenter: () => ({ lng: (w + e) / 2, lat: (s + n) / 2 }),
  });
  assert.deepEqual(replayBbox(bounds(113.1, 36.18, 113.12, 36.2)), { bbox: [113.1, 36.18, 113.12, 36.2], clamped: false });
  const wide = replayBbox(bounds(112, 36.1, 114, 36.3));
  assert.equal(wide.clamped, true);
  assert.deepEqual(wide.bbox.map((x) => Math.round(x * 1000) / 1000), [112.75, 36.1, 113.25, 36.3]);
  const huge = replayBbox(bounds(-170, -80, 170, 80));
  assert.ok(huge.clamped && huge.bbox[2] - huge.bbox[0] <= 0.5 && huge.bbox[3] - huge.bbox[1] <= 0.5, `${huge.bbox}`);
});
