// The command centre's frame-time benchmark (issue 7): is the map smooth with 5,000 open incidents and
// 1,000 moving workers on this machine's software renderer?
//
//   node bench/frames.mjs [--incidents 5000] [--workers 1000] [--seconds 20] [--bin PATH] [--seed 7]
//                         [--load-timeout 180] [--viewport 1280x800] [--pixel-ratio R] [--hide SOURCE,…]
//                         [--profile] [--json]
//
// Starts `gridwatch demo` on a fresh store, adds the workers (on duty, each a backup of one grid, with a
// first position) and the incidents (open, over the city's grids), opens `/` as admin in headless
// Chromium (1280×800), waits until the map's `incidents` and `workers` sources hold them all, then for
// `--seconds` moves every worker once a second (`POST /api/positions`) while the map eases round a
// fixed loop of views at zooms 13–17, recording every frame's duration (requestAnimationFrame deltas)
// and the long tasks. Prints the report (or one JSON object with `--json`; progress goes to stderr);
// exits 1 if the data did not reach the map or the workers did not move on it, 2 on an error.
// To see where the time goes: `--incidents 0 --workers 0` measures the same tour over the bare view;
// `--hide grids,cameras` hides the layers drawn from those map sources; `--viewport` and `--pixel-ratio`
// (MapLibre's `setPixelRatio`) change how many pixels are drawn; `--profile` records the page's main
// thread (artifacts/bench-frames.cpuprofile) and lists its hottest functions.

import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ARTIFACTS, launchBrowser, newPage, screenshot, signIn, startServer, waitForMap } from '../tests/harness.mjs';
import { createIncidents, createWorkers, walkers } from './data.mjs';
import {
  hideSources, instrumentPage, messageCounts, readSource, setPixelRatio, startRecording, stopRecording, webglRenderer,
} from './page.mjs';
import { hottest, saveProfile, startProfile } from './profile.mjs';
import { tourOf } from './tour.mjs';
import { TARGET_P95_MS, formatReport, machine, percentile, round, summarize, watchCpu } from './report.mjs';

const OPEN_STATUSES = 'registered,dispatched,accepted,in_progress,resolved';
const LEG_MS = 2000;

function positive(name, text) {
  const value = Number(text);
  if (!(value > 0)) throw new Error(`--${name} must be a positive number, not ${text}`);
  return value;
}

function viewportOf(text) {
  const [width, height] = text.split('x').map(Number);
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new Error(`--viewport must be WIDTHxHEIGHT, not ${text}`);
  }
  return { width, height };
}

function options() {
  const { values } = parseArgs({
    options: {
      incidents: { type: 'string', default: '5000' },
      workers: { type: 'string', default: '1000' },
      seconds: { type: 'string', default: '20' },
      seed: { type: 'string', default: '7' },
      'load-timeout': { type: 'string', default: '180' },
      bin: { type: 'string' },
      hide: { type: 'string', default: '' },
      viewport: { type: 'string', default: '1280x800' },
      'pixel-ratio': { type: 'string' },
      profile: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const number = (name, min) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}, not ${values[name]}`);
    return value;
  };
  return {
    incidents: number('incidents', 0),
    workers: number('workers', 0),
    seconds: number('seconds', 1),
    seed: number('seed', 0),
    loadTimeoutMs: number('load-timeout', 1) * 1000,
    bin: values.bin && resolve(values.bin),
    hide: values.hide.split(',').map((s) => s.trim()).filter(Boolean),
    viewport: viewportOf(values.viewport),
    pixelRatio: values['pixel-ratio'] === undefined ? null : positive('pixel-ratio', values['pixel-ratio']),
    profile: values.profile,
    json: values.json,
  };
}

const progress = (message) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const seconds = (since) => round((Date.now() - since) / 1000);

/** Adds the workers (with a first position) and the incidents; counts the open incidents. */
async function seedData(server, opts) {
  const grids = (await server.api('/api/grids?cells=true')).features;
  const categories = (await server.api('/api/categories')).filter((c) => c.active).map((c) => c.code);
  progress(`creating ${opts.workers} workers`);
  let clock = Date.now();
  const workerIds = await createWorkers(server, grids, opts.workers);
  const workersS = seconds(clock);
  const walk = walkers(workerIds, grids, opts.seed + 1);
  if (workerIds.length) await server.api('/api/positions', { method: 'POST', body: walk.fixes() });

  progress(`registering ${opts.incidents} incidents`);
  clock = Date.now();
  const incidentIds = await createIncidents(server, grids, categories, opts.incidents, opts.seed);
  const incidentsS = seconds(clock);
  return {
    grids,
    workerIds,
    walk,
    incidentIds,
    open: (await server.api(`/api/incidents?status=${OPEN_STATUSES}&limit=1`)).total,
    all: (await server.api('/api/incidents?limit=1')).total,
    setup: { workers_s: workersS, incidents_s: incidentsS, incidents_per_s: round(incidentIds.length / incidentsS, 0) },
  };
}

/** Polls the map's sources until they hold `want` located incidents and workers, or `timeoutMs` passes. */
async function waitForData(page, want, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let seen = { incidents: null, workers: null };
  while (Date.now() < deadline) {
    const [incidents, workers] = await Promise.all([readSource(page, 'incidents'), readSource(page, 'workers')]);
    seen = { incidents: incidents?.located ?? null, workers: workers?.located ?? null };
    if (incidents && workers && seen.incidents >= want.incidents && seen.workers >= want.workers) return { loaded: true, ...seen };
    await sleep(500);
  }
  return { loaded: false, ...seen };
}

/** Opens `/` as admin and waits for the map and its data; resolves to `{page, data, loadS}`. */
async function openCentre(browser, server, want, { viewport, loadTimeoutMs: timeoutMs }) {
  const page = await newPage(browser, { viewport });
  await instrumentPage(page);
  const clock = Date.now();
  await signIn(page, server);
  await page.goto(`${server.url}/?lang=en`);
  await waitForMap(page, timeoutMs).catch((error) => {
    throw new Error(`the map did not load (${error.message}); page errors: ${JSON.stringify(page.errors)}`);
  });
  const data = await waitForData(page, want, timeoutMs);
  return { page, data, loadS: seconds(clock) };
}

/** Moves every worker once a second for `count` seconds, on a fixed schedule; a late batch delays the next. */
async function moveWorkers(server, walk, count) {
  const started = Date.now();
  const latencies = [];
  let accepted = 0;
  let flagged = 0;
  let late = 0;
  for (let tick = 0; tick < count; tick++) {
    const due = started + tick * 1000;
    if (Date.now() > due + 100) late += 1;
    else await sleep(due - Date.now());
    const fixes = walk.step();
    if (fixes.length === 0) continue;
    const sent = Date.now();
    const reported = await server.api('/api/positions', { method: 'POST', body: fixes });
    latencies.push(Date.now() - sent);
    accepted += reported.accepted;
    flagged += reported.flagged.length;
  }
  await sleep(Math.max(0, started + count * 1000 - Date.now()));
  latencies.sort((a, b) => a - b);
  return {
    batches: latencies.length,
    accepted,
    flagged,
    late,
    post_p50_ms: percentile(latencies, 50),
    post_max_ms: latencies.at(-1) ?? null,
  };
}

/** How many of `ids` have a different point in `after` than in `before`. */
function movedCount(before, after, ids) {
  return ids.filter((id) => {
    const [a, b] = [before?.ids[id], after?.ids[id]];
    return a && b && (a[0] !== b[0] || a[1] !== b[1]);
  }).length;
}

/** The measured window: the tour and the moving workers, with the frames, messages and CPU use. */
async function measure(page, server, seeded, opts) {
  const before = await readSource(page, 'workers', true);
  const stopProfile = opts.profile ? await startProfile(page) : null;
  const cpuSince = watchCpu(process.pid);
  await startRecording(page, tourOf(seeded.grids), LEG_MS);
  const moves = await moveWorkers(server, seeded.walk, opts.seconds);
  const recorded = await stopRecording(page);
  const cpu = cpuSince();
  const profile = stopProfile && (await stopProfile());
  const after = await readSource(page, 'workers', true);
  return {
    moves,
    recorded,
    profile,
    cpu,
    moved: movedCount(before, after, seeded.workerIds),
    counts: await messageCounts(page),
  };
}

/** What went wrong with the data, if anything: the report's `failures`. */
function failuresOf(seeded, data, measured) {
  const failures = [];
  if (seeded.open < seeded.all) failures.push(`only ${seeded.open} of ${seeded.all} incidents are open`);
  if (!data.loaded) {
    failures.push(`the map's sources hold ${data.incidents ?? 'no'} incidents (want ${seeded.open}) and ` +
      `${data.workers ?? 'no'} workers (want ${seeded.workerIds.length})`);
  }
  const positions = measured.counts.byType.position ?? 0;
  if (seeded.workerIds.length && (measured.moved === 0 || positions === 0)) {
    failures.push(`the workers did not move on the map (${positions} position messages, ${measured.moved} moved)`);
  }
  return failures;
}

async function main() {
  const opts = options();
  if (opts.bin) process.env.GRIDWATCH_BIN = opts.bin;
  const gridwatch = process.env.GRIDWATCH_BIN || 'target/debug/gridwatch';
  progress(`starting gridwatch (${gridwatch})`);
  const server = await startServer();
  let browser;
  try {
    const seeded = await seedData(server, opts);
    progress('opening the command centre');
    browser = await launchBrowser();
    const want = { incidents: seeded.open, workers: seeded.workerIds.length };
    const { page, data, loadS } = await openCentre(browser, server, want, opts);
    const hidden = await hideSources(page, opts.hide);
    const pixelRatio = await setPixelRatio(page, opts.pixelRatio);
    progress(`data on the map: ${JSON.stringify(data)}; hidden layers: ${hidden.join(', ') || 'none'}; measuring for ${opts.seconds} s`);
    const measured = await measure(page, server, seeded, opts);
    await screenshot(page, 'bench-frames');

    const frames = summarize(measured.recorded);
    const report = {
      measured_at: new Date().toISOString(),
      seed: opts.seed,
      seconds: opts.seconds,
      leg_ms: LEG_MS,
      viewport: opts.viewport,
      pixel_ratio: pixelRatio,
      hidden_layers: hidden,
      data: {
        incidents_created: seeded.incidentIds.length,
        open_incidents: seeded.open,
        all_incidents: seeded.all,
        workers_created: seeded.workerIds.length,
        grids: seeded.grids.length,
      },
      setup: seeded.setup,
      page: {
        loaded: data.loaded,
        load_s: loadS,
        incidents_in_source: data.incidents,
        workers_in_source: data.workers,
        workers_moved: measured.moved,
        messages: measured.counts.messages,
        message_bytes: measured.counts.bytes,
        by_type: measured.counts.byType,
        errors: page.errors,
      },
      moves: measured.moves,
      frames,
      cpu: measured.cpu,
      target_p95_ms: TARGET_P95_MS,
      target_met: frames.p95_ms !== null && frames.p95_ms < TARGET_P95_MS,
      machine: machine({ chromium: browser.version(), webgl: await webglRenderer(page), gridwatch }),
      failures: failuresOf(seeded, data, measured),
    };
    if (measured.profile) {
      report.profile = {
        file: saveProfile(measured.profile, join(ARTIFACTS, 'bench-frames.cpuprofile')),
        hottest: hottest(measured.profile),
      };
    }
    console.log(opts.json ? JSON.stringify(report) : formatReport(report));
    process.exitCode = report.failures.length ? 1 : 0;
  } finally {
    await browser?.close();
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(2);
});
