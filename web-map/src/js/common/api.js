// The HTTP side of gridwatch for the pages: the session, JSON calls, and problem+json errors.
//
// A person signs in at /login.html. The browser then holds the session in an HttpOnly cookie that every
// same-origin request carries by itself (fetch, tiles, the websocket), so no credential is ever put in
// a URL or read by a script. A write repeats the session's CSRF token (the readable `gw_csrf` cookie)
// in `X-CSRF-Token`. Every write carries an `Idempotency-Key` (a new UUID unless the caller passes the
// key of the write it retries, as the worker's outbox does), so a write whose answer was lost can be sent
// again and is done once: the server answers a repeated key with the first answer. A 401 means the session has ended (idle, absolute, signed out elsewhere, account
// disabled): the page goes back to the login page, which says so.

const USER_KEY = 'gridwatch.user';
const CSRF_COOKIE = 'gw_csrf';

/** The session's CSRF token, from its readable cookie; null when not signed in. */
export function csrfToken() {
  for (const pair of document.cookie.split(';')) {
    const [name, ...rest] = pair.trim().split('=');
    if (name === CSRF_COOKIE && rest.length) return rest.join('=');
  }
  return null;
}

/** Who is signed in on this browser (the login name the login page kept), for per-person offline data. */
export function owner() {
  return localStorage.getItem(USER_KEY);
}

/** Keeps the login name of the person who just signed in. */
export function rememberOwner(name) {
  localStorage.setItem(USER_KEY, name);
}

/** The login page's address, saying why and where to come back to. */
export function loginUrl(reason) {
  const here = window.location.pathname + window.location.search;
  const url = new URL('/login.html', window.location.origin);
  if (reason) url.searchParams.set('reason', reason);
  if (!here.startsWith('/login')) url.searchParams.set('next', here);
  const lang = new URL(window.location.href).searchParams.get('lang');
  if (lang) url.searchParams.set('lang', lang);
  return url.pathname + url.search;
}

/** Set once the page is leaving for the login page: the first reason wins (signing out ends the
 * session, and the websocket's close that follows must not say "ended"). */
let leaving = null;

/** Leaves for the login page: the session has ended (`ended`) or there was none (`signin`). */
export function toLogin(reason = 'ended') {
  if (leaving) return;
  leaving = reason;
  window.location.assign(loginUrl(reason));
}

/** A new idempotency key: a random UUID. `crypto.randomUUID` exists only in secure contexts (https,
 * localhost); a command centre on an isolated network may serve plain http, so the same version-4 UUID
 * is built from `crypto.getRandomValues` there. */
export function newIdempotencyKey() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Whether a problem says the first request with this idempotency key is still being answered: send the
 * same write with the same key again later (`Retry-After`). */
export function inFlight(problem) {
  return problem?.status === 409 && problem?.type === '/problems/idempotency-key-in-flight';
}

/** Whether a problem says the request with this idempotency key was carried out but its answer was
 * lost (the server could not learn in time whether it committed, and now knows it did): it is done. */
export function committed(problem) {
  return problem?.status === 409 && problem?.type === '/problems/idempotency-key-committed';
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
 * A write sends `Idempotency-Key`: `idempotencyKey` when given (the same on every retry of one write),
 * else a new one. Throws `Problem` on a non-2xx answer, and `Problem` with status 0 when the network
 * failed. A 401 (the session ended) also sends the page to the login page, unless `noRedirect`.
 */
export async function api(path, { method = 'GET', body, headers = {}, signal, noRedirect = false, idempotencyKey } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, signal, credentials: 'same-origin' };
  if (method !== 'GET' && method !== 'HEAD') {
    const csrf = csrfToken();
    if (csrf) init.headers['X-CSRF-Token'] = csrf;
    init.headers['Idempotency-Key'] = idempotencyKey || newIdempotencyKey();
  }
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
  if (response.status === 401 && !noRedirect) toLogin(csrfToken() ? 'ended' : 'signin');
  if (response.status === 403 && parsed?.type === '/problems/password-change-required' && !noRedirect) toLogin('change');
  if (!response.ok) throw new Problem(response.status, parsed);
  return parsed;
}

/** The URL of a gridwatch resource that a browser loads by itself (tiles, TileJSON): the session cookie
 * goes with it, so the URL carries no credential. */
export function resourceUrl(path) {
  return new URL(path, window.location.origin).toString();
}

/** Signs out: ends the session on the server, then shows the login page. */
export async function signOut() {
  leaving = 'signedout';
  try {
    await api('/api/session', { method: 'DELETE', noRedirect: true });
  } catch {
    // Already ended: the login page is where we go either way.
  }
  window.location.assign(loginUrl('signedout'));
}
