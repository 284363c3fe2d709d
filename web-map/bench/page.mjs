// What the benchmark does inside the page: counts the websocket's messages (by type, without parsing
// them twice), records every frame's duration from requestAnimationFrame and the long tasks the
// browser reports, reads the map's `incidents` and `workers` sources, and flies the map through a
// fixed loop of views.

/**
 * Runs in the page before its scripts: sets up the recorder and, with `countMessages`, wraps WebSocket to
 * count messages (a second listener on every message: cost.mjs, which measures the page's own script
 * time, counts them from outside the page instead).
 */
function instrument(countMessages) {
  const bench = { messages: 0, bytes: 0, byType: {}, frames: [], longTasks: [], recording: false, startedAt: 0 };
  window.__bench = bench;
  // The server writes `type` either first (insertion order) or after every nested object (sorted
  // keys): found by searching, not by parsing each message a second time.
  const typeOf = (text) => {
    const at = text.startsWith('{"type":"') ? 0 : text.lastIndexOf('"type":"');
    if (at < 0) return 'other';
    const start = at + 8;
    return text.slice(start, text.indexOf('"', start));
  };
  const Native = window.WebSocket;
  if (countMessages) window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        if (typeof event.data !== 'string') return;
        bench.messages += 1;
        bench.bytes += event.data.length;
        const type = typeOf(event.data);
        bench.byType[type] = (bench.byType[type] || 0) + 1;
      });
    }
  };
  const keepLongTasks = (entries) => {
    for (const entry of entries) {
      if (bench.recording && entry.startTime >= bench.startedAt) bench.longTasks.push(entry.duration);
    }
  };
  let observer = null;
  if (PerformanceObserver.supportedEntryTypes?.includes('longtask')) {
    observer = new PerformanceObserver((list) => keepLongTasks(list.getEntries()));
    observer.observe({ type: 'longtask' });
  }
  bench.start = () => {
    bench.frames = [];
    bench.longTasks = [];
    bench.recording = true;
    bench.startedAt = performance.now();
    let last = bench.startedAt;
    const tick = (now) => {
      if (!bench.recording) return;
      bench.frames.push(now - last);
      last = now;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame((now) => {
      last = now;
      requestAnimationFrame(tick);
    });
  };
  bench.stop = () => {
    keepLongTasks(observer?.takeRecords() ?? []);
    bench.recording = false;
    return { frames: bench.frames, longTasks: bench.longTasks };
  };
}

/** Adds the instrumentation to `page`; call before `page.goto`. */
export async function instrumentPage(page, { countMessages = true } = {}) {
  await page.addInitScript(instrument, countMessages);
}

/**
 * Counts the websocket messages `page` receives by type, from outside the page (the browser's own
 * record of the frames, not a listener in the page); returns the live counts object `{type: n}`.
 */
export function countFramesOutside(page) {
  const counts = {};
  page.on('websocket', (socket) => socket.on('framereceived', ({ payload }) => {
    if (typeof payload !== 'string') return;
    // As in the page: `type` first, or after every nested object (sorted keys).
    const at = payload.startsWith('{"type":"') ? 0 : payload.lastIndexOf('"type":"');
    const type = at < 0 ? 'other' : payload.slice(at + 8, payload.indexOf('"', at + 8));
    counts[type] = (counts[type] ?? 0) + 1;
  }));
  return counts;
}

/**
 * Reads a GeoJSON source of the map: `{features, located, ids: {id: [lon, lat]}}` (located: features with
 * a geometry), or `null` when the map has no such source yet.
 */
export function readSource(page, id, withCoordinates = false) {
  return page.evaluate(async ([sourceId, coordinates]) => {
    const source = window.gridwatchMap?.getSource(sourceId);
    if (!source || typeof source.getData !== 'function') return null;
    const data = await source.getData();
    const features = data?.features ?? [];
    const located = features.filter((f) => f.geometry?.type === 'Point');
    const ids = {};
    if (coordinates) {
      for (const f of located) ids[f.id ?? f.properties?.id] = f.geometry.coordinates;
    }
    return { features: features.length, located: located.length, ids };
  }, [id, withCoordinates]);
}

/** The websocket's counters so far: `{messages, bytes, byType}`. */
export function messageCounts(page) {
  return page.evaluate(() => ({ messages: window.__bench.messages, bytes: window.__bench.bytes, byType: { ...window.__bench.byType } }));
}

/**
 * Starts recording frames and flying the map through `views` ({center, zoom}), each leg an
 * `easeTo` of `legMs`, round and round until `stopRecording`.
 */
export function startRecording(page, views, legMs) {
  return page.evaluate(([tour, duration]) => {
    const map = window.gridwatchMap;
    const bench = window.__bench;
    bench.legs = 0;
    bench.start();
    const fly = async () => {
      for (let i = 0; bench.recording; i = (i + 1) % tour.length) {
        // A leg ends with its `moveend`; the timer only keeps the loop going should one never come.
        const arrived = new Promise((resolve) => {
          map.once('moveend', resolve);
          setTimeout(resolve, duration + 5000);
        });
        map.easeTo({ ...tour[i], duration });
        await arrived;
        bench.legs += 1;
      }
    };
    bench.flying = fly();
  }, [views, legMs]);
}

/** Stops recording; resolves to `{frames: [ms…], longTasks: [ms…], legs}` once the current leg ends. */
export function stopRecording(page) {
  return page.evaluate(async () => {
    const bench = window.__bench;
    const recorded = bench.stop();
    await bench.flying;
    return { ...recorded, legs: bench.legs };
  });
}

/** The page's WebGL renderer as the browser names it (e.g. SwiftShader through ANGLE). */
export function webglRenderer(page) {
  return page.evaluate(() => {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (!gl) return 'none';
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    return gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER);
  });
}

/** Hides every layer of the map drawn from one of `sources`; resolves to the ids of the layers hidden. */
export function hideSources(page, sources) {
  return page.evaluate((hidden) => {
    const map = window.gridwatchMap;
    const layers = map.getStyle().layers.filter((layer) => hidden.includes(layer.source));
    for (const layer of layers) map.setLayoutProperty(layer.id, 'visibility', 'none');
    return layers.map((layer) => layer.id);
  }, sources);
}

/** Sets MapLibre's pixel ratio when `ratio` is given; resolves to the ratio the map draws at. */
export function setPixelRatio(page, ratio) {
  return page.evaluate((wanted) => {
    const map = window.gridwatchMap;
    if (wanted !== null) map.setPixelRatio(wanted);
    return map.getPixelRatio();
  }, ratio);
}
