// `--profile`: a CPU profile of the page's main thread while the benchmark measures (Chrome DevTools
// Protocol), saved as a `.cpuprofile` (open it in Chromium's DevTools, Performance panel) and summed
// up as the functions with the most self time, to show where the frames' time goes.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Starts the profiler on `page`; resolves to `stop()`, which resolves to the profile. */
export async function startProfile(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
  await cdp.send('Profiler.start');
  return async () => {
    const { profile } = await cdp.send('Profiler.stop');
    await cdp.detach();
    return profile;
  };
}

/** The `top` functions by self time: `[{fn, self_ms, share_pct}]`, shares of all sampled time. */
export function hottest(profile, top = 15) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    total += delta;
    const { functionName, url, lineNumber, columnNumber } = nodes.get(id).callFrame;
    const file = url ? url.slice(url.lastIndexOf('/') + 1) : '';
    const name = `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}:${columnNumber + 1}` : ''}`;
    selfUs.set(name, (selfUs.get(name) ?? 0) + delta);
  });
  return [...selfUs]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, us]) => ({ fn, self_ms: Math.round(us / 1000), share_pct: Math.round((100 * us) / total) }));
}

export function saveProfile(profile, path) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(profile));
  return path;
}
