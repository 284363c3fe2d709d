// The three pages load from gridwatch alone: every request stays on the server's origin, the base map
// and its labels' glyphs are served, and no script fails.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { foreignRequests, serverAndBrowser, newPage, screenshot, waitForMap } from './harness.mjs';

let server;
let browser;

serverAndBrowser((s, b) => {
  server = s;
  browser = b;
});

for (const [path, name] of [['/', 'centre'], ['/worker', 'worker'], ['/planner', 'planner']]) {
  test(`${path} loads everything from gridwatch`, async () => {
    const token = name === 'worker' ? server.demoWorkerToken : server.adminToken;
    assert.ok(token, 'the demo printed a token for this page');
    const page = await newPage(browser);
    const glyphs = [];
    page.on('response', (response) => {
      if (response.url().includes('/fonts/')) glyphs.push(response.status());
    });
    await page.goto(`${server.url}${path}?token=${token}&lang=en`);
    await waitForMap(page);
    await screenshot(page, `pages-${name}`);
    assert.deepEqual(foreignRequests(page, server.url), [], 'requests left the gridwatch origin');
    assert.ok(page.requests.some((url) => url.includes('/tiles/basemap/')), 'base map tiles were loaded');
    assert.ok(!new URL(page.url()).searchParams.has('token'), 'the token was taken out of the address bar');
    assert.deepEqual(page.errors, []);
    if (name === 'centre') {
      assert.ok(glyphs.length > 0, 'label glyphs were requested');
      assert.ok(glyphs.every((status) => status === 200 || status === 304), `glyph answers: ${glyphs}`);
    }
    await page.context().close();
  });
}

test('a page that is not there is a 404 problem, and the web root cannot be left', async () => {
  for (const path of ['/static/nope.js', '/static/..%2f..%2fCargo.toml', '/static/js/../../../Cargo.toml']) {
    const response = await fetch(server.url + path);
    assert.equal(response.status, 404, path);
  }
  const bad = await fetch(`${server.url}/fonts/Noto%20Sans%20Regular/1-256.pbf`);
  assert.equal(bad.status, 400);
  assert.match(bad.headers.get('content-type'), /problem\+json/);
});
