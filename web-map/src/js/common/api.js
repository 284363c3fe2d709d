// The HTTP side of gridwatch for the pages: the token, JSON calls, and problem+json errors.
//
// The token arrives once in the address (`?token=…`, as the demo prints it), is kept in localStorage
// and taken out of the address bar, so a screenshot or a shared link never carries it.

const TOKEN_KEY = 'gridwatch.token';

/** The bearer token: from `?token=` (then kept) or from an earlier visit. */
export function token() {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    localStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    window.history.replaceState(null, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return localStorage.getItem(TOKEN_KEY);
}

/** Forgets the token (a 401 means it was revoked or belongs to another store). */
export function forgetToken() {
  localStorage.removeItem(TOKEN_KEY);
}

/** An error answer of the API: RFC 9457 problem details, or a network failure (`status` 0). */
export class Problem extends Error {
  constructor(status, body) {
    super(body?.detail || body?.title || `HTTP ${status}`);
    this.status = status;
    this.type = body?.type || 'about:blank';
    this.title = body?.title || '';
    this.detail = body?.detail || '';
    this.body = body || {};
  }

  /** True when the request never reached the server: the action may be retried as it was. */
  get offline() {
    return this.status === 0;
  }
}

/**
 * Calls the API. `body` is sent as JSON (or as is when it is FormData); the answer is parsed as JSON.
 * Throws `Problem` on a non-2xx answer, and `Problem` with status 0 when the network failed.
 */
export async function api(path, { method = 'GET', body, headers = {}, signal } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, signal };
  const secret = token();
  if (secret) init.headers.Authorization = `Bearer ${secret}`;
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    throw new Problem(0, { title: 'offline', detail: String(err?.message || err) });
  }
  const text = await response.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { detail: text };
    }
  }
  if (!response.ok) throw new Problem(response.status, parsed);
  return parsed;
}

/** The URL of a gridwatch resource that a browser loads by itself (tiles, websocket): token in the query. */
export function withToken(path) {
  const secret = token();
  const url = new URL(path, window.location.origin);
  if (secret) url.searchParams.set('token', secret);
  return url.toString();
}
