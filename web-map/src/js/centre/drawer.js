// The case drawer: one incident read from `GET /api/incidents/{id}` with its history, and a button for
// each command-centre action the signed-in user may take on it now (the case's `your_actions`: its
// state, the user's role, and never verifying a case they handled). An action is posted to
// `/api/incidents/{id}/actions`; its problem+json answer (409 naming the allowed actions, 403, 422…)
// is shown in the drawer in the page's language (common/problems.js), and the case is read again
// either way. A live change to the open case reloads it too.
//
// The evidence: the case's photos as thumbnails (`/api/photos/{sha}/thumbnail`, made once by the
// server) opening the full photo in a new tab — the session cookie goes with both, so no credential is
// in a URL — the resolve note, and the cameras whose sector covers the case (flying the map to one
// shows its sector). Every history line is rendered from structured data (actor name, target worker,
// level, new deadline) with times in the deployment's zone (common/time.js), never from stored prose.

import { api, Problem } from '../common/api.js';
import { actionWords, problemText } from '../common/problems.js';
import { formatInstant } from '../common/time.js';
import { dispatchSelect } from './dispatch.js';
import { historyLine } from './history.js';

/** What a command centre does to a case, in button order; `verify_failed` is `verify {passed: false}`. */
const CENTRE_ACTIONS = ['dispatch', 'reassign', 'verify', 'verify_failed', 'extend', 'escalate', 'defer', 'resume', 'reopen', 'cancel'];
/** Actions whose body carries `reason` (required by the server for all but escalate). */
const WITH_REASON = new Set(['extend', 'escalate', 'defer', 'reopen', 'cancel']);
const WITH_WORKER = new Set(['dispatch', 'reassign']);

export class Drawer {
  /**
   * @param {object} options
   * @param {(key: string, values?: object) => string} options.t
   * @param {(code: string) => string} options.categoryName
   * @param {() => Promise<Array<object>>} options.workers  every worker (names, grids), loaded once
   * @param {object} [options.map]  the map, flown to a camera when its link is clicked
   */
  constructor({ t, categoryName, workers, map }) {
    this.t = t;
    this.map = map;
    this.categoryName = categoryName;
    this.loadWorkers = workers;
    this.root = document.getElementById('drawer');
    this.body = document.getElementById('drawer-body');
    this.title = document.getElementById('drawer-title');
    this.message = document.getElementById('drawer-message');
    this.id = null;
    this.busy = false;
    document.getElementById('drawer-close').addEventListener('click', () => this.close());
  }

  close() {
    this.id = null;
    this.root.hidden = true;
  }

  /** Opens case `id` (or reloads it when it is the one open). */
  async open(id) {
    if (this.id !== id) this.showMessage(null);
    this.id = id;
    this.root.hidden = false;
    this.title.textContent = this.t('drawer.title', { id });
    if (Number(this.body.dataset.incident) !== id) {
      delete this.body.dataset.incident;
      this.body.replaceChildren(text('p', this.t('drawer.loading')));
    }
    try {
      // The cameras are evidence too, but a role that may not read them still sees the case.
      const cameras = api(`/api/incidents/${id}/cameras`).then((c) => c.features || [], () => []);
      const feature = await api(`/api/incidents/${id}`);
      if (this.id !== id) return;
      const workers = await this.loadWorkers();
      if (this.id !== id) return;
      this.render(feature.properties, workers, await cameras);
    } catch (err) {
      if (this.id === id) this.showMessage(err);
    }
  }

  /** A live change: reload the open case if it is this one (unless an action of ours is under way). */
  changed(summary) {
    if (this.id === summary.id && !this.busy) this.open(summary.id);
  }

  render(p, workers, cameras = []) {
    const t = this.t;
    this.body.dataset.incident = p.id;
    const facts = document.createElement('dl');
    const fact = (key, value) => facts.append(text('dt', t(key)), text('dd', value ?? '—'));
    fact('field.status', t(`status.${p.status}`));
    fact('field.priority', t(`priority.${p.priority}`));
    fact('field.category', this.categoryName(p.category));
    fact('field.level', t(`level.${p.level}`));
    fact('field.grid', p.grid_code);
    const assignee = workers.find((w) => w.id === p.assignee);
    fact('field.assignee', p.assignee ? assignee?.name || t('worker.n', { id: p.assignee }) : t('unassigned'));
    fact('field.deadline', formatInstant(p.deadline, t.lang) + (p.overdue ? ` · ${t('overdue')}` : ''));
    fact('field.created', formatInstant(p.created_at, t.lang));
    fact('field.source', t(`source.${p.source}`));
    fact('field.description', p.description || '—');
    facts.dataset.status = p.status;
    facts.dataset.level = p.level;

    const history = document.createElement('ol');
    history.className = 'history';
    for (const entry of p.history || []) {
      const li = text('li', historyLine(entry, { t, workers, formatTime: (iso) => formatInstant(iso, t.lang) }));
      li.dataset.action = entry.action;
      if (entry.note) li.append(text('div', entry.note));
      history.append(li);
    }
    this.body.replaceChildren(facts, ...this.evidence(p, cameras), text('h3', t('actions.title')), this.actions(p, workers), text('h3', t('history.title')), history);
  }

  /** The resolve note, the photos as thumbnails, and the cameras covering the case. */
  evidence(p, cameras) {
    const t = this.t;
    const parts = [];
    const resolved = [...(p.history || [])].reverse().find((e) => e.action === 'resolve');
    if (resolved?.note) {
      const note = text('blockquote', resolved.note);
      note.className = 'resolve-note';
      parts.push(text('h3', t('drawer.resolve_note')), note);
    }
    if (p.photos?.length) {
      const strip = document.createElement('div');
      strip.className = 'photos';
      for (const photo of p.photos) {
        const full = `/api/photos/${photo.sha256}`;
        const link = document.createElement('a');
        link.href = full;
        link.target = '_blank';
        link.rel = 'noopener';
        link.title = t('drawer.photo_open');
        const img = document.createElement('img');
        img.alt = t('drawer.photo_alt', { time: formatInstant(photo.at, t.lang) });
        img.loading = 'lazy';
        img.dataset.sha256 = photo.sha256;
        img.src = `${full}/thumbnail`;
        // A photo the server cannot make a thumbnail of (a WebP) is shown itself, scaled by the page.
        img.addEventListener('error', () => {
          if (img.src.endsWith('/thumbnail')) img.src = full;
        }, { once: true });
        link.append(img);
        strip.append(link);
      }
      parts.push(text('h3', t('drawer.photos')), strip);
    }
    if (cameras.length) {
      const list = document.createElement('ul');
      list.className = 'cameras';
      for (const camera of cameras) {
        const c = camera.properties;
        const button = text('button', t('drawer.camera', { name: c.name, distance: Math.round(c.distance_m ?? 0) }));
        button.type = 'button';
        button.dataset.camera = c.id;
        button.addEventListener('click', () => this.showCamera(c));
        const li = document.createElement('li');
        li.append(button);
        list.append(li);
      }
      parts.push(text('h3', t('drawer.cameras')), list);
    }
    return parts;
  }

  /** Flies the map to a camera and outlines its sector (what it sees). */
  showCamera(camera) {
    const map = this.map;
    if (!map) return;
    const data = { type: 'FeatureCollection', features: camera.sector ? [{ type: 'Feature', geometry: camera.sector, properties: {} }] : [] };
    const source = map.getSource('drawer-camera');
    if (source) {
      source.setData(data);
    } else {
      map.addSource('drawer-camera', { type: 'geojson', data });
      map.addLayer({ id: 'drawer-camera-fill', type: 'fill', source: 'drawer-camera', paint: { 'fill-color': '#1f77b4', 'fill-opacity': 0.25 } });
      map.addLayer({ id: 'drawer-camera-line', type: 'line', source: 'drawer-camera', paint: { 'line-color': '#1f77b4', 'line-width': 2 } });
    }
    map.flyTo({ center: [camera.lon, camera.lat], zoom: Math.max(map.getZoom(), 17) });
  }

  actions(p, workers) {
    const t = this.t;
    const form = document.createElement('form');
    form.className = 'actions';
    form.addEventListener('submit', (event) => event.preventDefault());
    const offered = CENTRE_ACTIONS.filter((a) => p.your_actions.includes(a === 'verify_failed' ? 'verify' : a));
    if (!offered.length) {
      form.append(text('p', t('actions.none')));
      return form;
    }
    const inputs = {};
    if (offered.some((a) => WITH_WORKER.has(a))) {
      // Sorted by duty, distance and open load (centre/dispatch.js).
      inputs.worker = dispatchSelect({ t, id: p.id, gridId: p.grid_id, workers });
      form.append(labelled(t('actions.worker'), inputs.worker));
    }
    if (offered.includes('extend')) {
      inputs.until = document.createElement('input');
      inputs.until.type = 'datetime-local';
      inputs.until.name = 'until';
      const base = Math.max(Date.now(), p.deadline ? Date.parse(p.deadline) : 0) + 24 * 3600 * 1000;
      inputs.until.value = toLocalInput(new Date(base));
      form.append(labelled(t('actions.until'), inputs.until));
    }
    if (offered.some((a) => WITH_REASON.has(a))) {
      inputs.reason = document.createElement('textarea');
      inputs.reason.name = 'reason';
      inputs.reason.rows = 2;
      form.append(labelled(t('actions.reason'), inputs.reason));
    }
    const buttons = document.createElement('div');
    buttons.className = 'buttons';
    for (const action of offered) {
      const button = text('button', t(`action.${action}`));
      button.type = 'button';
      button.dataset.action = action;
      button.addEventListener('click', () => this.act(p.id, action, inputs, buttons));
      buttons.append(button);
    }
    form.append(buttons);
    return form;
  }

  async act(id, action, inputs, buttons) {
    const body = action === 'verify_failed' ? { action: 'verify', passed: false } : { action };
    if (action === 'verify') body.passed = true;
    if (WITH_WORKER.has(action)) body.to = Number(inputs.worker.value);
    if (action === 'extend') body.until = new Date(inputs.until.value).toISOString();
    if (WITH_REASON.has(action)) {
      const reason = inputs.reason.value.trim();
      if (reason || action !== 'escalate') body.reason = reason;
    }
    this.busy = true;
    for (const b of buttons.querySelectorAll('button')) b.disabled = true;
    try {
      await api(`/api/incidents/${id}/actions`, { method: 'POST', body });
      this.showMessage({ done: this.t('actions.done', { action: this.t(`action.${action}`) }) });
      this.busy = false;
      await this.open(id);
    } catch (err) {
      this.busy = false;
      for (const b of buttons.querySelectorAll('button')) b.disabled = false;
      this.showMessage(err);
    }
  }

  /** Shows a problem in the page's language (and, for a 409, the allowed actions), a success note, or
   * nothing. The server's English `title` and `detail` are not shown in zh-CN. */
  showMessage(what) {
    const box = this.message;
    box.replaceChildren();
    box.className = '';
    if (!what) return;
    if (what.done) {
      box.className = 'done';
      box.textContent = what.done;
      return;
    }
    box.className = 'problem';
    box.setAttribute('role', 'alert');
    if (what instanceof Problem) {
      box.dataset.code = what.body?.code || '';
      box.append(text('strong', this.t('error.title')), text('div', problemText(what, this.t.lang)));
      const allowed = what.body?.allowed_actions;
      if (Array.isArray(allowed)) box.append(text('div', actionWords(allowed, this.t.lang).join(' · ')));
    } else {
      box.append(text('strong', this.t('error.title')), text('div', problemText(what, this.t.lang)));
    }
  }
}

function text(tag, content) {
  const el = document.createElement(tag);
  el.textContent = content;
  return el;
}

function labelled(caption, input) {
  const label = document.createElement('label');
  label.append(text('span', caption), input);
  return label;
}

/** A date as the value of a `datetime-local` input (local time, minutes). */
function toLocalInput(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
