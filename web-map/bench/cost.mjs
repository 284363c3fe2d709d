// The command centre's own cost (issue 22, item 8): what the page spends on its main thread a frame with
// 5,000 open incidents and 1,000 moving workers, and its frame time against the bare view's on the same
// renderer in the same run. The renderer here (SwiftShader) cannot reach the frame-time target of issue 7
// whatever the page does, so this measures what the page controls.
//
//   node bench/cost.mjs [--runs 3] [--seconds 20] [--incidents 5000] [--workers 1000] [--fix-every 5]
//                       [--batch 50] [--seed 7] [--bin PATH] [--web DIR[,DIR…]] [--viewport 1280x800]
//                       [--demo-args "…"] [--trace-dir DIR] [--json]

//
// Starts two `gridwatch demo`s on fresh stores: one left as the demo starts (the bare view), one given the
// load through the API — the workers (on duty, each a backup of one grid, with a first position) and the
// incidents (open, over the city's grids), from a seeded PRNG. Opens `/` as admin in headless Chromium
// and, `--runs` times, measures each view for `--seconds` (bare then loaded, loaded then bare in the next
// run): the map eases round the fixed loop of views of `frames.mjs` while the frames are recorded
// (`requestAnimationFrame` deltas) and Chrome traces the page (see trace.mjs for what counts as script
// and layout and how it is divided into frames). While the loaded page is open, every worker sends a
// fix every `--fix-every` s (its own phase), the fixes due in a second going to `POST /api/positions` in
// batches of `--batch`. `--web DIR` serves the page (`/` and `/static/…`) to the browser from an assembled
// folder (`node build.mjs --out DIR`) instead of the binary's copy; with several, each run measures every
// version in turn (the order alternating), so versions of the page are compared on one binary, one data
// set and the same spell of the machine.
// Prints each run and the medians; exits 1 if the load did not reach the map or the workers did not move.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { launchBrowser, newPage, signIn, startServer, waitForMap } from '../tests/harness.mjs';
import { createIncidents, createWorkers, walkers } from './data.mjs';
import { countFramesOutside, instrumentPage, readSource, startRecording, stopRecording, webglRenderer } from './page.mjs';
import { hottest, startProfile } from './profile.mjs';
import { machine, percentile, round, summarize, watchCpu } from './report.mjs';
import { mainThreadCost, startTrace, stopTrace, topLevelByName } from './trace.mjs';
import { tourOf } from './tour.mjs';

/** The targets: main-thread script and layout p95 a frame, ms; loaded p95 frame time over the bare view's. */
export const TARGET_COST_P95_MS = 8;
export const TARGET_RATIO = 1.5;
const LEG_MS = 2000;

function options() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '20' },
      incidents: { type: 'string', default: '5000' },
      workers: { type: 'string', default: '1000' },
      'fix-every': { type: 'string', default: '5' },
      batch: { type: 'string', default: '50' },
      seed: { type: 'string', default: '7' },
      bin: { type: 'string' },
      web: { type: 'string', default: '' },
      viewport: { type: 'string', default: '1280x800' },
      'demo-args': { type: 'string', default: '' },
      'trace-dir': { type: 'string' },
      profile: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const number = (name, min) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}, not ${values[name]}`);
    return value;
  };
  const [width, height] = values.viewport.split('x').map(Number);
  if (!(width > 0 && height > 0)) throw new Error(`--viewport must be WIDTHxHEIGHT, not ${values.viewport}`);
  return {
    runs: number('runs', 1),
    seconds: number('seconds', 1),
    incidents: number('incidents', 0),
    workers: number('workers', 0),
    fixEvery: number('fix-every', 1),
    batch: number('batch', 1),
    seed: number('seed', 0),
    bin: values.bin && resolve(values.bin),
    webs: values.web ? values.web.split(',').map((dir) => resolve(dir)) : [null],
    viewport: { width, height },
    demoArgs: values['demo-args'].split(' ').filter(Boolean),
    traceDir: values['trace-dir'] && resolve(values['trace-dir']),
    profile: values.profile,
    json: values.json,
  };
}

const progress = (message) => process.stderr.write(`[cost ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Gives `server` the load: workers with a first position, then incidents. */
async function seedLoad(server, opts) {
  const grids = (await server.api('/api/grids?cells=true')).features;
  const categories = (await server.api('/api/categories')).filter((c) => c.active).map((c) => c.code);
  progress(`creating ${opts.workers} workers`);
  const workerIds = await createWorkers(server, grids, opts.workers);
  const walk = walkers(workerIds, grids, opts.seed + 1);
  if (workerIds.length) await server.api('/api/positions', { method: 'POST', body: walk.fixes() });
  progress(`registering ${opts.incidents} incidents`);
  const incidentIds = await createIncidents(server, grids, categories, opts.incidents, opts.seed);
  return { grids, workerIds, walk, incidents: incidentIds.length };
}

/**
 * Moves the workers until `stop()` resolves true: every second each walker takes a step, and the
 * workers whose fix is due (worker i every `fixEvery` s, at second i mod fixEvery) are posted in batches.
 */
function moveWorkers(server, walk, { fixEvery, batch }) {
  let running = true;
  const stats = { posts: 0, fixes: 0, accepted: 0, flagged: 0, late: 0, latencies: [] };
  const done = (async () => {
    const started = Date.now();
    for (let tick = 0; running; tick += 1) {
      const due = started + tick * 1000;
      if (Date.now() > due + 100) stats.late += 1;
      else await sleep(due - Date.now());
      if (!running) break;
      const fixes = walk.step().filter((_, i) => i % fixEvery === tick % fixEvery);
      for (let at = 0; at < fixes.length; at += batch) {
        const sent = Date.now();
        const reported = await server.api('/api/positions', { method: 'POST', body: fixes.slice(at, at + batch) });
        stats.latencies.push(Date.now() - sent);
        stats.posts += 1;
        stats.fixes += Math.min(batch, fixes.length - at);
        stats.accepted += reported.accepted;
        stats.flagged += reported.flagged.length;
      }
    }
  })();
  return async () => {
    running = false;
    await done;
    const sorted = stats.latencies.sort((a, b) => a - b);
    return { posts: stats.posts, fixes: stats.fixes, accepted: stats.accepted, flagged: stats.flagged, late: stats.late,
      post_p50_ms: percentile(sorted, 50), post_max_ms: sorted.at(-1) ?? null };
  };
}

/** Polls the map's sources until they hold `want` located incidents and workers. */
async function waitForData(page, want, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [incidents, workers] = await Promise.all([readSource(page, 'incidents'), readSource(page, 'workers')]);
    if (incidents && workers && incidents.located >= want.incidents && workers.located >= want.workers) {
      return { incidents: incidents.located, workers: workers.located };
    }
    await sleep(500);
  }
  throw new Error(`the load did not reach the map in ${timeoutMs / 1000} s`);
}

/** How many workers have a different point in `after` than in `before`. */
const movedCount = (before, after) => Object.keys(after.ids).filter((id) => {
  const [a, b] = [before.ids[id], after.ids[id]];
  return a && b && (a[0] !== b[0] || a[1] !== b[1]);
}).length;

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.html': 'text/html', '.json': 'application/json' };

/** Serves the page (`/` and `/static/…`) to `page` from the assembled folder `dir` instead of the server. */
async function servePageFrom(page, server, dir) {
  const origin = new URL(server.url).origin;
  await page.route((url) => url.origin === origin && (url.pathname === '/' || url.pathname.startsWith('/static/')), (route) => {
    const { pathname } = new URL(route.request().url());
    const file = pathname === '/' ? 'index.html' : pathname.slice('/static/'.length);
    try {
      const body = readFileSync(join(dir, file));
      return route.fulfill({ status: 200, body, contentType: TYPES[extname(file)] ?? 'application/octet-stream' });
    } catch {
      return route.continue();
    }
  });
}

/** Opens `/` on `server`, waits for its data, and measures one window; resolves to the view's figures. */
async function measureView(browser, server, view, opts, run) {
  const page = await newPage(browser, { viewport: opts.viewport });
  try {
    if (view.web) await servePageFrom(page, server, view.web);
    await instrumentPage(page, { countMessages: false });
    const counts = countFramesOutside(page);
    await signIn(page, server);
    await page.goto(`${server.url}/?lang=en`);
    await waitForMap(page, 180_000);
    const onMap = view.load ? await waitForData(page, { incidents: view.load.incidents, workers: view.load.workerIds.length }) : null;
    await sleep(3000); // the snapshot's tiles and the KPI report settle before the window opens
    const before = await readSource(page, 'workers', true);
    const countsBefore = { ...counts };
    const stopProfile = opts.profile && view.load ? await startProfile(page) : null;
    if (!stopProfile) await startTrace(browser, page);
    const cpuSince = watchCpu(process.pid);
    const stopMoving = view.load?.workerIds.length ? moveWorkers(server, view.load.walk, opts) : null;
    await startRecording(page, tourOf(view.grids), LEG_MS);
    await sleep(opts.seconds * 1000);
    const recorded = await stopRecording(page);
    const moves = stopMoving ? await stopMoving() : null;
    const cpu = cpuSince();
    const profile = stopProfile && (await stopProfile());
    const events = stopProfile ? [] : await stopTrace(browser);
    if (opts.traceDir) {
      mkdirSync(opts.traceDir, { recursive: true });
      writeFileSync(join(opts.traceDir, `cost-run${run}-${view.name}.json`), JSON.stringify({ traceEvents: events }));
    }
    const after = await readSource(page, 'workers', true);
    // What the page's DOM holds at the end: a view whose style work grows with it shows here.
    const dom = await page.evaluate(() => ({
      elements: document.getElementsByTagName('*').length,
      markers: document.querySelectorAll('.maplibregl-marker').length,
      rows: Object.fromEntries([...document.querySelectorAll('ul[id]')].map((ul) => [ul.id, ul.children.length])),
    }));
    const cost = mainThreadCost(events);
    const frames = summarize(recorded);
    const figures = (list) => {
      const sorted = [...list].sort((a, b) => a - b);
      return { median: round(percentile(sorted, 50), 2), p95: round(percentile(sorted, 95), 2), max: round(sorted.at(-1) ?? null, 2) };
    };
    return {
      view: view.name,
      web: view.web,
      frames,
      cost: cost && {
        frames: cost.frames,
        frame_cpu_ms: figures(cost.frame.cpu_ms),
        frame_wall_ms: figures(cost.frame.wall_ms),
        frame_layout_cpu_ms: figures(cost.frame.layout_cpu_ms),
        slot_cpu_ms: figures(cost.slot.cpu_ms),
        slot_wall_ms: figures(cost.slot.wall_ms),
        cpu_share_pct: round(cost.cpu_share_pct, 1),
      },
      hottest: profile ? hottest(profile, 25) : undefined,
      top: topLevelByName(events),
      on_map: onMap,
      moved: movedCount(before, after),
      dom,
      messages: Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v - (countsBefore[k] ?? 0)]).filter(([, v]) => v > 0)),
      moves,
      cpu,
      errors: page.errors,
      webgl: run === 1 ? await webglRenderer(page) : undefined,
    };
  } finally {
    await page.context().close();
  }
}

const median = (list) => {
  const sorted = list.filter((v) => v !== null && v !== undefined).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : null;
};

function formatRun(r) {
  const line = (v) => `  ${v.view.padEnd(6)} frames ${String(v.frames.frames).padStart(4)} (${v.frames.fps} fps), frame time median ${v.frames.median_ms} p95 ${v.frames.p95_ms} ms\n` +
    (v.cost ? `         script+layout a frame: CPU median ${v.cost.frame_cpu_ms.median} p95 ${v.cost.frame_cpu_ms.p95} max ${v.cost.frame_cpu_ms.max} ms ` +
      `(wall p95 ${v.cost.frame_wall_ms.p95}, layout CPU p95 ${v.cost.frame_layout_cpu_ms.p95}); a 16.7 ms slot: CPU p95 ${v.cost.slot_cpu_ms.p95} ` +
      `max ${v.cost.slot_cpu_ms.max} (wall p95 ${v.cost.slot_wall_ms.p95}); ${v.cost.cpu_share_pct}% of the thread's time\n` : '') +
    `         cpu pressure ${v.cpu.pressure_pct}%, other processes ${v.cpu.other_cores} cores; messages ${JSON.stringify(v.messages)}; DOM ${JSON.stringify(v.dom)}` +
    (v.hottest ? `\n         hottest (profiled, not traced): ${v.hottest.map((h) => `${h.self_ms} ms ${h.fn}`).join(' | ')}` : '');
  return [`run ${r.run}: p95 frame time ratio loaded/bare ${r.ratio}`, ...r.views.map(line)].join('\n');
}

/** The figures of one page version's runs: medians, ratios, targets; printed unless `--json`. */
function reportOf(runs, opts, load, grids, browserVersion) {
  const of = (name, pick) => median(runs.map((r) => pick(r.views.find((v) => v.view === name))));
  const summary = Object.fromEntries(['bare', 'loaded'].map((name) => [name, {
    frame_median_ms: of(name, (v) => v.frames.median_ms),
    frame_p95_ms: of(name, (v) => v.frames.p95_ms),
    cpu_median_ms: of(name, (v) => v.cost?.frame_cpu_ms.median),
    cpu_p95_ms: of(name, (v) => v.cost?.frame_cpu_ms.p95),
    wall_p95_ms: of(name, (v) => v.cost?.frame_wall_ms.p95),
    layout_cpu_p95_ms: of(name, (v) => v.cost?.frame_layout_cpu_ms.p95),
    slot_cpu_p95_ms: of(name, (v) => v.cost?.slot_cpu_ms.p95),
    slot_cpu_max_ms: of(name, (v) => v.cost?.slot_cpu_ms.max),
  }]));
  summary.ratios = runs.map((r) => r.ratio);
  summary.ratio_median = median(summary.ratios);
  summary.cost_target_met = summary.loaded.cpu_p95_ms !== null && summary.loaded.cpu_p95_ms < TARGET_COST_P95_MS;
  summary.slot_target_met = summary.loaded.slot_cpu_p95_ms !== null && summary.loaded.slot_cpu_p95_ms < TARGET_COST_P95_MS;
  summary.ratio_target_met = summary.ratio_median !== null && summary.ratio_median <= TARGET_RATIO;
  const loadedViews = runs.flatMap((r) => r.views.filter((v) => v.view === 'loaded'));
  const failures = [];
  if (loadedViews.some((v) => !v.moved || !(v.messages.position > 0))) failures.push('the workers did not move on the map in some run');
  const report = {
    measured_at: new Date().toISOString(),
    options: { ...opts, bin: process.env.GRIDWATCH_BIN || 'target/debug/gridwatch' },
    load: { incidents: load.incidents, workers: load.workerIds.length, grids: grids.length },
    runs,
    summary,
    machine: machine({ chromium: browserVersion, webgl: runs[0].views[0].webgl, gridwatch: process.env.GRIDWATCH_BIN || 'target/debug/gridwatch' }),
    failures,
  };
  if (opts.json) console.log(JSON.stringify(report));
  else {
    const s = summary;
    console.log([
      '',
      `${runs[0].web ? `page from ${runs[0].web}: ` : ''}medians of ${opts.runs} runs (${opts.seconds} s a view, ${report.load.incidents} incidents, ${report.load.workers} workers, a fix every ${opts.fixEvery} s each):`,
      ...['bare', 'loaded'].map((name) => `  ${name.padEnd(7)} frame time median ${s[name].frame_median_ms} p95 ${s[name].frame_p95_ms} ms; ` +
        `script+layout a frame CPU median ${s[name].cpu_median_ms} p95 ${s[name].cpu_p95_ms} ms (wall p95 ${s[name].wall_p95_ms}, layout CPU p95 ${s[name].layout_cpu_p95_ms}); ` +
        `a 16.7 ms slot CPU p95 ${s[name].slot_cpu_p95_ms}, max ${s[name].slot_cpu_max_ms} ms`),
      `  ratio of p95 frame times, loaded/bare, by run: ${s.ratios.join(', ')} (median ${s.ratio_median})`,
      `targets: script+layout p95 < ${TARGET_COST_P95_MS} ms a frame ${s.cost_target_met ? 'met' : 'NOT met'}, a 16.7 ms slot ${s.slot_target_met ? 'met' : 'NOT met'}; ratio ≤ ${TARGET_RATIO} ${s.ratio_target_met ? 'met' : 'NOT met'}`,
      `loaded view's main thread, top-level events by wall time (last run): ${loadedViews.at(-1).top.map((t) => `${t.name} ${t.ms} ms ×${t.count}`).join('; ')}`,
      `moves (last run): ${JSON.stringify(loadedViews.at(-1).moves)}; messages: ${JSON.stringify(loadedViews.at(-1).messages)}`,
      `machine: ${report.machine.nproc} cores (${report.machine.cpu}), Chromium ${report.machine.chromium}, WebGL ${report.machine.webgl}; load ${report.machine.loadavg.join(' ')}`,
      ...runs.flatMap((r) => r.views.flatMap((v) => v.errors.slice(0, 3).map((e) => `page error (run ${r.run}, ${v.view}): ${e}`))),
      ...failures.map((f) => `FAILED: ${f}`),
    ].join('\n'));
  }
  return report;
}

async function main() {
  const opts = options();
  if (opts.bin) process.env.GRIDWATCH_BIN = opts.bin;
  progress('starting two gridwatch demos');
  const args = opts.demoArgs;
  const [bare, loaded] = await Promise.all([startServer({ args }), startServer({ args })]);
  let browser;
  try {
    const load = await seedLoad(loaded, opts);
    const grids = load.grids;
    // A page served by the route is not from the server's address, so Chromium's local-network checks
    // would refuse its websocket to 127.0.0.1: they are off when `--web` is given.
    if (opts.webs[0]) process.env.CHROMIUM_EXTRA_ARGS = `${process.env.CHROMIUM_EXTRA_ARGS ?? ''} --disable-features=LocalNetworkAccessChecks`;
    browser = await launchBrowser();
    const views = [{ name: 'bare', server: bare, grids, load: null }, { name: 'loaded', server: loaded, grids, load }];
    // Each run measures every page version (`--web A,B`), in turn, the order alternating between runs.
    const allRuns = opts.webs.map(() => []);
    for (let run = 1; run <= opts.runs; run += 1) {
      const webOrder = opts.webs.map((web, i) => [web, i]);
      if (run % 2 === 0) webOrder.reverse();
      for (const [web, i] of webOrder) {
        const order = run % 2 ? views : [...views].reverse();
        const measured = [];
        for (const view of order) {
          progress(`run ${run}${web ? ` (${web})` : ''}: ${view.name}`);
          measured.push(await measureView(browser, view.server, { ...view, web }, opts, run));
        }
        const byName = Object.fromEntries(measured.map((m) => [m.view, m]));
        const ratio = round(byName.loaded.frames.p95_ms / byName.bare.frames.p95_ms, 2);
        allRuns[i].push({ run, web, ratio, views: measured });
        if (!opts.json) console.log(formatRun(allRuns[i].at(-1)));
      }
    }
    const reports = allRuns.map((runs) => reportOf(runs, opts, load, grids, browser.version()));
    process.exitCode = reports.some((r) => r.failures.length) ? 1 : 0;
  } finally {
    await browser?.close();
    await Promise.all([bare.stop(), loaded.stop()]);
  }
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(2);
});
