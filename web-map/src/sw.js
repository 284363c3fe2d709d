// The grid worker view's service worker (served at `/sw.js`, registered by `/worker`): keeps the page,
// its scripts, styles, the map library, glyphs and the base-map tiles it has shown, so a reload with
// no signal still opens the view with its map (and the cases it last saw and its queued actions). On the
// first visit the map's tiles come through the page's `keep` message (the page names them: those of the
// worker's grids and each one the map asked for; see `js/worker/mapcache.js`).
// Its scope is `/` because the map's web worker (`/static/vendor/maplibre-gl-worker.mjs`, which fetches
// the tiles) must be in scope too; requests from the other pages' windows are passed through untouched.
// Network first: a new build is picked up as soon as the network answers; the copy is only the
// fallback. Keys drop the query, so no token is part of a cache key. The API and the websocket are
// never touched: the page's outbox handles them.

const CACHE = 'gridwatch-worker-v1';

function cacheable(url) {
  return (
    url.origin === self.location.origin &&
    (url.pathname === '/worker' ||
      url.pathname.startsWith('/static/') ||
      url.pathname.startsWith('/fonts/') ||
      url.pathname === '/tiles/basemap.json' ||
      url.pathname.startsWith('/tiles/basemap/'))
  );
}

const keyOf = (url) => url.origin + url.pathname;

async function networkFirst(request) {
  const url = new URL(request.url);
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.status === 200) await cache.put(keyOf(url), response.clone());
    return response;
  } catch (err) {
    const kept = await cache.match(keyOf(url));
    if (kept) return kept;
    throw err;
  }
}

/**
 * Stores what the page loaded before this worker controlled it (the page sends the list); resolves
 * to how many could not be fetched (the network may have dropped meanwhile).
 */
async function keep(urls) {
  const cache = await caches.open(CACHE);
  const results = await Promise.allSettled(
    urls.map(async (text) => {
      const url = new URL(text);
      if (!cacheable(url)) return;
      const response = await fetch(url, { credentials: 'same-origin' });
      if (response.status !== 200) throw new Error(`${url.pathname}: ${response.status}`);
      await cache.put(keyOf(url), response);
    }),
  );
  return results.filter((r) => r.status === 'rejected').length;
}

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

/** Whether a request is the worker view's: its page, its own requests, or a web worker's (the map's). */
async function fromWorkerView(event) {
  if (event.request.mode === 'navigate') return new URL(event.request.url).pathname === '/worker';
  const client = event.clientId ? await self.clients.get(event.clientId) : null;
  return !client || client.type === 'worker' || new URL(client.url).pathname === '/worker';
}

async function respond(event) {
  return (await fromWorkerView(event)) ? networkFirst(event.request) : fetch(event.request);
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || !cacheable(url)) return;
  if (event.request.mode === 'navigate' && url.pathname !== '/worker') return;
  event.respondWith(respond(event));
});

self.addEventListener('message', (event) => {
  if (event.data?.type !== 'keep' || !Array.isArray(event.data.urls)) return;
  const reply = event.ports[0];
  event.waitUntil(
    keep(event.data.urls).then(
      (missed) => reply?.postMessage({ ok: true, missed }),
      (err) => reply?.postMessage({ ok: false, detail: String(err?.message || err) }),
    ),
  );
});
