// What every browser test needs: a real gridwatch (the binary, `demo` on a fresh store — SQLite, or a
// fresh PostgreSQL database — on a free port), Debian's Chromium driven by playwright-core, a record of
// every request a page makes, and screenshots kept as artifacts.
//
// Environment:
//   GRIDWATCH_BIN        the gridwatch binary (default: ../target/debug/gridwatch, as `cargo build` leaves it)
//   GRIDWATCH_WEB_DATABASE_URL  postgres://… of a server where this user may create databases: each
//                        gridwatch runs on a fresh database made there (with `psql`) and dropped after; unset,
//                        each runs on a fresh SQLite store. `.ci/run` runs the tests once each way.
//   CHROMIUM             the browser (default: /usr/bin/chromium)
//   CHROMIUM_EXTRA_ARGS  more flags for it, space-separated
//   GRIDWATCH_ARTIFACTS  where screenshots go (default: web-map/artifacts/)

import { execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');

export const ARTIFACTS = resolve(process.env.GRIDWATCH_ARTIFACTS || join(here, '..', 'artifacts'));

/** Chromium's flags for this machine: software WebGL, no sandbox, nothing fetched in the background. */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
  '--disable-background-networking', '--disable-component-update', '--disable-default-apps', '--no-first-run',
  '--disable-sync', '--metrics-recording-only', '--disable-domain-reliability',
];

function binary() {
  const bin = process.env.GRIDWATCH_BIN || join(root, 'target', 'debug', 'gridwatch');
  if (!existsSync(bin)) throw new Error(`no gridwatch binary at ${bin}: run \`cargo build -p gridwatch\` or set GRIDWATCH_BIN`);
  return bin;
}

/**
 * Starts `gridwatch demo` (the synthetic Dongjie street unless `args` say otherwise) on a fresh store
 * and resolves once it prints its URL and admin token. `simulation: true` keeps the demo's simulation on.
 */
export async function startServer({ args = [], env = {}, simulation = false } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'gridwatch-web-'));
  const database = freshDatabase();
  const store = database ? ['--database-url', database.url] : ['--data-dir', dataDir];
  // The demo's simulation stays off unless a test asks for it, so a test sees only its own changes.
  const still = simulation ? [] : ['--no-simulation'];
  const child = spawn(binary(), ['demo', '--addr', '127.0.0.1:0', ...still, ...store, ...args], {
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr = [];
  child.stderr.on('data', (chunk) => {
    stderr.push(chunk.toString());
    if (stderr.length > 200) stderr.shift();
  });
  const lines = createInterface({ input: child.stdout });
  const server = await new Promise((resolvePromise, reject) => {
    const found = {};
    const timer = setTimeout(() => reject(new Error(`gridwatch did not start in 240 s:\n${stderr.join('')}`)), 240_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gridwatch exited (${code}) before it was up:\n${stderr.join('')}`));
    });
    lines.on('line', (line) => {
      const up = line.match(/^gridwatch is up at (http:\/\/\S+?)\/?\s/);
      if (up) found.url = up[1];
      const admin = line.match(/^admin token: (\S+)/);
      if (admin) found.adminToken = admin[1];
      const person = line.match(/^\s+user: (\S+)\s+password: (\S+)/);
      if (person) (found.people ??= {})[person[1]] = person[2];
      if (found.url && found.adminToken && line.startsWith('try:')) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolvePromise(found);
      }
    });
  });
  server.child = child;
  server.dataDir = dataDir;
  server.stderr = stderr;
  /** Calls the API as `token` (default: admin); resolves to `{status, body}`. */
  server.call = async (path, { method = 'GET', body, token = server.adminToken, headers = {} } = {}) => {
    const init = { method, headers: { Authorization: `Bearer ${token}`, ...headers } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const response = await fetch(server.url + path, init);
    const text = await response.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: response.status, body: parsed };
  };
  /** Like `call`, but throws unless the answer is 2xx; resolves to the body. */
  server.api = async (path, options) => {
    const { status, body } = await server.call(path, options);
    if (status < 200 || status > 299) throw new Error(`${options?.method || 'GET'} ${path} → ${status}: ${JSON.stringify(body)}`);
    return body;
  };
  /** Mints a token: `{role, worker_id?, scopes?}`. */
  server.token = async (spec) => (await server.api('/api/tokens', { method: 'POST', body: spec })).token;
  let people = 0;
  /**
   * Creates a person (`{role, worker_id?, scopes?}`) with a known password that needs no change;
   * resolves to `{name, password, totpSecret}`.
   */
  server.person = async (spec = { role: 'admin' }) => {
    people += 1;
    const name = `browser.${spec.role}.${process.pid}.${people}`;
    const password = 'Browser-Test-2026';
    const made = await server.api('/api/users', {
      method: 'POST', body: { name, password, must_change_password: false, ...spec },
    });
    return { name, password, totpSecret: made.totp_secret };
  };
  server.stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
    database?.drop();
  };
  return server;
}

/**
 * A fresh PostgreSQL database for one server when GRIDWATCH_WEB_DATABASE_URL is set (`{url, drop}`),
 * else `null` (the server gets a fresh SQLite store).
 */
function freshDatabase() {
  const admin = process.env.GRIDWATCH_WEB_DATABASE_URL;
  if (!admin) return null;
  const name = `gw_web_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  const psql = (sql) => execFileSync('psql', ['-qAt', admin, '-c', sql], { stdio: ['ignore', 'ignore', 'inherit'] });
  psql(`CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/**
 * One gridwatch and one browser for a test file: started in `before`, stopped in `after`. `ready(server,
 * browser)` hands them to the file once they are up.
 */
export function serverAndBrowser(ready, options) {
  let server;
  let browser;
  before(async () => {
    server = await startServer(options);
    browser = await launchBrowser();
    await ready(server, browser);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });
}

/** RFC 6238's code of a base32 `secret` now (HMAC-SHA1, 30 s steps, 6 digits). */
export function totpCode(secret, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30_000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/**
 * Signs `page`'s browser context in as a new person (`spec`: `{role, worker_id?, scopes?}`), the way the
 * login page does: `POST /api/session` sets the session cookies in the context. Resolves to the person.
 */
export async function signIn(page, server, spec = { role: 'admin' }) {
  const person = await server.person(spec);
  const data = { name: person.name, password: person.password };
  if (person.totpSecret) data.totp = totpCode(person.totpSecret);
  const response = await page.context().request.post(`${server.url}/api/session`, { data });
  if (response.status() !== 200) throw new Error(`sign-in as ${person.name}: ${response.status()} ${await response.text()}`);
  return person;
}

/** Launches Debian's Chromium headless. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, ...(process.env.CHROMIUM_EXTRA_ARGS || '').split(' ').filter(Boolean)],
    headless: true,
  });
}

/**
 * A new page whose every request is recorded (`page.requests`: URLs in order) and whose console
 * errors and uncaught exceptions are kept (`page.errors`).
 */
export async function newPage(browser, { viewport = { width: 1280, height: 800 }, ...contextOptions } = {}) {
  const context = await browser.newContext({ viewport, ...contextOptions });
  const page = await context.newPage();
  page.requests = [];
  page.errors = [];
  page.on('request', (request) => page.requests.push(request.url()));
  page.on('pageerror', (error) => page.errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') page.errors.push(`console: ${message.text()}`);
  });
  return page;
}

/** The requests of `page` that went anywhere but `origin` (data: and blob: URLs are the page's own). */
export function foreignRequests(page, origin) {
  return page.requests.filter((url) => !url.startsWith(`${origin}/`) && !/^(data|blob):/.test(url));
}

/** Saves a full-page screenshot as `artifacts/{name}.png`; returns its path. */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Waits until `fn(arg)`, run in the page, resolves to a truthy value, and returns that value. Unlike
 * `page.waitForFunction`, `fn` may be async: Playwright's own wait takes the promise an async predicate
 * returns as its (truthy) answer, so it would not wait at all.
 */
export async function eventually(page, fn, arg, { timeout = 20_000, polling = 100, what = 'the condition' } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await page.evaluate(fn, arg);
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, polling));
  }
}

/** Waits until `window.gridwatchMap` exists and has loaded its style and first tiles. */
export async function waitForMap(page, timeout = 60_000) {
  await page.waitForFunction(() => window.gridwatchMap && window.gridwatchMap.loaded(), null, { timeout, polling: 200 });
}
