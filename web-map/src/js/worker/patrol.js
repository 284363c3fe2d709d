// The patrol tab (巡逻): start and end my patrol, and the checkpoints it has passed (with the time) and
// those of my grids it has not yet. The server decides the check-ins from the positions the phone
// shares; the tab reads the patrol's report (`GET /api/patrols/{id}`) when shown and every few seconds
// while a patrol is open. Starting and ending need the network: a patrol's times are the server's.

import { formatClock } from '../common/time.js';
import { api } from '../common/api.js';

const REFRESH_MS = 5000;

function item(text) {
  const li = document.createElement('li');
  li.textContent = text;
  return li;
}

export class PatrolTab {
  /**
   * @param {object} options
   * @param {Function} options.t  the translator
   * @param {(problem: any) => void} options.report  shows a problem
   * @param {(options: object) => Promise<boolean>} options.confirm  asks before ending
   */
  constructor({ t, report, confirm }) {
    this.t = t;
    this.report = report;
    this.confirm = confirm;
    this.me = null;
    /** The patrol with its report, as last read. */
    this.patrol = null;
    this.timer = null;
    this.busy = false;
    this.offline = false;
    this.section = document.getElementById('patrol');
    document.getElementById('patrol-toggle').onclick = () => this.toggle();
    this.render();
  }

  /** Knows who I am: finds my open patrol, if any. */
  async setMe(id) {
    if (this.me === id) return;
    this.me = id;
    try {
      const open = await api(`/api/patrols?worker=${id}&active=true`);
      if (open[0]) await this.read(open[0].id);
    } catch (problem) {
      this.report(problem);
    }
    this.render();
  }

  async read(id) {
    this.patrol = await api(`/api/patrols/${id}`);
    this.schedule();
    this.render();
  }

  /** Reads the open patrol again now (the tab was shown, or a position was stored). */
  refresh() {
    if (this.patrol && !this.patrol.ended_at) this.read(this.patrol.id).catch((problem) => this.report(problem));
  }

  schedule() {
    clearTimeout(this.timer);
    if (this.patrol && !this.patrol.ended_at) this.timer = setTimeout(() => this.refresh(), REFRESH_MS);
  }

  async toggle() {
    if (this.busy || this.me === null) return;
    const open = this.patrol && !this.patrol.ended_at;
    if (open) {
      const sure = await this.confirm({ title: this.t('patrol.end_confirm'), ok: this.t('patrol.end'), kind: 'patrol-end' });
      if (!sure) return;
    }
    this.busy = true;
    this.render();
    try {
      const patrol = open
        ? await api(`/api/patrols/${this.patrol.id}/end`, { method: 'POST' })
        : await api('/api/patrols', { method: 'POST', body: {} });
      await this.read(patrol.id);
      this.offline = false;
    } catch (problem) {
      // No signal is not shown as a problem elsewhere; here the worker must know it did not happen.
      this.offline = Boolean(problem?.offline);
      this.report(problem);
    } finally {
      this.busy = false;
      this.render();
    }
  }

  render() {
    const { t, patrol } = this;
    const open = Boolean(patrol && !patrol.ended_at);
    const state = patrol ? (open ? 'open' : 'ended') : 'none';
    this.section.dataset.state = state;
    if (patrol) this.section.dataset.patrol = String(patrol.id);
    const time = (at) => formatClock(at, t.lang);
    let status = t('patrol.none');
    if (open) status = t('patrol.open', { at: time(patrol.started_at) });
    else if (patrol) status = t('patrol.ended', { from: time(patrol.started_at), to: time(patrol.ended_at) });
    if (patrol?.report) {
      const km = (patrol.report.distance_m / 1000).toFixed(2);
      status += ` · ${t('patrol.distance', { km })}`;
    }
    if (this.offline) status = `${t('patrol.offline')} ${status}`;
    document.getElementById('patrol-status').textContent = status;
    const button = document.getElementById('patrol-toggle');
    button.textContent = t(open ? 'patrol.end' : 'patrol.start');
    button.disabled = this.busy || this.me === null;
    const hit = patrol?.report?.checkpoints_hit || [];
    const missed = patrol?.report?.checkpoints_missed || [];
    const hitList = document.getElementById('patrol-hit');
    hitList.replaceChildren(...hit.map((c) => {
      const li = item(t('patrol.check_in', { name: c.name ?? `#${c.checkpoint}`, at: time(c.at) }));
      li.dataset.checkpoint = String(c.checkpoint);
      return li;
    }));
    if (hit.length === 0) hitList.append(item(t('patrol.none_hit')));
    const missedList = document.getElementById('patrol-missed');
    missedList.replaceChildren(...missed.map((c) => {
      const li = item(c.name ?? `#${c.checkpoint}`);
      li.dataset.checkpoint = String(c.checkpoint);
      return li;
    }));
  }
}
