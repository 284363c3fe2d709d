// The three pages load from gridwatch alone: every request stays on the server's origin, the base map
// and its labels' glyphs are served, and no script fails — under the server's Content-Security-Policy,
// which none of them (MapLibre's blob: worker and images included) violates.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { foreignRequests, serverAndBrowser, newPage, screenshot, signIn, waitForMap } from './harness.mjs';

let server;
let browser;

serverAndBrowser((s, b) => {
  server = s;
  browser = b;
});

for (const [path, name] of [['/', 'centre'], ['/worker', 'worker'], ['/planner', 'planner']]) {
  test(`${path} loads everything from gridwatch`, async () => {
    assert.ok(server.people?.[name === 'centre' ? 'commander' : name], 'the demo printed a person for this view');
    const page = await newPage(browser);
    const grid = await server.api('/api/grids/1');
    await signIn(page, server, name === 'worker' ? { role: 'worker', worker_id: grid.properties.primary_worker_id } : { role: 'admin' });
    const glyphs = [];
    page.on('response', (response) => {
      if (response.url().includes('/fonts/')) glyphs.push(response.status());
    });
    // Every CSP violation the page (or a worker it starts) reports.
    await page.addInitScript(() => {
      window.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => {
        window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    const served = await page.goto(`${server.url}${path}?lang=en`);
    const csp = served.headers()['content-security-policy'] || '';
    assert.match(csp, /frame-ancestors 'none'/, `${path} is served with its CSP`);
    await waitForMap(page);
    await screenshot(page, `pages-${name}`);
    assert.deepEqual(foreignRequests(page, server.url), [], 'requests left the gridwatch origin');
    assert.ok(page.requests.some((url) => url.includes('/tiles/basemap/')), 'base map tiles were loaded');
    assert.ok(!page.requests.some((url) => /[?&]token=/.test(url)), 'no credential in any URL');
    assert.deepEqual(page.errors, []);
    assert.deepEqual(await page.evaluate(() => window.cspViolations), [], 'CSP violations');
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
