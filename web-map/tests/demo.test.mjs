// The living demo (issue 22, item 7): `gridwatch demo` runs its simulation by default, so the command
// centre's map changes within seconds of opening — a new case arrives or a worker's dot moves — with
// nobody touching it. On a demo without the simulation the map stays still and this fails.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, newPage, serverAndBrowser, signIn, waitForMap } from './harness.mjs';

let server;
let browser;

serverAndBrowser((s, b) => {
  server = s;
  browser = b;
}, { simulation: true });

/** Gives the page `window.mapNow()`: what the map's sources hold — the cases' ids and each worker dot's place. */
function installMapNow() {
  window.mapNow = async () => {
    const map = window.gridwatchMap;
    const cases = (await map.getSource('incidents').getData()).features.map((f) => f.id);
    const workers = {};
    for (const f of (await map.getSource('workers').getData()).features) {
      workers[f.id] = f.geometry.coordinates.join(',');
    }
    return { cases, workers };
  };
}

for (const lang of ['zh-CN', 'en']) {
  test(`the demo's map changes within 10 seconds of opening (${lang})`, async () => {
    const page = await newPage(browser);
    await signIn(page, server, { role: 'commander' });
    await page.goto(`${server.url}/?lang=${lang}`);
    await waitForMap(page);
    await page.waitForSelector('#live-status[data-status=connected]');
    await page.waitForSelector('body[data-snapshot-seq]');
    await page.evaluate(installMapNow);
    const opened = await page.evaluate(() => window.mapNow());
    // What changed, in words, once something has: a case the map did not have, or a dot that moved.
    const change = await eventually(
      page,
      async (before) => {
        const after = await window.mapNow();
        const seen = new Set(before.cases);
        const arrived = after.cases.find((id) => !seen.has(id));
        if (arrived !== undefined) return `case ${arrived} arrived`;
        const moved = Object.keys(after.workers).find((id) => before.workers[id] && before.workers[id] !== after.workers[id]);
        if (moved !== undefined) return `worker ${moved} moved`;
        return false;
      },
      opened,
      { timeout: 10_000, polling: 200, what: 'a new case or a moved worker dot on the map' },
    );
    assert.match(change, /^(case \d+ arrived|worker \d+ moved)$/);
    assert.deepEqual(page.errors, [], 'no errors in the page');
    await page.context().close();
  });
}
