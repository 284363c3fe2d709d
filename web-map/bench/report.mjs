// The benchmark's figures and how they are printed: frame-time percentiles, the machine it ran on, and
// who used its CPUs while the frames were measured (the machine is shared: a busy spell shows here).

import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

/** The issue's target: p95 frame time under this, ms. */
export const TARGET_P95_MS = 50;

/** Nearest-rank percentile of ascending `sorted`. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const round = (value, digits = 1) => (value === null || !Number.isFinite(value) ? null : Number(value.toFixed(digits)));

/** Frame and long-task figures of a recording (`{frames: [ms…], longTasks: [ms…], legs}`). */
export function summarize(recorded) {
  const frames = [...recorded.frames].sort((a, b) => a - b);
  const total = recorded.frames.reduce((a, b) => a + b, 0);
  return {
    frames: frames.length,
    fps: round(frames.length / (total / 1000)),
    median_ms: round(percentile(frames, 50)),
    p95_ms: round(percentile(frames, 95)),
    p99_ms: round(percentile(frames, 99)),
    max_ms: round(frames.at(-1) ?? null),
    over_50ms: frames.filter((f) => f > 50).length,
    over_100ms: frames.filter((f) => f > 100).length,
    long_tasks: recorded.longTasks.length,
    long_task_ms: round(recorded.longTasks.reduce((a, b) => a + b, 0)),
    legs: recorded.legs,
  };
}

/** Linux's CPU pressure counter: µs in which some task waited for a CPU, or null without one. */
function stallMicros() {
  try {
    return Number(readFileSync('/proc/pressure/cpu', 'utf8').match(/^some .*total=(\d+)/)[1]);
  } catch {
    return null;
  }
}

/** CPU seconds the whole machine has spent busy (all but idle and iowait), or null without /proc/stat. */
function machineBusySeconds() {
  try {
    const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [idle, iowait] = [ticks[3], ticks[4]];
    return (ticks.reduce((a, b) => a + b, 0) - idle - iowait) / 100;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) process `pid` has used so far, or null where /proc cannot tell. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat, in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** The descendants of process `root`: `[{pid, name}]`, a Chromium process named by its `--type`. */
function descendants(root) {
  const parents = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      parents.set(Number(entry), Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ')[1]));
    } catch {
      // the process ended while the list was read
    }
  }
  const found = [];
  const visit = (pid) => {
    for (const [child, parent] of parents) {
      if (parent !== pid) continue;
      let name = 'other';
      try {
        // Chromium rewrites its command line into one space-separated string.
        const line = readFileSync(`/proc/${child}/cmdline`, 'utf8');
        name = line.match(/--type=(\S+)/)?.[1] ?? line.split(/[\0 ]/)[0].split('/').pop();
      } catch {
        // ended meanwhile
      }
      found.push({ pid: child, name });
      visit(child);
    }
  };
  visit(root);
  return found;
}

/** CPU seconds used so far by `root` (as `bench`) and each kind of process under it (gpu-process, renderer…). */
function cpuByProcess(root) {
  const totals = { bench: cpuSeconds(root) ?? 0 };
  for (const { pid, name } of descendants(root)) {
    const used = cpuSeconds(pid);
    if (used !== null) totals[name] = (totals[name] ?? 0) + used;
  }
  return totals;
}

/**
 * Starts watching the CPU on a shared machine; the function it returns gives, for the time since:
 * `pressure_pct` (the share of it in which some task waited for a CPU), `cores_used` by `root` (this
 * benchmark) and each kind of process under it, `machine_busy_cores` and `other_cores` (everyone else's).
 */
export function watchCpu(root) {
  const mark = () => ({ at: Date.now(), stall: stallMicros(), busy: machineBusySeconds(), ours: cpuByProcess(root) });
  const start = mark();
  return () => {
    const end = mark();
    const seconds = (end.at - start.at) / 1000;
    const cores = Object.fromEntries(
      // A process that ended meanwhile takes its time with it: never below zero.
      Object.entries(end.ours).map(([name, used]) => [name, round(Math.max(0, used - (start.ours[name] ?? 0)) / seconds, 2)]),
    );
    const known = (a, b) => a !== null && b !== null;
    const busy = known(start.busy, end.busy) ? (end.busy - start.busy) / seconds : null;
    const ours = Object.values(cores).reduce((a, b) => a + b, 0);
    return {
      pressure_pct: known(start.stall, end.stall) ? round((end.stall - start.stall) / (seconds * 10_000), 0) : null,
      cores_used: cores,
      machine_busy_cores: round(busy, 2),
      other_cores: busy === null ? null : round(Math.max(0, busy - ours), 2),
    };
  };
}

export function machine({ chromium, webgl, gridwatch }) {
  return {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memory_gib: round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    loadavg: os.loadavg().map((l) => round(l, 2)),
    chromium,
    webgl,
    node: process.version,
    gridwatch,
  };
}

/** The report as text. */
export function formatReport(r) {
  const f = r.frames;
  const m = r.machine;
  const lines = [
    `gridwatch command centre frame times — ${r.measured_at}`,
    '',
    `data        ${r.data.incidents_created} incidents created (${r.data.open_incidents} open of ${r.data.all_incidents} on the server), ` +
      `${r.data.workers_created} workers on duty, ${r.data.grids} grids; seed ${r.seed}`,
    `            setup: workers ${r.setup.workers_s} s, incidents ${r.setup.incidents_s} s (${r.setup.incidents_per_s ?? '-'}/s)`,
    `on the map  incidents source ${r.page.incidents_in_source ?? 'missing'}, workers source ${r.page.workers_in_source ?? 'missing'} ` +
      `(located); loaded ${r.page.loaded ? 'yes' : 'NO'} in ${r.page.load_s} s after navigation`,
    `websocket   ${r.page.messages} messages, ${round(r.page.message_bytes / 2 ** 20, 2)} MiB: ${JSON.stringify(r.page.by_type)}`,
    r.moves.batches
      ? `movement    ${r.moves.batches} batches, ${r.moves.accepted} fixes accepted, ${r.moves.flagged} flagged, ${r.moves.late} late; ` +
        `POST p50 ${r.moves.post_p50_ms} ms, max ${r.moves.post_max_ms} ms; ` +
        `workers moved on the map: ${r.page.workers_moved} of ${r.data.workers_created}`
      : 'movement    none (no workers)',
    '',
    `frames      ${f.frames} in ${r.seconds} s (${f.fps} fps), ${f.legs} easeTo legs of ${r.leg_ms} ms at zooms 13–17, ` +
      `${r.viewport.width}×${r.viewport.height} at pixel ratio ${r.pixel_ratio}`,
    `frame time  median ${f.median_ms} ms, p95 ${f.p95_ms} ms, p99 ${f.p99_ms} ms, max ${f.max_ms} ms; ` +
      `${f.over_50ms} frames over 50 ms, ${f.over_100ms} over 100 ms`,
    `long tasks  ${f.long_tasks} (${f.long_task_ms} ms in all)`,
    ...(r.hidden_layers.length ? [`hidden      ${r.hidden_layers.join(', ')}`] : []),
    `target      p95 < ${r.target_p95_ms} ms: ${r.target_met ? 'met' : 'NOT met'}`,
    '',
    `machine     ${m.nproc} cores (${m.cpu}), ${m.memory_gib} GiB, ${m.kernel}; load ${m.loadavg.join(' ')}`,
    `cpu         while measuring: some task waited for a CPU ${r.cpu.pressure_pct ?? '?'}% of the time; cores used: ` +
      `${Object.entries(r.cpu.cores_used).filter(([, cores]) => cores > 0).map(([name, cores]) => `${name} ${cores}`).join(', ')}; ` +
      `whole machine ${r.cpu.machine_busy_cores ?? '?'}, of which ${r.cpu.other_cores ?? '?'} by other processes`,
    `            Chromium ${m.chromium}, WebGL ${m.webgl}`,
    `            node ${m.node}, gridwatch ${m.gridwatch}`,
  ];
  if (r.profile) {
    lines.push('', `main thread, most self time; (program) is the browser's native code, not JavaScript (${r.profile.file}):`);
    lines.push(...r.profile.hottest.map((h) => `  ${String(h.self_ms).padStart(6)} ms ${String(h.share_pct).padStart(3)}%  ${h.fn}`));
  }
  if (r.page.errors.length) lines.push('', `page errors (${r.page.errors.length}):`, ...r.page.errors.slice(0, 5).map((e) => `  ${e}`));
  if (r.failures.length) lines.push('', ...r.failures.map((e) => `FAILED: ${e}`));
  return lines.join('\n');
}
