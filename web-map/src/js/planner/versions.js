// The side panel's boundary versions (版本): the community's saved versions, newest first (number, when
// applied, by which token, the note, and how each grid's cell count changed from the version before),
// the current one marked. An older one can be rolled back to after an inline confirmation; the server
// applies its assignment again as a new version (history stays append-only), so the list grows at the top.

import { api, Problem } from '../common/api.js';
import { el } from './dom.js';

/** How many grids a version's summary names before it says "…". */
const SUMMARY_GRIDS = 4;

/** The boundary versions of community `community`, newest first. */
export async function versions(community) {
  const answer = await api(`/api/communities/${community}/versions`);
  return [...(answer.versions || [])].sort((a, b) => b.id - a.id);
}

/** Rolls community `community` back to version `version`: the server's answer (the new `version`, `cells_moved`, …). */
export function rollback(community, version) {
  return api(`/api/communities/${community}/versions/${version}/rollback`, { method: 'POST' });
}

/** Each grid whose cell count differs between `older` and `newer` (versions), as `code +n` / `code −n`. */
export function cellChanges(newer, older) {
  const before = new Map(older.grids.map((g) => [g.code, g.cell_count]));
  const after = new Map(newer.grids.map((g) => [g.code, g.cell_count]));
  const codes = [...new Set([...before.keys(), ...after.keys()])].sort();
  return codes.flatMap((code) => {
    const change = (after.get(code) || 0) - (before.get(code) || 0);
    if (change === 0) return [];
    return [`${code} ${change > 0 ? '+' : '−'}${Math.abs(change)}`];
  });
}

/** A version's one-line summary: the grids as imported, or its cell count changes from `older`. */
function summary(version, older, t) {
  if (version.plan_id === null || version.plan_id === undefined) return t('version.baseline');
  if (!older) return null;
  const changes = cellChanges(version, older);
  if (changes.length === 0) return t('version.unchanged');
  const shown = changes.length > SUMMARY_GRIDS ? [...changes.slice(0, SUMMARY_GRIDS), '…'] : changes;
  return t('version.cells', { changes: shown.join(', ') });
}

/** When a version was applied, in the page's language. */
function when(version, t) {
  const date = new Date(version.applied_at);
  if (Number.isNaN(date.getTime())) return version.applied_at || '';
  return new Intl.DateTimeFormat(t.lang, { dateStyle: 'short', timeStyle: 'short' }).format(date);
}

/** Shows an applied rollback in the result area. */
export function renderRolledBack(section, result, from, t) {
  section.replaceChildren(el('p', { class: 'saved', 'data-rolled-back': from },
    t('rolled.back', { from, version: result.version?.id, cells: result.cells_moved })));
  section.dataset.state = 'saved';
}

/** The "Versions" section of one community: loads, lists, confirms and rolls back. */
export class Versions {
  /**
   * @param {HTMLElement} section  the section; its `ol` is filled here
   * @param {function} t  the page's translator
   * @param {object} handlers  `rolledBack(community, result, from)` a rollback was applied (may return a
   *   promise: the rollback counts as pending until it settles), `failed(error)` a rollback was refused
   */
  constructor(section, t, handlers) {
    this.section = section;
    this.list = section.querySelector('ol');
    this.t = t;
    this.handlers = handlers;
    this.community = null;
    this.versions = [];
    this.confirming = null;
    this.loads = 0;
    /** Whether the user may roll back (`/api/me`); without it the list is read only. */
    this.mayChange = true;
    /** A rollback in flight (until its `rolledBack` settled), or null. */
    this.pending = null;
  }

  /** Loads (again) the versions of community `community`; an answer for an earlier call is dropped. */
  async load(community) {
    const call = ++this.loads;
    if (community !== this.community) {
      this.community = community;
      this.versions = [];
      this.confirming = null;
      this.section.dataset.state = 'loading';
      this.list.replaceChildren(el('li', { class: 'versions-note' }, this.t('versions.loading')));
    }
    try {
      const list = await versions(community);
      if (call !== this.loads) return;
      this.versions = list;
      if (!list.some((v) => v.id === this.confirming)) this.confirming = null;
      this.section.dataset.state = 'ready';
      this.render();
    } catch (error) {
      if (call !== this.loads) return;
      if (!(error instanceof Problem)) throw error;
      this.section.dataset.state = 'error';
      this.list.replaceChildren(el('li', { class: 'problem' }, [error.title, error.detail].filter(Boolean).join(': ') || `${this.t('error')} ${error.status}`));
    }
  }

  /** Whether the user may roll back: the buttons come or go. */
  setMayChange(may) {
    this.mayChange = may;
    this.confirming = null;
    this.render();
  }

  render() {
    const { t } = this;
    if (this.versions.length === 0) {
      this.list.replaceChildren(el('li', { class: 'versions-note' }, t('versions.none')));
      return;
    }
    const busy = this.pending !== null;
    const items = this.versions.map((version, index) => {
      const current = index === 0;
      const note = version.note ? el('div', { class: 'version-note' }, version.note) : null;
      const by = version.applied_by !== null && version.applied_by !== undefined ? t('version.by', { token: version.applied_by }) : null;
      return el('li', { 'data-version': version.id, 'data-current': current, class: current ? 'current' : null },
        el('div', { class: 'version-head' },
          el('strong', {}, t('version.title', { id: version.id })),
          current ? el('span', { class: 'version-current' }, t('version.current')) : null,
          el('time', { datetime: version.applied_at }, when(version, t))),
        by ? el('div', { class: 'version-by' }, by) : null,
        note,
        el('div', { class: 'version-summary' }, summary(version, this.versions[index + 1], t)),
        current || !this.mayChange ? null : this.action(version, busy));
    });
    this.list.replaceChildren(...items);
  }

  /** An older version's button, or its inline confirmation. */
  action(version, busy) {
    const { t } = this;
    if (this.confirming !== version.id) {
      const button = el('button', { type: 'button', class: 'version-rollback', 'data-rollback': version.id, disabled: busy }, t('version.rollback'));
      button.onclick = () => {
        this.confirming = version.id;
        this.render();
      };
      return button;
    }
    const yes = el('button', { type: 'button', class: 'primary', 'data-confirm': version.id, disabled: busy }, busy ? t('version.rolling') : t('version.confirm.yes'));
    const no = el('button', { type: 'button', 'data-cancel': version.id, disabled: busy }, t('version.confirm.no'));
    yes.onclick = () => this.rollBack(version.id);
    no.onclick = () => {
      this.confirming = null;
      this.render();
    };
    return el('div', { class: 'version-confirm', role: 'group' }, el('p', {}, t('version.confirm', { id: version.id })), el('div', {}, yes, no));
  }

  /** Posts the rollback to version `id` of the shown community; `rolledBack` or `failed` says how it went. */
  rollBack(id) {
    if (this.pending) return this.pending;
    const community = this.community;
    const run = async () => {
      try {
        const result = await rollback(community, id);
        this.confirming = null;
        await this.handlers.rolledBack(community, result, id);
      } catch (error) {
        this.handlers.failed(error);
      }
    };
    this.pending = run().finally(() => {
      this.pending = null;
      if (this.community === community) this.render();
    });
    this.render();
    return this.pending;
  }
}
