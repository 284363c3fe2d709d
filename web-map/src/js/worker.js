// The grid worker view (`/worker`): on a phone, my assignments and the open incidents near me, kept
// live by the websocket (`subscribe` with `mine: true`, whose snapshot also names me as the one worker
// it lists); accept, start, resolve (with a note and a photo) and send back through a persistent
// outbox that works with no signal; my position shared while on duty; an on/off duty switch (going off
// is confirmed in the page, as is a send-back's reason); 上报 of a new case with a photo, through the
// outbox; my patrol and its check-ins; a `geo:` link to the phone's maps app per case; and the base
// map kept for a visit with no signal from the first visit on (see `worker/mapcache.js`).

import { api, owner as signedInOwner } from './common/api.js';
import { applyStrings, translator } from './common/i18n.js';
import { categoryName } from './common/categories.js';
import { Live } from './common/live.js';
import { requireSession } from './common/session.js';
import { ask } from './worker/ask.js';
import { CaseBook, distanceM } from './worker/cases.js';
import { renderList } from './worker/list.js';
import { createMap } from './worker/map.js';
import { BaseMapWatch, gridTiles } from './worker/mapcache.js';
import { keepForOffline, loadSeen, saveSeen } from './worker/offline.js';
import { Outbox } from './worker/outbox.js';
import { PatrolTab } from './worker/patrol.js';
import { PositionSharer } from './worker/position.js';
import { messages } from './worker/problems.js';
import { problemText } from './common/problems.js';
import { openReport } from './worker/report.js';
import { openResolve } from './worker/resolve.js';
import { STRINGS } from './worker/strings.js';
import { UrgentAlert } from './worker/urgent.js';
import { setTzOffset } from './common/time.js';

const FILTER = { mine: true, layers: ['incidents', 'workers', 'alerts'] };
/** Moving this far (m) from where the subscription was made asks again, for the cases near me now. */
const RESUBSCRIBE_M = 300;

const t = translator(STRINGS);
applyStrings(t);
requireSession(t);

const $ = (selector) => document.querySelector(selector);
const book = new CaseBook();
const urgent = new UrgentAlert(document.getElementById('urgent-sound'));
const categories = new Map();
/** Categories kept for history that take no new case (not offered for 上报). */
const retired = new Set();
const described = new Set();
let me = null;
let here = null;
let basis = null;
let tab = 'mine';
let picked = null;
let locationProblem = null;
let knowMe;
const meKnown = new Promise((resolve) => {
  knowMe = resolve;
});
/** Set once the websocket exists (it reports its status from its constructor on). */
let sharer = null;

const owner = signedInOwner();
const seen = owner && loadSeen(owner);
if (seen) {
  me = seen.me;
  book.me = me.id;
  book.reset(seen.cases || []);
  knowMe();
  for (const [code, name] of seen.categories || []) categories.set(code, name);
}

const { show, report } = messages($('#problems'), t);

/** What a queued item is, in words. */
function labelOf(item) {
  if (item.report) return t('pending.report');
  if (item.photo) return t('pending.photo');
  if (item.duty) return t(item.duty === 'on_duty' ? 'duty.on' : 'duty.off');
  return t(`action.${item.action}`).replace('…', '');
}

const basemap = new BaseMapWatch();
const view = createMap('map', {
  onPick: (id) => pick(id, false),
  onProblem: (problem) => report(problem),
  transformRequest: basemap.transformRequest,
});
basemap.attach(view.map);
window.gridwatchMap = view.map;
window.gridwatchBasemap = basemap;
const patrol = new PatrolTab({ t, report: (problem) => report(problem), confirm: (question) => ask(t, question) });

const outbox = new Outbox({
  onSent: (item, result) => {
    if (item.action && result?.type === 'Feature') book.upsert(result);
    if (item.report && result?.type === 'Feature') reported(item, result);
    if (item.duty && result?.properties && me) me.duty = result.properties.duty;
    render();
  },
  onRefused: (item, problem) => {
    const action = labelOf(item);
    // Said in the page's language from the problem's `code`, never the server's English detail in zh-CN.
    report(problem, t('problem.refused', { id: item.incident ?? '', action, detail: problemText(problem, t.lang) }));
    render();
  },
  onChange: () => render(),
});

const live = new Live({
  filter: FILTER,
  on: {
    snapshot: (msg) => {
      const self = msg.workers?.[0];
      if (self) {
        me = { id: self.id, name: self.name, duty: self.duty };
        patrol.setMe(self.id);
        knowMe();
        book.me = self.id;
        basis = basis || (self.position ? { lat: self.position.lat, lon: self.position.lon } : null);
      }
      book.reset(msg.incidents || []);
      describeMine();
      render();
    },
    delta: (msg) => {
      if (msg.layer === 'incidents' && msg.kind !== 'incident.photo_added') {
        const before = book.byId.get(msg.data.id);
        if (urgent.check(msg.data, me?.id, before)) show(t('urgent.assigned', { id: msg.data.id }), 'alert');
        book.upsert(msg.data);
        describeMine();
      }
      if (msg.layer === 'workers' && msg.id === me?.id) me.duty = msg.data.duty;
      if (msg.layer === 'alerts') show(`${t('alert.title', { title: msg.data?.title ?? '' })} ${msg.data?.message ?? ''}`, 'alert');
      render();
    },
    position_ack: (msg) => {
      sharer.acknowledged(msg.ref);
      if (here && (!basis || distanceM(basis, here) > RESUBSCRIBE_M)) {
        basis = { ...here };
        live.setFilter(FILTER);
      }
    },
    error: (msg) => report(msg),
    status: (status) => {
      $('#live').dataset.status = status;
      $('#live').textContent = t(`live.${status}`);
      if (status === 'connected') reconnected();
      if (status === 'connected') basemap.retry();
      if (status === 'offline') sharer?.socketLost();
      render();
    },
  },
});

sharer = new PositionSharer({
  live,
  onFix: (fix) => {
    here = fix;
    view.showMe(fix);
    render();
  },
  onUnavailable: (error) => {
    locationProblem = t('position.denied', { detail: error.message || error.code });
    render();
  },
  onProblem: (problem) => report(problem),
});

function reconnected() {
  outbox.flush();
  sharer?.flush();
}

/** What the worker sees of their duty: the server's, or the one still queued. */
function shownDuty() {
  const queued = outbox.items.filter((item) => item.duty).at(-1);
  return { duty: queued?.duty ?? me?.duty, queued: Boolean(queued) };
}

function renderDuty() {
  const button = $('#duty');
  const { duty, queued } = shownDuty();
  const label = t(duty === 'on_duty' ? 'duty.on' : 'duty.off');
  button.disabled = !me;
  button.textContent = queued ? t('duty.pending', { duty: label }) : label;
  button.setAttribute('aria-pressed', String(duty === 'on_duty'));
  button.toggleAttribute('data-pending', queued);
  sharer.setSharing(duty === 'on_duty');
  let note = t('position.not_sharing');
  if (duty === 'on_duty') note = here ? t('position.sharing') : t('position.waiting');
  $('#position-note').textContent = locationProblem || note;
}

function renderOutbox() {
  const box = $('#outbox');
  const n = outbox.items.length;
  box.hidden = n === 0;
  box.dataset.count = String(n);
  const state = outbox.stalled || !navigator.onLine ? 'offline' : outbox.sending ? 'sending' : 'waiting';
  box.dataset.state = state;
  box.textContent = t(`outbox.${state}`, { n });
}

function render() {
  if (!sharer) return;
  const { mine, nearby } = book.lists(outbox.items, here);
  const options = { t, category: (code) => categories.get(code) || code, labelOf, onAction: act, onPick: (c) => pick(c.id, true) };
  renderList($('#list-mine'), mine, { ...options, mine: true });
  renderList($('#list-nearby'), nearby, { ...options, mine: false });
  $('#count-mine').textContent = String(mine.length);
  $('#count-nearby').textContent = String(nearby.length);
  view.showCases(mine, nearby);
  if (picked !== null) document.querySelector(`[data-case="${picked}"]`)?.classList.add('picked');
  renderOutbox();
  renderDuty();
  if (me) saveSeen(owner, { me, cases: [...book.byId.values()], categories: [...categories] });
}

/** Fetches, once, a case's description (the websocket's summaries leave it out). */
function describe(c) {
  if (c.description !== undefined || described.has(c.id)) return;
  described.add(c.id);
  api(`/api/incidents/${c.id}`)
    .then((feature) => {
      book.upsert(feature);
      render();
    })
    .catch((problem) => {
      described.delete(c.id);
      report(problem);
    });
}

function describeMine() {
  for (const c of book.byId.values()) if (book.isMine(c)) describe(c);
}

function pick(id, fromList) {
  const c = book.get(id);
  if (!c) return;
  picked = id;
  describe(c);
  if (fromList) view.focus(c);
  else selectTab(book.isMine(c) ? 'mine' : 'nearby');
  render();
  document.querySelector(`[data-case="${id}"]`)?.scrollIntoView({ block: 'nearest' });
}

function selectTab(name) {
  tab = name;
  for (const button of document.querySelectorAll('[data-tab]')) button.setAttribute('aria-selected', String(button.dataset.tab === tab));
  $('#list-mine').hidden = tab !== 'mine';
  $('#list-nearby').hidden = tab !== 'nearby';
  $('#patrol').hidden = tab !== 'patrol';
  if (tab === 'patrol') patrol.refresh();
}

/** 上报: queues the new case (and then its photo, once the case has an id). */
function fieldReport({ photo, ...fields }) {
  const body = { ...fields, source: 'worker' };
  outbox.add({ path: '/api/incidents', method: 'POST', body, report: true, reportPhoto: photo, photoName: photo?.name });
}

/** A field report the server registered: shown, and its photo queued for the new case. */
function reported(item, feature) {
  book.upsert(feature);
  show(t('report.sent', { id: feature.id }), 'alert');
  document.body.dataset.reported = String(feature.id);
  if (item.reportPhoto) {
    outbox.add({ path: `/api/incidents/${feature.id}/photos`, photo: item.reportPhoto, photoName: item.photoName, incident: feature.id });
  }
}

/** Hands the service worker the page's files and the base map's tiles: the worker's grids' at once, then
 * each tile the map asks for as it goes (the service worker does not see the map's own requests until
 * the next visit). */
async function keepBaseMap() {
  const sent = new Set();
  const fresh = () => [...basemap.requested].filter((url) => !sent.has(url));
  let grids = [];
  if (me) grids = await gridTiles(me.id, '/tiles/basemap.json').catch(() => []);
  const first = [...grids, ...fresh()];
  const kept = await keepForOffline(first);
  for (const url of first) sent.add(url);
  if (kept) document.documentElement.dataset.offlineReady = 'true';
  view.map.on('idle', () => {
    const more = fresh();
    if (more.length === 0 || !navigator.onLine) return;
    for (const url of more) sent.add(url);
    keepForOffline(more, false).catch(() => {});
  });
}

function queueAction(c, body, extra = {}) {
  return outbox.add({ path: `/api/incidents/${c.id}/actions`, method: 'POST', body, incident: c.id, action: body.action, ...extra });
}

/** Queues a resolve, after its photo if there is one (a case takes photos while it is open). */
async function resolve(c, { note, photo }) {
  if (photo) await outbox.add({ path: `/api/incidents/${c.id}/photos`, photo, photoName: photo.name, incident: c.id });
  await queueAction(c, { action: 'resolve', note });
}

function act(c, action) {
  if (action === 'resolve') {
    openResolve(c, t, (input) => resolve(c, input));
    return;
  }
  if (action === 'send_back') {
    ask(t, { title: t('send_back.title', { id: c.id }), ok: t('action.send_back'), reason: true, kind: 'send-back' }).then((reason) => {
      if (reason) queueAction(c, { action, reason });
    });
    return;
  }
  queueAction(c, { action });
}

$('#duty').onclick = async () => {
  if (!me) return;
  const duty = shownDuty().duty === 'on_duty' ? 'off_duty' : 'on_duty';
  // Going off duty stops sharing the position and routing: asked first, as a tap may be a slip.
  if (duty === 'off_duty' && !(await ask(t, { title: t('duty.off_confirm'), ok: t('duty.go_off'), kind: 'off-duty' }))) return;
  outbox.add({ path: `/api/workers/${me.id}/duty`, method: 'PUT', body: { duty }, duty });
};
$('#report-open').onclick = () => {
  const where = () => (here ? { ...here, fix: true } : { ...view.centre(), fix: false });
  const open = new Map([...categories].filter(([code]) => !retired.has(code)));
  openReport(t, { categories: open, where, onReport: fieldReport });
};
for (const button of document.querySelectorAll('[data-tab]')) button.onclick = () => selectTab(button.dataset.tab);
window.addEventListener('online', () => {
  // The browser says the network is back: a send begun without one is given up and sent again, and the
  // base map asks again for the tiles that failed meanwhile.
  outbox.online();
  sharer?.flush();
  basemap.retry();
});
window.addEventListener('offline', () => render());

async function start() {
  if (!owner) {
    show(t('error.token'));
    return;
  }
  sharer.watch();
  render();
  // Deadlines read in the deployment's zone, not the phone's; offline, the phone's until the next visit.
  api('/api/me').then((self) => { setTzOffset(self.tz_offset_minutes); render(); }, () => {});
  view.map.once('load', () => {
    // Once the worker is known (the first snapshot, or what the last visit kept), for their grids' tiles.
    meKnown.then(keepBaseMap).catch((err) => report(err));
  });
  try {
    await outbox.open();
    outbox.flush();
  } catch (err) {
    report(err);
  }
  try {
    for (const category of await api('/api/categories')) {
      categories.set(category.code, categoryName(category, t.lang));
      if (category.active === false) retired.add(category.code);
    }
    render();
  } catch (problem) {
    report(problem);
  }
}

start();
