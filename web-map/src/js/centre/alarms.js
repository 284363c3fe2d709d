// The command centre's alarms (告警): new urgent cases, cases turning overdue, escalations and area
// alerts. The list loads from `GET /api/alarms` after every snapshot (on start and after a reconnect)
// and follows the websocket's `alarms` layer: a delta with `acknowledged: null` is a new alarm (it
// sounds, shows a desktop notification while the page is hidden, and counts in the tab title), one
// with `acknowledged` clears the alarm on every screen, whoever acknowledged it.
//
// The sound is the bundled `/static/sounds/alarm.wav` (made by `tools/alarm-sound.mjs`); a switch mutes
// it and is remembered in localStorage. Browsers play sound only after the person has touched the page,
// and ask for the notification permission only on a click: the panel's "notify" button asks.

import { api, Problem } from '../common/api.js';
import { formatClock } from '../common/time.js';
import { MAX_DRAWN, more } from './warnings.js';

const MUTED_KEY = 'gridwatch.alarms.muted';

export class Alarms {
  /**
   * @param {object} options
   * @param {(key: string, values?: object) => string} options.t
   * @param {boolean} options.mayAcknowledge  whether to offer the acknowledge button
   * @param {(alarm: object) => void} options.onSelect  an alarm was clicked (show its place or case)
   * @param {(err: unknown) => void} options.onProblem
   */
  constructor({ t, mayAcknowledge, onSelect, onProblem }) {
    this.t = t;
    this.mayAcknowledge = mayAcknowledge;
    this.onSelect = onSelect;
    this.onProblem = onProblem;
    /** id → alarm, the open ones. */
    this.open = new Map();
    /** Every id heard of, so a replayed or reloaded alarm does not sound twice. */
    this.heard = new Set();
    this.baseTitle = document.title;
    this.section = document.getElementById('alarms');
    this.list = document.getElementById('alarm-list');
    this.count = document.getElementById('alarm-count');
    this.note = document.getElementById('alarm-note');
    this.sound = document.getElementById('alarm-sound');
    this.muteBox = document.getElementById('alarm-mute');
    this.notifyButton = document.getElementById('alarm-notify');
    /** How many times the sound started playing: said on the page for tests and tooling. */
    this.sounded = 0;

    this.muteBox.checked = localStorage.getItem(MUTED_KEY) === '1';
    this.muteBox.addEventListener('change', () => {
      localStorage.setItem(MUTED_KEY, this.muteBox.checked ? '1' : '0');
      if (this.muteBox.checked) this.sound.pause();
    });
    const canNotify = typeof Notification !== 'undefined';
    this.notifyButton.hidden = !canNotify || Notification.permission !== 'default';
    this.notifyButton.addEventListener('click', async () => {
      try {
        await Notification.requestPermission();
      } finally {
        this.notifyButton.hidden = Notification.permission !== 'default';
      }
    });
    this.section.hidden = false;
    this.render();
  }

  /** Reads the open alarms again (after a snapshot: the page's starting point, or a reconnect). */
  async load() {
    try {
      const { alarms } = await api('/api/alarms?state=open');
      this.open = new Map(alarms.map((a) => [a.id, a]));
      for (const a of alarms) this.heard.add(a.id);
      this.render();
    } catch (err) {
      this.onProblem(err);
    }
  }

  /** A `delta` of the `alarms` layer. */
  delta(message) {
    const alarm = message.data;
    if (alarm.acknowledged) {
      this.heard.add(alarm.id);
      if (this.open.delete(alarm.id)) this.render();
      return;
    }
    if (this.heard.has(alarm.id)) return;
    this.heard.add(alarm.id);
    this.open.set(alarm.id, alarm);
    this.render();
    this.ring(alarm);
  }

  /** Sounds (unless muted) and, while the page is hidden, shows a desktop notification. */
  ring(alarm) {
    if (!this.muteBox.checked) {
      this.sound.currentTime = 0;
      this.sound.play().then(
        () => {
          this.sounded += 1;
          document.body.dataset.alarmsSounded = String(this.sounded);
        },
        // No sound before the person has touched the page (the browser's rule); the list still shows it.
        () => {},
      );
    }
    if (document.hidden && typeof Notification !== 'undefined' && Notification.permission === 'granted') {
      const notice = new Notification(this.t(`alarm.kind.${alarm.kind}`), { body: this.describe(alarm), tag: alarm.id });
      notice.onclick = () => {
        window.focus();
        this.onSelect(alarm);
      };
    }
  }

  describe(alarm) {
    if (alarm.case != null) return this.t(`alarm.case.${alarm.kind}`, { id: alarm.case });
    return alarm.title;
  }

  async acknowledge(alarm, button) {
    button.disabled = true;
    try {
      await api(`/api/alarms/${encodeURIComponent(alarm.id)}/acknowledge`, { method: 'POST', body: {} });
      this.open.delete(alarm.id);
      this.note.textContent = '';
    } catch (err) {
      if (err instanceof Problem && err.status === 409) {
        // Someone else got there first: say who, and clear it here too.
        const by = err.body?.by?.name || err.body?.by?.role || '';
        this.note.textContent = this.t('alarm.taken', { by });
        this.open.delete(alarm.id);
      } else {
        button.disabled = false;
        this.onProblem(err);
      }
    }
    this.render();
  }

  render() {
    const n = this.open.size;
    document.title = n ? `(${n}) ${this.baseTitle}` : this.baseTitle;
    this.count.textContent = String(n);
    this.section.dataset.open = String(n);
    this.list.replaceChildren();
    if (!n) {
      const li = document.createElement('li');
      li.className = 'empty';
      li.textContent = this.t('alarm.none');
      this.list.append(li);
      return;
    }
    const newest = [...this.open.values()].sort((a, b) => b.seq - a.seq || String(b.id).localeCompare(String(a.id)));
    for (const alarm of newest.slice(0, MAX_DRAWN)) {
      const li = document.createElement('li');
      li.dataset.alarm = alarm.id;
      li.dataset.kind = alarm.kind;
      const what = document.createElement('span');
      what.className = 'what';
      what.textContent = `${this.t(`alarm.kind.${alarm.kind}`)} · ${this.describe(alarm)}`;
      what.addEventListener('click', () => this.onSelect(alarm));
      const when = document.createElement('time');
      when.dateTime = alarm.at;
      when.textContent = formatClock(alarm.at, this.t.lang);
      li.append(what, when);
      if (this.mayAcknowledge) {
        const button = document.createElement('button');
        button.type = 'button';
        button.dataset.acknowledge = alarm.id;
        button.textContent = this.t('alarm.acknowledge');
        button.addEventListener('click', () => this.acknowledge(alarm, button));
        li.append(button);
      }
      this.list.append(li);
    }
    if (n > MAX_DRAWN) this.list.append(more(this.t('list.more', { n: n - MAX_DRAWN })));
  }
}
