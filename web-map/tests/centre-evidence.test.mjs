// The command centre's drawer and language (issue 22, items 1–3): the resolve photo and who did what
// to whom, problems and category names in the page's language only, the deployment's time, the 24/7
// category clock.
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

// --- Evidence in the drawer, one language at a time (issue 22, items 1 and 2).

/** A real `width` × `height` RGB PNG (a gradient), built here so the test needs no image library. */
function pngOf(width, height) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (kind, data) => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(kind, 'latin1'), data]);
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(crc(body));
    return Buffer.concat([head, body, tail]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) raw.set([x % 256, y % 256, 140], y * (width * 3 + 1) + 1 + x * 3);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Uploads `bytes` as the photo of case `id` as `token`. */
async function uploadPhoto(id, bytes, token) {
  const form = new FormData();
  form.append('photo', new Blob([bytes], { type: 'image/png' }), 'photo.png');
  const response = await fetch(`${server.url}/api/incidents/${id}/photos`, {
    method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: form,
  });
  const answer = await response.text();
  assert.equal(response.status, 201, answer);
  return JSON.parse(answer);
}

for (const lang of ['zh-CN', 'en']) {
  test(`the drawer shows the resolve photo as a thumbnail, the note, and who did what to whom (${lang})`, async () => {
    const placed = await registerCase(16, { description: `evidence ${lang}` });
    const first = (await server.api(`/api/incidents/${placed.id}`)).properties.assignee;
    // Another worker: once the case is theirs they may act on it wherever they are on duty.
    const other = (await server.api('/api/workers')).features.map((f) => f.properties).find((w) => w.id !== first);
    assert.ok(first && other, 'two workers');
    const name = async (id) => (await server.api(`/api/workers/${id}`)).properties.name;
    const [firstName, otherName] = [await name(first), await name(other.id)];
    await server.api(`/api/incidents/${placed.id}/actions`, { method: 'POST', body: { action: 'reassign', to: other.id } });
    const token = await server.token({ role: 'worker', worker_id: other.id, label: `evidence ${lang}` });
    for (const action of ['accept', 'start']) {
      await server.api(`/api/incidents/${placed.id}/actions`, { method: 'POST', body: { action }, token });
    }
    const photo = await uploadPhoto(placed.id, pngOf(640, 400), token);
    const note = lang === 'zh-CN' ? '已清理占道摊位' : 'stall cleared away';
    await server.api(`/api/incidents/${placed.id}/actions`, { method: 'POST', body: { action: 'resolve', note }, token });

    const page = await openCentre(lang);
    await clickCase(page, placed);
    await page.waitForSelector('#drawer dl[data-status=resolved]');
    // The photo: a thumbnail the browser loaded (the session cookie carries the access), linking to the full photo.
    const img = `#drawer .photos img[data-sha256="${photo.sha256}"]`;
    await page.waitForSelector(img);
    await eventually(page, (sel) => document.querySelector(sel)?.complete && document.querySelector(sel).naturalWidth > 0, img, { what: 'the thumbnail to load' });
    const size = await page.$eval(img, (el) => [el.naturalWidth, el.naturalHeight, el.currentSrc, el.closest('a').href]);
    assert.ok(size[0] <= 320 && size[0] > 0, `thumbnail ${size}`);
    assert.equal(size[0] * 400, size[1] * 640, 'the aspect is kept');
    assert.match(size[2], /\/thumbnail$/);
    assert.ok(size[3].endsWith(`/api/photos/${photo.sha256}`), size[3]);
    assert.match(await page.textContent('#drawer .resolve-note'), new RegExp(note));
    // History: the reassignment names both workers; the acceptance names who accepted.
    const line = async (action) => page.textContent(`#drawer .history li[data-action=${action}]`);
    const reassigned = await line('reassign');
    assert.ok(reassigned.includes(firstName) && reassigned.includes(otherName), reassigned);
    assert.match(reassigned, lang === 'zh-CN' ? /改派给/ : /Reassigned from/);
    assert.ok((await line('accept')).includes(otherName), await line('accept'));
    assert.ok((await line('resolve')).includes(otherName), await line('resolve'));
    await screenshot(page, `centre-drawer-evidence-${lang}`);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test(`a refused action reads in the page's language only (${lang})`, async () => {
    const placed = await registerCase(18);
    const page = await openCentre(lang);
    await clickCase(page, placed);
    await page.waitForSelector('#drawer dl[data-status=dispatched]');
    await page.click('#drawer button[data-action=extend]');
    await page.waitForSelector('#drawer-message.problem[data-code=reason_required]');
    const message = await page.textContent('#drawer-message');
    if (lang === 'zh-CN') {
      assert.match(message, /延期需要填写理由/);
      assert.doesNotMatch(message, /[A-Za-z]{2,}/, `English in the Chinese page: ${message}`);
    } else {
      assert.match(message, /To extend, give a reason/);
    }
    await page.context().close();
  });
}

test('automatic escalations say the original deadline, in the deployment\'s time, in both languages', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridwatch-calendar-'));
  const config = join(dir, 'dispatch.json');
  // Round the clock, in UTC+8, so the deadline comes within seconds and is read in Beijing time.
  writeFileSync(config, JSON.stringify({ calendar: { tz_offset_minutes: 480, day_start: '00:00:00', day_end: '23:59:59', lunch: null, weekend: [] } }));
  const other = await startServer({ args: ['--dispatch-config', config] });
  try {
    const call = (path, options = {}) => other.api(path, options);
    const hazard = (await call('/api/categories')).find((c) => c.code === 'hazard');
    const limit = 0.0005; // 1.8 s, in hours
    await call('/api/categories/hazard', {
      method: 'PUT',
      body: { name: hazard.name, class: hazard.class, kind: hazard.kind, limits: { low_h: limit, normal_h: limit, high_h: limit, urgent_h: limit } },
    });
    const grid = await call('/api/grids/3');
    const cells = grid.properties.cells;
    const [lat, lon] = cellToLatLng(cells[Math.floor(cells.length / 2)]);
    const created = await call('/api/incidents', { method: 'POST', body: { lat, lon, category: 'hazard', description: '燃气 test', source: 'hotline' } });
    // Two levels up: the second escalation comes one more limit after the first.
    let history = [];
    for (let i = 0; i < 300 && history.filter((e) => e.action === 'escalate').length < 2; i += 1) {
      await sleep(100);
      history = (await call(`/api/incidents/${created.id}`)).properties.history;
    }
    assert.equal(history.filter((e) => e.action === 'escalate').length >= 2, true, JSON.stringify(history));
    // The deadline in UTC+8, as the page writes it.
    const local = new Date(Date.parse(created.properties.deadline) + 480 * 60_000);
    const pad = (n) => String(n).padStart(2, '0');
    const wanted = `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}`;
    for (const lang of ['zh-CN', 'en']) {
      const page = await openCentre(lang, { role: 'admin' }, other);
      await clickCase(page, { id: created.id, lat, lon });
      await page.waitForSelector('#drawer .history li[data-action=escalate]');
      const lines = await page.$$eval('#drawer .history li[data-action=escalate]', (els) => els.map((el) => el.textContent));
      assert.ok(lines.length >= 2, lines.join('\n'));
      for (const text of lines.slice(0, 2)) {
        assert.ok(text.includes(wanted), `${wanted} not in: ${text}`);
        assert.match(text, lang === 'zh-CN' ? /超期督办/ : /Supervision/);
        if (lang === 'zh-CN') assert.doesNotMatch(text, /overdue|since/);
      }
      assert.match(lines[0], lang === 'zh-CN' ? /社区/ : /Community/);
      assert.match(lines[1], lang === 'zh-CN' ? /街道/ : /Street/);
      await page.context().close();
    }
  } finally {
    await other.stop();
  }
});

/** The drawer's value of field `key` (its `dt` text in the page's language is `label`). */
async function drawerFact(page, label) {
  return page.$$eval('#drawer dl dt', (dts, want) => dts.find((dt) => dt.textContent === want)?.nextElementSibling?.textContent ?? null, label);
}

/** `iso` as the page writes it in UTC+8 (common/time.js). */
function beijing(iso) {
  const local = new Date(Date.parse(iso) + 480 * 60_000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}`;
}

test('an urgent emergency on a holiday night is due within hours; an office-clock case waits for the working days', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridwatch-clock-'));
  const config = join(dir, 'dispatch.json');
  // Beijing time, every date from a week before today to a week after a holiday: now is never working time.
  const today = new Date(Date.now() + 480 * 60_000);
  const holidays = [];
  for (let d = -7; d <= 7; d += 1) holidays.push(new Date(today.getTime() + d * 86_400_000).toISOString().slice(0, 10));
  writeFileSync(config, JSON.stringify({ calendar: { tz_offset_minutes: 480, holidays } }));
  const other = await startServer({ args: ['--dispatch-config', config] });
  try {
    const grid = await other.api('/api/grids/3');
    const cells = grid.properties.cells;
    const place = (i) => cellToLatLng(cells[(Math.floor(cells.length / 2) + i) % cells.length]);
    const register = async (category, i) => {
      const [lat, lon] = place(i);
      const created = await other.api('/api/incidents', {
        method: 'POST', body: { lat, lon, category, priority: 'urgent', description: '煤气味 gas smell', source: 'hotline' },
      });
      return { id: created.id, lat, lon, properties: created.properties };
    };
    const gas = await register('emergency', 0);
    const request = await register('livelihood', 3);
    const page = await openCentre('zh-CN', { role: 'admin' }, other);
    // The map's features carry the deadlines the page shows.
    const shown = async (placed) => {
      await zoomTo(page, placed, 16);
      return eventually(page, (id) => window.gridwatchMap.queryRenderedFeatures({ layers: ['incident-point'] })
        .find((f) => f.properties.id === id)?.properties, placed.id, { what: `case ${placed.id} on the map` });
    };
    const gasShown = await shown(gas);
    const hour = 3600 * 1000;
    const gasDue = Date.parse(gasShown.deadline) - Date.parse(gasShown.created_at);
    assert.equal(gasDue, hour / 2, `the emergency is due half an hour after it came in: ${JSON.stringify(gasShown)}`);
    const requestShown = await shown(request);
    const requestDue = Date.parse(requestShown.deadline) - Date.parse(requestShown.created_at);
    assert.ok(requestDue > 7 * 24 * hour, `a people's request waits for the first working day: ${JSON.stringify(requestShown)}`);
    // The drawer says the same deadline, in the deployment's time.
    await clickCase(page, gas);
    await page.waitForSelector(`#drawer [data-incident="${gas.id}"]`);
    const due = await drawerFact(page, '处置时限');
    assert.ok(due?.startsWith(beijing(gas.properties.deadline)), `the drawer's deadline ${due}`);
    await screenshot(page, 'centre-emergency-clock');
    await page.context().close();
  } finally {
    await other.stop();
  }
});

for (const [lang, name, other] of [['zh-CN', '安全隐患', /[A-Za-z]/], ['en', 'Hazards', /[\u4e00-\u9fff]/]]) {
  test(`a category is named in the page's language only (${lang})`, async () => {
    const placed = await registerCase(3, { category: 'hazard' });
    const page = await openCentre(lang);
    await zoomTo(page, placed, 16);
    await waitForText(page, `#incident-list li[data-incident="${placed.id}"] .what`, new RegExp(name));
    const title = await page.textContent(`#incident-list li[data-incident="${placed.id}"] .what`);
    assert.equal(title, `#${placed.id} ${name}`);
    assert.doesNotMatch(title.replace(/^#\d+ /, ''), other, 'one language only');
    await clickCase(page, placed);
    await page.waitForSelector(`#drawer [data-incident="${placed.id}"]`);
    const facts = await page.$$eval('#drawer dl dd', (dds) => dds.map((dd) => dd.textContent));
    assert.ok(facts.includes(name), `the drawer names the category ${name}: ${facts}`);
    assert.ok(!facts.some((f) => /Hazards \(|\(安全隐患\)/.test(f)), 'no two-language name');
    await page.context().close();
  });
}
