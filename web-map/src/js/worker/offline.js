// Opening the view with no signal: the service worker (`/sw.js`) keeps the page's files, and the
// cases last seen are kept in localStorage (per token), shown at once on the next load until the
// websocket's snapshot replaces them.

const SEEN_KEY = 'gridwatch.worker.seen';

/** Saves who I am, the cases I see and the categories' names, for a reload without signal. */
export function saveSeen(owner, seen) {
  localStorage.setItem(SEEN_KEY, JSON.stringify({ owner, ...seen }));
}

/** What `saveSeen` kept for this token: `{me, cases, categories}`, or null. */
export function loadSeen(owner) {
  let saved = null;
  try {
    saved = JSON.parse(localStorage.getItem(SEEN_KEY) || 'null');
  } catch {
    localStorage.removeItem(SEEN_KEY);
  }
  return saved && saved.owner === owner && saved.me ? saved : null;
}

/**
 * Registers the service worker and hands it what the page has loaded so far (it only sees later
 * requests itself). Resolves to true once every file is kept; false where service workers are not
 * available (a page not served over https or from localhost), with no network, or when some file
 * could not be fetched (the worker keeps it the next time the page loads it).
 */
export async function keepForOffline(more = [], withPage = true) {
  if (!('serviceWorker' in navigator) || !navigator.onLine) return false;
  await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  const registration = await navigator.serviceWorker.ready;
  // `more`: what the page fetched through others (the map's tiles, fetched by its web worker).
  const page = withPage ? [window.location.origin + window.location.pathname, ...performance.getEntriesByType('resource').map((entry) => entry.name)] : [];
  const urls = [...page, ...more].filter((url) => url.startsWith(`${window.location.origin}/`));
  const answer = await new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (event) => resolve(event.data);
    registration.active.postMessage({ type: 'keep', urls }, [channel.port2]);
  });
  if (!answer?.ok) throw new Error(answer?.detail || 'the service worker could not keep the files');
  return answer.missed === 0;
}
