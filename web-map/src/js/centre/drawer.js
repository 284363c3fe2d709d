// The case drawer: one incident read from `GET /api/incidents/{id}` with its history, and a button for
// each command-centre action the signed-in user may take on it now (the case's `your_actions`: its
// state, the user's role, and never verifying a case they handled). An action is posted to
// `/api/incidents/{id}/actions`; its problem+json answer (409 naming the allowed actions, 403, 422…)
// is shown in the drawer, and the case is read again either way. A live change to the open case
// reloads it too.

import { api, Problem } from '../common/api.js';

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
   */
  constructor({ t, categoryName, workers }) {
    this.t = t;
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
      const feature = await api(`/api/incidents/${id}`);
      if (this.id !== id) return;
      const workers = await this.loadWorkers();
      if (this.id !== id) return;
      this.render(feature.properties, workers);
    } catch (err) {
      if (this.id === id) this.showMessage(err);
    }
  }

  /** A live change: reload the open case if it is this one (unless an action of ours is under way). */
  changed(summary) {
    if (this.id === summary.id && !this.busy) this.open(summary.id);
  }

  render(p, workers) {
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
    fact('field.deadline', formatTime(p.deadline, t.lang) + (p.overdue ? ` · ${t('overdue')}` : ''));
    fact('field.created', formatTime(p.created_at, t.lang));
    fact('field.source', t(`source.${p.source}`));
    fact('field.description', p.description || '—');
    facts.dataset.status = p.status;
    facts.dataset.level = p.level;

    const history = document.createElement('ol');
    history.className = 'history';
    for (const entry of p.history || []) {
      const li = text('li', `${formatTime(entry.at, t.lang)} · ${t(`action.${entry.action}`)} · ${t(`status.${entry.from}`)} → ${t(`status.${entry.to}`)}`);
      if (entry.note) li.append(text('div', entry.note));
      history.append(li);
    }
    this.body.replaceChildren(facts, text('h3', t('actions.title')), this.actions(p, workers), text('h3', t('history.title')), history);
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
      inputs.worker = document.createElement('select');
      inputs.worker.name = 'worker';
      const ofGrid = (w) => (w.grids || []).some((d) => d.grid_id === p.grid_id);
      for (const worker of [...workers.filter(ofGrid), ...workers.filter((w) => !ofGrid(w))]) {
        inputs.worker.append(new Option(`${worker.name} (#${worker.id})`, worker.id));
      }
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

  /** Shows a problem (title, detail and, for a 409, the allowed actions), a success note, or nothing. */
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
      box.append(text('strong', `${what.status || ''} ${what.title || this.t('error.title')}`.trim()));
      if (what.detail) box.append(text('div', what.detail));
      const allowed = what.body?.allowed_actions;
      if (Array.isArray(allowed)) box.append(text('div', allowed.map((a) => this.t(`action.${a}`)).join(' · ')));
    } else {
      box.append(text('strong', this.t('error.title')), text('div', String(what?.message || what)));
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

function formatTime(iso, lang) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(lang);
}

/** A date as the value of a `datetime-local` input (local time, minutes). */
function toLocalInput(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
