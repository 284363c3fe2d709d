// The planner view: painting a cell from one grid into its neighbour moves that cell's households
// between the two grids in the panel (checked against the buildings API) and on the map, undo and redo
// restore and repeat the stroke, "Preview" shows the server's diff of the change and "Save" applies
// it; a drag that splits a grid is flagged and the server's refusal is shown; a change applied
// elsewhere is announced over the websocket and saving the older draft shows the 409 with what to do;
// a save appears at the top of the versions list, and rolling back to the version before (confirmed
// inline) stores a new version with the earlier grids, shown again on the map and in the panel.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { areNeighborCells, cellToLatLng, gridDisk } from 'h3-js';
import { serverAndBrowser, newPage, screenshot, signIn } from './harness.mjs';

let server;
let browser;
/** The community the page opens first, its grids (`code → {id, cells, households}`) and households by cell. */
const fixture = {};

async function loadFixture() {
  const communities = (await server.api('/api/regions?level=community')).features.map((f) => f.properties);
  communities.sort((a, b) => a.code.localeCompare(b.code));
  fixture.community = communities[0].id;
  const grids = (await server.api(`/api/grids?community=${fixture.community}&cells=true`)).features.map((f) => f.properties);
  fixture.grids = new Map();
  fixture.owner = new Map();
  fixture.households = new Map();
  for (const grid of grids) {
    const buildings = (await server.api(`/api/buildings?grid=${grid.id}`)).features;
    let households = 0;
    for (const { properties: b } of buildings) {
      fixture.households.set(b.cell, (fixture.households.get(b.cell) || 0) + b.households);
      households += b.households;
    }
    fixture.grids.set(grid.code, { id: grid.id, cells: grid.cells, households });
    for (const cell of grid.cells) fixture.owner.set(cell, grid.code);
  }
}

/** Whether `cells` are connected through cell edges. */
function connected(cells) {
  const set = new Set(cells);
  const seen = new Set([cells[0]]);
  const queue = [cells[0]];
  while (queue.length) {
    for (const next of gridDisk(queue.pop(), 1)) {
      if (set.has(next) && !seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen.size === set.size;
}

/** Cells with households on the border of grid `from` with grid `to`, whose move leaves `from` in one piece. */
function borderCells() {
  const found = [];
  for (const [from, grid] of fixture.grids) {
    for (const cell of grid.cells) {
      if (!fixture.households.get(cell)) continue;
      const neighbour = gridDisk(cell, 1).find((n) => n !== cell && fixture.owner.has(n) && fixture.owner.get(n) !== from);
      if (!neighbour || !areNeighborCells(cell, neighbour)) continue;
      if (connected(grid.cells.filter((c) => c !== cell))) found.push({ cell, from, to: fixture.owner.get(neighbour), households: fixture.households.get(cell) });
    }
  }
  assert.ok(found.length > 0, 'a border cell with households in the first community');
  return found;
}

function borderCell() {
  return borderCells()[0];
}

/** A planner page, open on the first community; `setup(page)` runs before it loads. */
async function openPlanner(lang = 'en', setup = null, spec = { role: 'admin' }) {
  const page = await newPage(browser);
  await signIn(page, server, spec);
  await setup?.(page);
  await page.goto(`${server.url}/planner?lang=${lang}`);
  // The grids are drawn once the map's style is loaded; the base map's tiles need not all be there.
  await page.waitForFunction((id) => document.body.dataset.community === String(id), fixture.community, { timeout: 60_000 });
  return page;
}

/** The panel's figures of grid `code`. */
function row(page, code) {
  return page.$eval(`#grids tr[data-code="${code}"]`, (tr) => ({
    households: Number(tr.querySelector('.households').textContent),
    cells: Number(tr.querySelector('.cells').textContent),
    range: tr.dataset.range,
    split: tr.dataset.split === '',
  }));
}

async function waitForHouseholds(page, expected) {
  await page.waitForFunction((want) => Object.entries(want).every(([code, n]) =>
    Number(document.querySelector(`#grids tr[data-code="${code}"] .households`)?.textContent) === n), expected, { timeout: 15_000 });
}

/** Centres the map on `cell` and clicks it. */
async function clickCell(page, cell) {
  const point = await page.evaluate(async (h3cell) => {
    const { cellToLatLng } = await import('/static/vendor/h3-js.es.js');
    const map = window.gridwatchMap;
    const [lat, lng] = cellToLatLng(h3cell);
    map.jumpTo({ center: [lng, lat], zoom: 18 });
    const p = map.project([lng, lat]);
    const box = map.getContainer().getBoundingClientRect();
    return { x: box.left + p.x, y: box.top + p.y };
  }, cell);
  await page.mouse.click(point.x, point.y);
}

/** Waits until the map draws `cell` in grid `code` (its feature state once painted), in the rendered cell layer. */
async function waitForMapGrid(page, cell, code) {
  const [lat, lng] = cellToLatLng(cell);
  await page.waitForFunction(({ lngLat, h3cell, want }) => {
    const map = window.gridwatchMap;
    const feature = map.queryRenderedFeatures(map.project(lngLat), { layers: ['planner-cells'] }).find((f) => f.properties.cell === h3cell);
    return feature && (feature.state.grid ?? feature.properties.grid) === want;
  }, { lngLat: [lng, lat], h3cell: cell, want: code }, { timeout: 15_000 });
}

serverAndBrowser(async (s, b) => {
  server = s;
  browser = b;
  await loadFixture();
});

test('painting a border cell moves its households between grids; undo and redo', async () => {
  const move = borderCell();
  const from = fixture.grids.get(move.from);
  const to = fixture.grids.get(move.to);
  const page = await openPlanner();

  const before = { from: await row(page, move.from), to: await row(page, move.to) };
  assert.equal(before.from.households, from.households, 'the panel counts the buildings API households');
  assert.equal(before.to.households, to.households);
  assert.equal(before.from.cells, from.cells.length);

  await page.click(`#grids tr[data-code="${move.to}"]`);
  await page.waitForSelector(`#grids tr.target[data-code="${move.to}"]`);
  await clickCell(page, move.cell);
  const painted = { [move.from]: from.households - move.households, [move.to]: to.households + move.households };
  await waitForHouseholds(page, painted);
  assert.equal((await row(page, move.from)).cells, from.cells.length - 1);
  assert.equal((await row(page, move.to)).cells, to.cells.length + 1);
  await waitForMapGrid(page, move.cell, move.to);
  assert.equal(await page.textContent('#changes'), 'Cells moved: 1 (not saved)');
  await screenshot(page, 'planner-painted');

  await page.click('#undo');
  await waitForHouseholds(page, { [move.from]: from.households, [move.to]: to.households });
  await waitForMapGrid(page, move.cell, move.from);
  assert.equal(await page.isDisabled('#undo'), true);

  await page.keyboard.press('Control+Shift+Z');
  await waitForHouseholds(page, painted);
  await page.keyboard.press('Control+Z');
  await waitForHouseholds(page, { [move.from]: from.households, [move.to]: to.households });
  await page.keyboard.press('Control+Y');
  await waitForHouseholds(page, painted);
  await waitForMapGrid(page, move.cell, move.to);
  await screenshot(page, 'planner-redone');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('preview shows the server diff of a painted cell, and save applies it', async () => {
  const move = borderCell();
  const from = fixture.grids.get(move.from);
  const to = fixture.grids.get(move.to);
  const page = await openPlanner();
  await page.click(`#grids tr[data-code="${move.to}"]`);
  await clickCell(page, move.cell);
  await waitForHouseholds(page, { [move.to]: to.households + move.households });

  await page.click('#preview');
  await page.waitForSelector('#plan-result[data-state=preview]');
  assert.equal(await page.textContent('#plan-result dd[data-figure=cells]'), '1');
  assert.equal(await page.textContent('#plan-result dd[data-figure=households]'), String(move.households));
  const text = await page.textContent('#plan-result');
  assert.ok(text.includes(`${move.to}: ${to.households} → ${to.households + move.households} households`), text);
  await screenshot(page, 'planner-preview');

  await page.click('#save');
  await page.waitForSelector('#plan-result .saved');
  const grid = await server.api(`/api/grids/${to.id}`);
  assert.equal(grid.properties.households, to.households + move.households, 'the server moved the households');
  assert.ok(grid.properties.cells.includes(move.cell));
  await page.waitForFunction((id) => document.body.dataset.community === String(id), fixture.community);
  await waitForHouseholds(page, { [move.from]: from.households - move.households, [move.to]: to.households + move.households });
  assert.equal(await page.textContent('#changes'), 'No changes');
  await screenshot(page, 'planner-saved');
  assert.deepEqual(page.errors, []);
  await page.context().close();
  await loadFixture();
});

test('a drag that splits a grid is flagged, undone as one stroke, and the server refusal names it (zh-CN)', async () => {
  const [target, grid] = [...fixture.grids][0];
  const far = (cell) => fixture.owner.has(cell) && !gridDisk(cell, 2).some((n) => fixture.owner.get(n) === target);
  const start = [...fixture.owner.keys()].find((cell) => far(cell) && gridDisk(cell, 1).filter((n) => n !== cell).some(far));
  const end = gridDisk(start, 1).find((n) => n !== start && far(n));
  const page = await openPlanner('zh-CN');
  assert.equal(await page.textContent('h1'), '网格调整');
  assert.equal((await row(page, target)).split, false);

  await page.click(`#grids tr[data-code="${target}"]`);
  const [from, to] = await page.evaluate(async (cells) => {
    const { cellToLatLng } = await import('/static/vendor/h3-js.es.js');
    const map = window.gridwatchMap;
    const at = (cell) => cellToLatLng(cell).reverse();
    map.jumpTo({ center: at(cells[0]), zoom: 18 });
    const box = map.getContainer().getBoundingClientRect();
    return cells.map((cell) => map.project(at(cell))).map((p) => ({ x: box.left + p.x, y: box.top + p.y }));
  }, [start, end]);
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(to.x, to.y, { steps: 5 });
  await page.mouse.up();
  await page.waitForSelector(`#grids tr[data-code="${target}"][data-split] [data-flag=split]`);
  assert.equal(await page.textContent(`#grids tr[data-code="${target}"] [data-flag=split]`), '分成 2 块');
  assert.equal((await row(page, target)).cells, grid.cells.length + 2, 'the drag painted both cells');

  await page.keyboard.press('Control+Z');
  await page.waitForFunction((code) => !document.querySelector(`#grids tr[data-code="${code}"]`).hasAttribute('data-split'), target);
  assert.equal((await row(page, target)).cells, grid.cells.length, 'one undo takes back the whole stroke');
  await page.keyboard.press('Control+Shift+Z');
  await page.waitForSelector(`#grids tr[data-code="${target}"][data-split]`);

  await page.click('#preview');
  await page.waitForSelector('#plan-result[data-state=problem]');
  assert.equal(await page.getAttribute('#plan-result p[data-type]', 'data-type'), '/problems/plan-split-grid');
  assert.ok(await page.$('#plan-result li[data-kind=split_grid]'), 'the split grid problem is listed');
  assert.ok((await page.textContent('#plan-result')).includes(target), 'the problem names the grid');
  await screenshot(page, 'planner-split');
  // Chromium logs the 422 answer itself; anything else would be the page's own failure.
  assert.deepEqual(page.errors.filter((e) => !e.includes('status of 422')), [], 'a refused plan is shown, not thrown');
  await page.context().close();
});

test('a change applied elsewhere is announced live, and saving the older draft is a clear 409', async () => {
  const [mine, ...others] = borderCells();
  const theirs = others.find((m) => ![mine.from, mine.to].includes(m.from) && ![mine.from, mine.to].includes(m.to));
  assert.ok(theirs, 'a second border cell between two other grids');
  const page = await openPlanner();
  await page.waitForSelector('#live[data-status=connected]');
  await page.click(`#grids tr[data-code="${mine.to}"]`);
  await clickCell(page, mine.cell);
  await page.waitForSelector('#changes[data-moved="1"]');
  await page.click('#preview');
  await page.waitForSelector('#plan-result[data-state=preview]');

  const grids = [...fixture.grids].map(([code, g]) => ({
    code,
    cells: code === theirs.from ? g.cells.filter((c) => c !== theirs.cell) : code === theirs.to ? [...g.cells, theirs.cell] : g.cells,
  }));
  const plan = await server.api(`/api/communities/${fixture.community}/plans`, { method: 'POST', body: { grids, note: 'another planner' } });
  await server.api(`/api/communities/${fixture.community}/plans/${plan.id}/apply`, { method: 'POST' });
  await page.waitForSelector('#notice:not([hidden])');

  await page.click('#save');
  await page.waitForSelector('#plan-result p[data-stale]');
  assert.equal(await page.getAttribute('#plan-result p[data-type]', 'data-type'), '/problems/plan-stale');
  await screenshot(page, 'planner-stale');

  await page.click('#reload');
  await page.waitForFunction((id) => document.body.dataset.community === String(id), fixture.community);
  const to = fixture.grids.get(theirs.to);
  await waitForHouseholds(page, { [theirs.to]: to.households + theirs.households });
  assert.equal(await page.isHidden('#notice'), true);
  assert.deepEqual(page.errors.filter((e) => !e.includes('status of 409')), []);
  await page.context().close();
});

/** The community's boundary versions, oldest first, as the API lists them. */
async function apiVersions() {
  return (await server.api(`/api/communities/${fixture.community}/versions`)).versions;
}

/** A version's cell count by grid code (grids with no cells left out). */
function cellCounts(version) {
  return Object.fromEntries(version.grids.filter((g) => g.cell_count > 0).map((g) => [g.code, g.cell_count]).sort());
}

test('a save is listed as the current version, and rolling back to the one before restores its grids as a new version', async () => {
  await loadFixture();
  const move = borderCell();
  const from = fixture.grids.get(move.from);
  const to = fixture.grids.get(move.to);
  const original = { [move.from]: from.households, [move.to]: to.households };
  const before = await apiVersions();
  // Every boundary.changed this page is sent, to tell its own rollback's event from another planner's.
  const changes = [];
  const page = await openPlanner('en', (p) => p.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => {
    const message = JSON.parse(String(payload));
    if (message.kind === 'boundary.changed') changes.push(message.data);
  })));
  await page.waitForSelector('#live[data-status=connected]');
  await page.waitForSelector('#versions[data-state=ready]');
  assert.deepEqual(await page.$$eval('#versions li[data-version]', (lis) => lis.map((li) => Number(li.dataset.version))),
    before.map((v) => v.id).reverse(), 'the panel lists the API versions, newest first');

  await page.click(`#grids tr[data-code="${move.to}"]`);
  await clickCell(page, move.cell);
  await waitForHouseholds(page, { [move.from]: from.households - move.households, [move.to]: to.households + move.households });
  await page.click('#preview');
  await page.waitForSelector('#plan-result[data-state=preview]');
  await page.click('#save');
  await page.waitForSelector('#plan-result .saved');

  const saved = await apiVersions();
  assert.equal(saved.length, before.length + (before.length === 0 ? 2 : 1), 'the save is a new version (after a baseline, if it is the first)');
  const [previous, newest] = saved.slice(-2);
  await page.waitForSelector(`#versions li[data-current][data-version="${newest.id}"]`);
  const listed = await page.$$eval('#versions li[data-version]', (lis) => lis.map((li) => ({
    id: Number(li.dataset.version), current: li.hasAttribute('data-current'), rollback: Boolean(li.querySelector('[data-rollback]')),
    summary: li.querySelector('.version-summary').textContent,
  })));
  assert.deepEqual(listed.map((v) => v.id), saved.map((v) => v.id).reverse(), 'the new version is at the top');
  assert.deepEqual(listed.map((v) => v.current), listed.map((_, i) => i === 0), 'only the newest is current');
  assert.deepEqual(listed.map((v) => v.rollback), listed.map((_, i) => i !== 0), 'every older version can be rolled back to');
  assert.ok(listed[0].summary.includes(`${move.from} −1`) && listed[0].summary.includes(`${move.to} +1`), listed[0].summary);

  // The confirmation is inline, and cancelling it rolls nothing back.
  await page.click(`#versions li[data-version="${previous.id}"] [data-rollback]`);
  await page.click(`#versions [data-cancel="${previous.id}"]`);
  await page.waitForSelector(`#versions li[data-version="${previous.id}"] [data-rollback]`);
  assert.equal((await apiVersions()).length, saved.length, 'a cancelled rollback posts nothing');

  await page.click(`#versions li[data-version="${previous.id}"] [data-rollback]`);
  assert.equal(await page.textContent(`#versions [data-confirm="${previous.id}"]`), 'Roll back');
  await page.click(`#versions [data-confirm="${previous.id}"]`);
  await page.waitForSelector(`#plan-result [data-rolled-back="${previous.id}"]`);

  const after = await apiVersions();
  assert.equal(after.length, saved.length + 1, 'the rollback is a new version; history is kept');
  const rolled = after.at(-1);
  assert.ok(rolled.id > newest.id);
  assert.deepEqual(after.slice(0, -1).map((v) => v.id), saved.map((v) => v.id), 'no version was removed');
  assert.deepEqual(cellCounts(rolled), cellCounts(previous), 'the new version holds the earlier assignment');
  const [fromGrid, toGrid] = [await server.api(`/api/grids/${from.id}`), await server.api(`/api/grids/${to.id}`)];
  assert.ok(fromGrid.properties.cells.includes(move.cell), 'the moved cell is back in its original grid');
  assert.ok(!toGrid.properties.cells.includes(move.cell));
  assert.equal(fromGrid.properties.households, from.households);
  assert.equal(toGrid.properties.households, to.households);

  await page.waitForSelector(`#versions li[data-current][data-version="${rolled.id}"]`);
  assert.equal(await page.getAttribute('#versions li[data-version]', 'data-version'), String(rolled.id), 'the rollback is at the top');
  await page.waitForFunction((id) => document.body.dataset.community === String(id), fixture.community);
  await waitForHouseholds(page, original);
  assert.equal((await row(page, move.from)).cells, from.cells.length);
  assert.equal((await row(page, move.to)).cells, to.cells.length);
  await waitForMapGrid(page, move.cell, move.from);
  assert.equal(await page.textContent('#changes'), 'No changes');
  assert.equal(await page.textContent(`#plan-result [data-rolled-back]`),
    `Rolled back to version ${previous.id}: saved as boundary version ${rolled.id}, 1 cells moved.`);

  // The rollback's own boundary.changed is not announced as a change made elsewhere.
  await waitUntil(() => changes.some((c) => c.version === rolled.id), 'the rollback was published');
  await page.waitForTimeout(200);
  assert.equal(await page.isHidden('#notice'), true, 'no "changed elsewhere" notice for this planner\'s own rollback');
  await screenshot(page, 'planner-rollback');
  assert.deepEqual(page.errors, []);
  await page.context().close();
  await loadFixture();
});

test('a role that may not change boundaries sees them read only: no preview, save or rollback', async () => {
  // The rollback test above left older versions of the community, each of which a planner could roll back to.
  assert.ok((await apiVersions()).length > 1, 'the community has older versions');
  const page = await openPlanner('en', null, { role: 'commander' });
  await page.waitForSelector('#readonly');
  assert.match(await page.textContent('#readonly'), /Read only/);
  assert.equal(await page.isHidden('#preview'), true);
  assert.equal(await page.isHidden('#save'), true);
  await page.waitForSelector('#versions[data-state=ready]');
  assert.ok(await page.locator('#versions li[data-version]').count() > 1, 'the versions are listed');
  assert.equal(await page.locator('#versions [data-rollback]').count(), 0, 'no rollback is offered');
  await screenshot(page, 'planner-read-only');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

/** Polls `check` (in node) until it holds, for up to 15 s. */
async function waitUntil(check, what) {
  for (let i = 0; i < 150; i += 1) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out: ${what}`);
}

/** Paints two cells far from grid `target` into it in one drag (so it falls apart); resolves to them. */
async function paintSplit(page, target) {
  const far = (cell) => fixture.owner.has(cell) && !gridDisk(cell, 2).some((n) => fixture.owner.get(n) === target);
  const start = [...fixture.owner.keys()].find((cell) => far(cell) && gridDisk(cell, 1).filter((n) => n !== cell).some(far));
  const end = gridDisk(start, 1).find((n) => n !== start && far(n));
  await page.click(`#grids tr[data-code="${target}"]`);
  const [from, to] = await page.evaluate(async (cells) => {
    const { cellToLatLng: centre } = await import('/static/vendor/h3-js.es.js');
    const map = window.gridwatchMap;
    const at = (cell) => centre(cell).reverse();
    map.jumpTo({ center: at(cells[0]), zoom: 18 });
    const box = map.getContainer().getBoundingClientRect();
    return cells.map((cell) => map.project(at(cell))).map((p) => ({ x: box.left + p.x, y: box.top + p.y }));
  }, [start, end]);
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(to.x, to.y, { steps: 5 });
  await page.mouse.up();
  await page.waitForSelector(`#grids tr[data-code="${target}"][data-split]`);
  return [start, end];
}

const UNSAVED = { 'zh-CN': { text: /尚未保存/, foreign: /[A-Za-z]/, other: 'en' }, en: { text: /not saved/, foreign: /[\u4e00-\u9fff]/, other: 'zh-CN' } };

for (const lang of ['zh-CN', 'en']) {
  test(`unsaved painting is not lost without a warning: language switch and reload (${lang})`, async () => {
    await loadFixture();
    const move = borderCell();
    const page = await openPlanner(lang);
    const guarded = () => page.evaluate(() => {
      const event = new Event('beforeunload', { cancelable: true });
      window.dispatchEvent(event);
      return event.defaultPrevented;
    });
    assert.equal(await guarded(), false, 'nothing painted: leaving is free');
    await page.click(`#grids tr[data-code="${move.to}"]`);
    await clickCell(page, move.cell);
    await page.waitForSelector('#changes[data-moved="1"]');
    assert.equal(await guarded(), true, 'a reload or close asks first');

    await page.click('[data-lang-switch]');
    await page.waitForSelector('#unsaved-confirm');
    const question = await page.textContent('#unsaved-confirm');
    assert.match(question, UNSAVED[lang].text);
    assert.doesNotMatch(question, UNSAVED[lang].foreign, `one language: ${question}`);
    await page.click('#unsaved-stay');
    await page.waitForSelector('#unsaved-confirm', { state: 'detached' });
    assert.equal(await page.evaluate(() => document.documentElement.lang), lang, 'stayed on the page');
    assert.equal(await page.getAttribute('#changes', 'data-moved'), '1', 'the painting is kept');

    await page.click('[data-lang-switch]');
    await page.click('#unsaved-leave');
    await page.waitForFunction((want) => document.documentElement.lang === want && document.body.dataset.community, UNSAVED[lang].other, { timeout: 60_000 });
    assert.equal(await page.getAttribute('#changes', 'data-moved'), '0');
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test(`a refused split is said once in the page's language, naming grid and worker, with its cells outlined (${lang})`, async () => {
    await loadFixture();
    const [target] = [...fixture.grids][0];
    const grid = (await server.api(`/api/grids?community=${fixture.community}`)).features.map((f) => f.properties).find((g) => g.code === target);
    const workers = (await server.api('/api/workers')).features.map((f) => f.properties);
    const page = await openPlanner(lang);
    // The grid list names the grid and its grid worker, not only the 15-digit code.
    const listed = await page.textContent(`#grids tr[data-code="${target}"]`);
    assert.ok(listed.includes(grid.name), `${grid.name} in ${listed}`);
    const primary = workers.find((w) => w.id === grid.primary_worker_id);
    assert.ok(primary, 'the demo grid has a primary worker');
    await page.waitForFunction(([code, name]) => document.querySelector(`#grids tr[data-code="${code}"] .worker`)?.textContent.includes(name), [target, primary.name]);

    const cut = await paintSplit(page, target);
    await page.click('#preview');
    await page.waitForSelector('#plan-result[data-state=problem]');
    assert.equal(await page.getAttribute('#plan-result [data-type]', 'data-type'), '/problems/plan-split-grid');
    const text = await page.textContent('#plan-result');
    assert.equal(await page.locator('#plan-result li').count(), 1, `one line: ${text}`);
    assert.equal(await page.locator('#plan-result li[data-kind=split_grid]').count(), 1);
    if (lang === 'zh-CN') {
      assert.doesNotMatch(text.replaceAll(grid.name, ''), /[A-Za-z]/, `no English: ${text}`);
      assert.match(text, /分成 2 块/);
    } else {
      assert.match(text, /in 2 pieces/);
      assert.doesNotMatch(text.replaceAll(grid.name, ''), /[\u4e00-\u9fff]/, `no Chinese: ${text}`);
    }
    assert.ok(text.includes(target), 'the problem names the grid');
    // The map outlines exactly the cells cut off from the grid's main piece.
    const outlined = await page.waitForFunction((want) => {
      const cells = window.gridwatchMap.querySourceFeatures('planner-problems').map((f) => f.properties.cell);
      const unique = [...new Set(cells)].sort();
      return unique.length === want.length && unique.every((c, i) => c === want[i]) && unique;
    }, [...cut].sort(), { timeout: 15_000 }).then((h) => h.jsonValue());
    assert.deepEqual(outlined, [...cut].sort());
    assert.equal(await page.getAttribute('#plan-result [data-cells]', 'data-cells'), String(cut.length));
    await screenshot(page, `planner-split-refused-${lang}`);
    assert.deepEqual(page.errors.filter((e) => !e.includes('status of 422')), []);
    await page.context().close();
  });
}
