// The page's own cost from Chrome's tracing: how long the renderer's main thread (CrRendererMain) runs
// script and layout, frame by frame.
//
// What counts: the union of the time covered by the main thread's script events (`FunctionCall`,
// `EvaluateScript`, `v8.callFunction`, `v8.run`, `v8.compile`, `TimerFire`, `FireAnimationFrame`,
// `FireIdleCallback`, `EventDispatch`, `RunMicrotasks`, `XHRReadyStateChange`, the garbage collector's
// `MinorGC`/`MajorGC`/`V8.GC*`) and layout events (`Layout`, `UpdateLayoutTree`, `RecalculateStyles`,
// `ParseHTML`, `ParseAuthorStyleSheet`). A union, so an event nested in another (a `FunctionCall` inside a
// `FireAnimationFrame`, a GC inside a call) is counted once. Paint, compositing and the browser's own
// tasks on that thread are not counted, nor MapLibre's web workers (other threads).
//
// How it is counted: the main thread's script and layout events that are not inside another such event
// (a `FunctionCall` inside a `FireAnimationFrame`, a forced `Layout` inside a call, a GC inside either:
// counted once, as part of the outer one), each with its thread time (`tdur`: CPU time, without the time
// the thread waited for a CPU on a busy machine) and its wall time (`dur`). Only complete (`X`) events:
// Chromium writes these as such.
//
// How it is divided into frames, two ways:
// - per frame of the page: from one `BeginMainThreadFrame` of the page's main thread (the main thread
//   starting the work of a new frame: `requestAnimationFrame` callbacks, style, layout) to the next; a
//   frame's cost is everything in between, whatever started it (a websocket message, a worker's tile, a
//   timer, MapLibre's render in the animation frame). On a renderer drawing 4–8 frames a second that
//   interval is 120–250 ms long, and the work of a quarter of a second's messages lands in one frame.
// - per 16.7 ms slot (a frame at 60 Hz) from the first frame start to the last: what the page takes of each
//   frame interval a display would give it, independent of how slowly this renderer draws.
// An event spanning two windows is split between them by its wall time (its CPU time in proportion).
// Frames and slots with no script count, as zero.

/** Script events of the main thread (names as Chromium's tracing writes them). */
const SCRIPT = new Set([
  'FunctionCall', 'EvaluateScript', 'v8.callFunction', 'v8.run', 'v8.compile', 'v8.compileModule', 'v8.evaluateModule',
  'TimerFire', 'FireAnimationFrame', 'FireIdleCallback', 'EventDispatch', 'RunMicrotasks', 'XHRReadyStateChange',
  'XHRLoad', 'MinorGC', 'MajorGC', 'V8.GCScavenger', 'V8.GCFinalizeMC', 'V8.GCIncrementalMarking', 'V8.GC_MC_BACKGROUND_EVACUATE_COPY',
  'BlinkGC.AtomicPhase', 'V8.GCCompactor', 'V8.GCMarkCompactor',
]);
/** Layout (and style) events of the main thread. */
const LAYOUT = new Set(['Layout', 'UpdateLayoutTree', 'RecalculateStyles', 'ParseHTML', 'ParseAuthorStyleSheet']);
/** The event that starts a frame's work on the main thread. */
const FRAME_START = 'BeginMainThreadFrame';

/** The tracing categories that hold the events above. */
export const CATEGORIES = [
  'devtools.timeline', 'disabled-by-default-devtools.timeline', 'disabled-by-default-devtools.timeline.frame',
  'v8.execute', 'v8', 'blink.user_timing', 'loading',
];

/** Starts tracing the browser `page` is in (playwright-core, Chromium only). */
export function startTrace(browser, page) {
  return browser.startTracing(page, { categories: CATEGORIES, screenshots: false });
}

/** Stops tracing; resolves to the trace's events. */
export async function stopTrace(browser) {
  const buffer = await browser.stopTracing();
  const parsed = JSON.parse(buffer.toString('utf8'));
  return Array.isArray(parsed) ? parsed : parsed.traceEvents;
}

/**
 * The renderer main thread to read: of the `CrRendererMain` threads, the one with the most frame starts
 * (the page's, not a blank or helper renderer's). Resolves to `{pid, tid}` or null.
 */
function pageMainThread(events) {
  const mains = new Set();
  for (const e of events) {
    if (e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain') mains.add(`${e.pid}:${e.tid}`);
  }
  const starts = new Map();
  for (const e of events) {
    const key = `${e.pid}:${e.tid}`;
    if (e.name === FRAME_START && mains.has(key)) starts.set(key, (starts.get(key) ?? 0) + 1);
  }
  const [best] = [...starts].sort((a, b) => b[1] - a[1]);
  if (!best) return null;
  const [pid, tid] = best[0].split(':').map(Number);
  return { pid, tid };
}

/**
 * The thread's counted events that are not inside another counted event: `[{start, end, cpu}]` (µs; `cpu`
 * is the event's thread time, `tdur`, which leaves out the time the thread waited for a CPU), sorted.
 * Complete (`X`) events only: Chromium writes these script and layout events as such.
 */
function topLevel(events, thread, names) {
  const list = events
    .filter((e) => e.pid === thread.pid && e.tid === thread.tid && e.ph === 'X' && e.dur > 0 && names.has(e.name))
    .sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const found = [];
  let coveredUntil = -Infinity;
  for (const e of list) {
    if (e.ts + e.dur <= coveredUntil) continue;
    // A later sibling that starts inside the last one (clock rounding) keeps only its own part.
    const start = Math.max(e.ts, coveredUntil);
    const share = (e.ts + e.dur - start) / e.dur;
    found.push({ start, end: e.ts + e.dur, cpu: (e.tdur ?? e.dur) * share });
    coveredUntil = e.ts + e.dur;
  }
  return found;
}

/** Wall and CPU time (µs) of `tasks` inside each window of `bounds` (ascending edges): `{wall: [], cpu: []}`. */
function perWindow(tasks, bounds) {
  const wall = new Array(Math.max(0, bounds.length - 1)).fill(0);
  const cpu = new Array(wall.length).fill(0);
  let w = 0;
  for (const task of tasks) {
    while (w < wall.length && bounds[w + 1] <= task.start) w += 1;
    for (let i = w; i < wall.length && bounds[i] < task.end; i += 1) {
      const overlap = Math.min(task.end, bounds[i + 1]) - Math.max(task.start, bounds[i]);
      if (overlap <= 0) continue;
      wall[i] += overlap;
      cpu[i] += (task.cpu * overlap) / (task.end - task.start);
    }
  }
  return { wall, cpu };
}

/** A frame at the display's rate (60 Hz), µs: the budget the 8 ms target is half of. */
export const VSYNC_US = 1e6 / 60;

const toMs = (list) => list.map((us) => us / 1000);

/**
 * The page's main-thread script and layout time (see the top of this file) between `fromUs` and `toUs`
 * (trace clock, µs; all when absent), per frame of the page and per 16.7 ms slot: `{frames, seconds,
 * frame: {cpu_ms, wall_ms, layout_cpu_ms}, slot: {cpu_ms, wall_ms}, cpu_share_pct}`, one entry a frame
 * (or slot). `cpu` is the thread's own time in those events, `wall` the time they spanned (longer when
 * the thread waited for a CPU on a busy machine).
 */
export function mainThreadCost(events, { fromUs = -Infinity, toUs = Infinity } = {}) {
  const thread = pageMainThread(events);
  if (!thread) return null;
  const starts = events
    .filter((e) => e.pid === thread.pid && e.tid === thread.tid && e.name === FRAME_START && e.ts >= fromUs && e.ts <= toUs)
    .map((e) => e.ts)
    .sort((a, b) => a - b);
  if (starts.length < 2) return null;
  const tasks = topLevel(events, thread, new Set([...SCRIPT, ...LAYOUT]));
  const layout = topLevel(events, thread, LAYOUT);
  const frame = perWindow(tasks, starts);
  const frameLayout = perWindow(layout, starts);
  const slots = [];
  for (let at = starts[0]; at <= starts.at(-1); at += VSYNC_US) slots.push(at);
  const slot = perWindow(tasks, slots);
  const windowUs = starts.at(-1) - starts[0];
  return {
    frames: frame.wall.length,
    seconds: windowUs / 1e6,
    frame: { cpu_ms: toMs(frame.cpu), wall_ms: toMs(frame.wall), layout_cpu_ms: toMs(frameLayout.cpu) },
    slot: { cpu_ms: toMs(slot.cpu), wall_ms: toMs(slot.wall) },
    cpu_share_pct: (100 * frame.cpu.reduce((a, b) => a + b, 0)) / windowUs,
  };
}

/**
 * Where the main thread's time went (top-level events only, by name): `[{name, ms, count}]`, most first,
 * over the same window, to see what to make cheaper.
 */
export function topLevelByName(events, { fromUs = -Infinity, toUs = Infinity } = {}, top = 12) {
  const thread = pageMainThread(events);
  if (!thread) return [];
  const wanted = new Set([...SCRIPT, ...LAYOUT, 'Paint', 'PrePaint', 'Layerize', 'UpdateLayer', 'HitTest', 'ParseHTML']);
  const list = events
    .filter((e) => e.pid === thread.pid && e.tid === thread.tid && e.ph === 'X' && wanted.has(e.name) && e.ts >= fromUs && e.ts <= toUs)
    .sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const totals = new Map();
  let coveredUntil = -Infinity;
  for (const e of list) {
    if (e.ts < coveredUntil) continue; // nested in an event already counted
    coveredUntil = e.ts + e.dur;
    const name = e.name === 'FunctionCall' && e.args?.data?.url
      ? `FunctionCall ${e.args.data.url.split('/').pop()}:${e.args.data.functionName || '(anonymous)'}`
      : e.name;
    const entry = totals.get(name) ?? { name, ms: 0, count: 0 };
    entry.ms += e.dur / 1000;
    entry.count += 1;
    totals.set(name, entry);
  }
  return [...totals.values()].sort((a, b) => b.ms - a.ms).slice(0, top).map((e) => ({ ...e, ms: Math.round(e.ms) }));
}
