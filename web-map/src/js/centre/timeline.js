// The command centre's timeline (回放): the map as it was at a past moment, and played forward from it.
//
// A bar at the bottom of the map, collapsed until the "replay" button opens it: a slider over the last
// 24 h and a date-time input for any moment. Choosing one reads `GET /api/replay/state?at&bbox` (the
// view, at most 0.5° each way: a larger view is cut to its centre and the bar says so) and hands the
// state to the page, which draws it instead of the live map until "back to live" (the page then
// subscribes again and draws a fresh snapshot). While replaying, the live stream must not touch the
// map: the page drops its deltas (`active`).
//
// Play uses the websocket's replay protocol (`replay`, then `replay_state`, `replay_delta`,
// `replay_position`, `replay_clock`, `replay_end`; `replay_pause` / `_resume` / `_speed` / `_seek` /
// `_stop`) when the server speaks it. A server that refuses the message (`error` 400) or says nothing
// within 2 s gets the REST fallback: the moment advances by speed × wall time and the state is read
// again at most twice a second, one request at a time, the newest moment winning.
//
// The bar says on the page what it shows (`data-replay-at` on <body>, `data-mode` on the bar), for tests
// and tooling.

import { api, Problem } from '../common/api.js';

export const SPEEDS = [1, 10, 60, 600];
/** The slider's reach back, ms. */
const DAY_MS = 86_400_000;
/** The largest side of a replay bbox, degrees (the server's `MAX_SPAN_DEG`), less a hair for rounding. */
const MAX_SPAN_DEG = 0.5;
const SPAN_DEG = MAX_SPAN_DEG - 1e-6;
/** REST fallback: at most one state request per this, ms (twice a second), never two at once. */
const MIN_GAP_MS = 500;
/** How long the server has to answer `replay` before the REST fallback takes over, ms. */
const WS_ANSWER_MS = 2000;
/** How long "back to live" waits for `replay_end` before subscribing anyway, ms. */
const WS_STOP_MS = 2000;
/** The REST fallback's clock tick while playing, ms. */
const TICK_MS = 250;

/**
 * The replay bbox for a view: `[minLon, minLat, maxLon, maxLat]`, degrees (EPSG:4326), each side at
 * most 0.5°; a larger side is cut to the 0.5° around the view's centre (`clamped`).
 * @param {import('maplibre-gl').LngLatBounds} bounds
 */
export function replayBbox(bounds) {
  const round = (x) => Math.round(x * 1e6) / 1e6;
  let [w, s, e, n] = [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()];
  const c = bounds.getCenter();
  let clamped = false;
  if (e - w > SPAN_DEG) [w, e, clamped] = [c.lng - SPAN_DEG / 2, c.lng + SPAN_DEG / 2, true];
  if (n - s > SPAN_DEG) [s, n, clamped] = [c.lat - SPAN_DEG / 2, c.lat + SPAN_DEG / 2, true];
  w = Math.max(w, -180);
  e = Math.min(e, 180);
  s = Math.max(s, -85);
  n = Math.min(n, 85);
  return { bbox: [round(w), round(s), round(e), round(n)], clamped };
}

/** A time as a `datetime-local` value (local time, to the second). */
function localInputValue(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The last part of a problem's `type` (`/problems/replay-in-future` → `replay-in-future`), or its title
 * (the websocket's `error` names the problem in `title`). */
function problemKind(problem) {
  return String(problem.type || '').split('/').pop() || problem.title || '';
}

export class Timeline {
  /**
   * @param {object} options
   * @param {import('maplibre-gl').Map} options.map  with the `replay-grids` and `replay-cameras` sources
   * @param {(key: string, values?: object) => string} options.t
   * @param {(message: object) => boolean} options.send  sends on the live websocket; false when it is down
   * @param {object} options.view  what the page does with a replay:
   *   `enter()` (leave the live map), `show(state, atMs)` (a `replay/state` body or `replay_state`), `delta(m)`
   *   and `position(m)` (a `replay_delta`, `replay_position`), `clock(ms)` (the moment shown moved),
   *   `leave()` (back to live: subscribe again)
   */
  constructor({ map, t, send, view }) {
    this.map = map;
    this.t = t;
    this.send = send;
    this.view = view;
    /** Whether the map shows a past moment (the page drops live deltas meanwhile). */
    this.active = false;
    /** The chosen moment, ms. */
    this.at = Date.now();
    this.playing = false;
    this.speed = SPEEDS[0];
    /** `rest`, `pending` (sent `replay`, no answer yet), `ws` (a replay runs on the server for us) or
     * `stopping` (sent `replay_stop` on the way back to live). */
    this.mode = 'rest';
    /** The server refused `replay` as an unknown message: use REST for this page's life. */
    this.wsRefused = false;
    /** Bumped on every leave and on every new websocket replay: older answers are dropped. */
    this.generation = 0;
    this.request = { inflight: false, wanted: null, lastStart: 0, timer: 0 };
    this.tickTimer = 0;
    this.answerTimer = 0;
    /** A moment chosen while `replay` awaited its answer: sought once the answer says how. */
    this.seekAfter = null;
    /** Resolves "back to live" when the server ends its replay. */
    this.ended = null;
    this.stopSent = false;
    this.cameras = new Map();
    this.area = null;

    this.bar = document.getElementById('timeline');
    this.openButton = document.getElementById('replay-open');
    this.slider = document.getElementById('timeline-slider');
    this.input = document.getElementById('timeline-at');
    this.clockText = document.getElementById('timeline-clock');
    this.playButton = document.getElementById('timeline-play');
    this.speedSelect = document.getElementById('timeline-speed');
    this.note = document.getElementById('timeline-message');
    this.banner = document.getElementById('replay-banner');
    this.bannerText = document.getElementById('replay-banner-text');

    for (const speed of SPEEDS) this.speedSelect.append(new Option(`${speed}×`, String(speed)));
    this.openButton.hidden = false;
    this.openButton.addEventListener('click', () => this.toggle());
    document.getElementById('timeline-close').addEventListener('click', () => this.toggle(false));
    for (const button of document.querySelectorAll('[data-replay-live]')) button.addEventListener('click', () => this.leave());
    // Dragging shows each moment it passes (the requests are paced); a typed moment on change.
    this.slider.addEventListener('pointerdown', () => this.refreshRange());
    this.slider.addEventListener('focus', () => this.refreshRange());
    this.slider.addEventListener('input', () => this.choose(Number(this.slider.value) * 1000));
    this.input.addEventListener('change', () => {
      const ms = new Date(this.input.value).getTime();
      if (Number.isFinite(ms)) this.choose(ms);
    });
    this.playButton.addEventListener('click', () => (this.playing ? this.pause() : this.play()));
    this.speedSelect.addEventListener('change', () => this.setSpeed(Number(this.speedSelect.value)));
    // A replay at rest follows the view: a pan shows the new area at the same moment.
    map.on('moveend', () => {
      if (this.active && this.mode === 'rest' && !this.playing) this.fetch(this.at);
    });
    this.render();
  }

  /** Opens or collapses the bar (the replay, if any, goes on: the banner keeps its way back). */
  toggle(open = this.bar.hidden) {
    this.bar.hidden = !open;
    this.openButton.setAttribute('aria-expanded', String(open));
    document.body.dataset.timeline = open ? 'open' : 'closed';
    if (open) {
      this.refreshRange();
      if (!this.active) this.at = Date.now();
      this.render();
      this.slider.focus();
    }
  }

  /** The slider spans the 24 h up to now. */
  refreshRange() {
    const now = Math.floor(Date.now() / 1000);
    this.slider.max = String(now);
    this.slider.min = String(now - DAY_MS / 1000);
    this.input.max = localInputValue(now * 1000);
  }

  /** A moment chosen on the slider or in the input: show the map as it was then. */
  choose(ms) {
    this.at = Math.min(ms, Date.now());
    this.enter();
    this.render();
    if (this.mode === 'pending') this.seekAfter = this.at;
    else if (this.mode === 'ws') this.send({ type: 'replay_seek', at: new Date(this.at).toISOString() });
    else this.fetch(this.at);
  }

  enter() {
    if (this.active) return;
    this.active = true;
    this.area = null;
    this.view.enter();
  }

  /** Reads the state at `ms` (REST), paced: one request at a time, at most one per `MIN_GAP_MS`, the
   * newest moment asked for winning over those asked for meanwhile. */
  fetch(ms) {
    const r = this.request;
    r.wanted = ms;
    if (r.inflight || r.timer) return;
    const wait = r.lastStart + MIN_GAP_MS - Date.now();
    if (wait > 0) {
      r.timer = setTimeout(() => {
        r.timer = 0;
        if (r.wanted !== null) this.fetch(r.wanted);
      }, wait);
      return;
    }
    const at = r.wanted;
    r.wanted = null;
    r.inflight = true;
    r.lastStart = Date.now();
    const generation = this.generation;
    const { bbox, clamped } = replayBbox(this.map.getBounds());
    this.area = { bbox, clamped };
    const query = new URLSearchParams({ at: new Date(at).toISOString(), bbox: bbox.join(',') });
    api(`/api/replay/state?${query}`)
      .then((state) => {
        if (generation === this.generation && this.active && this.mode !== 'ws') this.show(state);
      })
      .catch((err) => {
        if (generation === this.generation && this.active) this.refused(err);
      })
      .finally(() => {
        r.inflight = false;
        // A moment asked for meanwhile is still wanted (unless the page went back to live, which
        // replaces the request state), whatever happened to this answer.
        if (r === this.request && r.wanted !== null && this.active) this.fetch(r.wanted);
      });
  }

  /** Draws a replayed state: the page's incidents and workers, and this overlay's grids and cameras. */
  show(state) {
    const at = Date.parse(state.at);
    if (Number.isFinite(at) && this.mode === 'ws') this.at = at;
    this.shownAt = Number.isFinite(at) ? at : this.at;
    this.cameras = new Map((state.cameras || []).map((c) => [c.id, c]));
    this.drawCameras();
    const grids = (state.grids || []).filter((g) => g.boundary).map((g) => ({
      type: 'Feature',
      geometry: g.boundary,
      properties: { id: g.id, code: g.code, name: g.name, version: g.version },
    }));
    this.map.getSource('replay-grids')?.setData({ type: 'FeatureCollection', features: grids });
    this.view.show(state, this.shownAt);
    document.body.dataset.replayAt = new Date(this.shownAt).toISOString();
    document.body.dataset.replaySeq = String(state.seq ?? '');
    document.body.dataset.replayBbox = this.area ? this.area.bbox.join(',') : '';
    this.say(this.area?.clamped ? this.t('replay.clamped') : '');
    this.render();
  }

  drawCameras() {
    const features = [...this.cameras.values()].map((c) => ({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [c.lon, c.lat] },
      properties: { id: c.id, name: c.name ?? '', status: c.status ?? 'online' },
    }));
    this.map.getSource('replay-cameras')?.setData({ type: 'FeatureCollection', features });
  }

  /** A refused moment, said in the bar: before the history (with where it starts), in the future. */
  refused(err) {
    const problem = err instanceof Problem ? err : new Problem(err?.status ?? 0, err);
    const kind = problemKind(problem);
    if (kind === 'replay-before-history') {
      const starts = problem.body?.starts ? Date.parse(problem.body.starts) : NaN;
      this.say(Number.isFinite(starts)
        ? this.t('replay.before_history', { starts: this.format(starts) })
        : this.t('replay.no_history'), 'problem');
    } else if (kind === 'replay-in-future') {
      this.say(this.t('replay.in_future'), 'problem');
    } else {
      this.say(`${problem.status || ''} ${problem.detail || problem.title || this.t('error.title')}`.trim(), 'problem');
    }
    if (this.playing) this.pause();
  }

  play() {
    this.refreshRange();
    if (this.at >= Date.now() - 1000) {
      this.say(this.t('replay.at_present'));
      return;
    }
    this.enter();
    this.playing = true;
    this.render();
    if (this.mode === 'ws') {
      this.send({ type: 'replay_resume' });
      return;
    }
    if (!this.wsRefused && this.startWs()) return;
    this.startRest();
  }

  pause() {
    this.playing = false;
    clearInterval(this.tickTimer);
    this.tickTimer = 0;
    if (this.mode === 'ws') this.send({ type: 'replay_pause' });
    this.render();
  }

  setSpeed(speed) {
    this.speed = speed;
    if (this.mode === 'ws') this.send({ type: 'replay_speed', speed });
  }

  /** Asks the server to play from the chosen moment to now; false when the websocket is down. */
  startWs() {
    const { bbox, clamped } = replayBbox(this.map.getBounds());
    this.generation += 1;
    const sent = this.send({
      type: 'replay', from: new Date(this.at).toISOString(), to: new Date().toISOString(), speed: this.speed, bbox,
    });
    if (!sent) return false;
    this.wsSpeed = this.speed;
    this.area = { bbox, clamped };
    this.mode = 'pending';
    this.stopSent = false;
    const generation = this.generation;
    this.answerTimer = setTimeout(() => {
      if (this.mode === 'pending' && generation === this.generation) this.fallBack();
    }, WS_ANSWER_MS);
    this.render();
    return true;
  }

  /** The server does not play (refused or silent): play on the REST endpoint from where we are. */
  fallBack() {
    clearTimeout(this.answerTimer);
    this.mode = 'rest';
    const seek = this.seekAfter;
    this.seekAfter = null;
    if (seek !== null) this.at = seek;
    if (this.playing) this.startRest();
    else this.fetch(this.at);
    this.render();
  }

  startRest() {
    clearInterval(this.tickTimer);
    this.lastTick = Date.now();
    this.tickTimer = setInterval(() => this.tick(), TICK_MS);
    this.fetch(this.at);
    this.render();
  }

  /** REST play: the moment moves on by speed × the wall time since the last tick. */
  tick() {
    const wall = Date.now();
    const elapsed = wall - this.lastTick;
    this.lastTick = wall;
    const present = wall - TICK_MS;
    this.at = Math.min(this.at + elapsed * this.speed, present);
    this.fetch(this.at);
    if (this.at >= present) {
      this.say(this.t('replay.at_present'));
      this.pause();
    }
    this.render();
  }

  /**
   * A message of the replay protocol, or an `error`, from the websocket. Returns whether it was the
   * timeline's (an `error` answering `replay` while it waited, or refusing a control of its replay).
   */
  receive(m) {
    switch (m.type) {
      case 'replay_state':
        if (this.mode === 'pending' || this.mode === 'ws') {
          clearTimeout(this.answerTimer);
          const first = this.mode === 'pending';
          this.mode = 'ws';
          if (this.active) this.show(m);
          if (first && this.seekAfter !== null) {
            this.send({ type: 'replay_seek', at: new Date(this.seekAfter).toISOString() });
            this.seekAfter = null;
          }
          // Paused or sped up while the answer was on its way: tell the server now.
          if (first && this.speed !== this.wsSpeed) this.send({ type: 'replay_speed', speed: this.speed });
          if (first && !this.playing) this.send({ type: 'replay_pause' });
        } else if (this.mode !== 'stopping') {
          this.stopLate();
        }
        return true;
      case 'replay_delta':
        if (this.mode === 'ws' && this.active) {
          if (m.layer === 'cameras') this.camera(m);
          else this.view.delta(m);
        } else if (this.mode !== 'stopping') this.stopLate();
        return true;
      case 'replay_position':
        if (this.mode === 'ws' && this.active) this.view.position(m);
        else if (this.mode !== 'stopping') this.stopLate();
        return true;
      case 'replay_clock': {
        const at = Date.parse(m.at);
        if (this.mode === 'ws' && this.active && Number.isFinite(at)) {
          this.at = at;
          this.shownAt = at;
          document.body.dataset.replayAt = new Date(at).toISOString();
          this.view.clock(at);
          this.render();
        }
        return true;
      }
      case 'replay_end': {
        const at = Date.parse(m.at);
        if (this.mode === 'ws') {
          this.mode = 'rest';
          this.playing = false;
          if (Number.isFinite(at)) {
            this.at = at;
            this.shownAt = at;
            document.body.dataset.replayAt = new Date(at).toISOString();
            this.view.clock(at);
          }
          this.render();
        }
        this.ended?.();
        return true;
      }
      case 'error':
        return this.error(m);
      default:
        return false;
    }
  }

  error(m) {
    if (this.mode === 'stopping') {
      // A server without the protocol refuses `replay_stop` too: there was nothing to stop.
      this.ended?.();
      return true;
    }
    if (this.mode === 'pending') {
      clearTimeout(this.answerTimer);
      if (m.status === 400) {
        // The server does not know `replay` (yet): play on the REST endpoint.
        this.wsRefused = true;
        this.fallBack();
      } else {
        this.mode = 'rest';
        this.refused(new Problem(m.status, m));
        this.render();
      }
      return true;
    }
    if (this.mode === 'ws') {
      this.refused(new Problem(m.status, m));
      return true;
    }
    return false;
  }

  /** A replay the server started after we stopped waiting for it: end it (it knows `replay_stop`). */
  stopLate() {
    if (this.stopSent) return;
    this.stopSent = true;
    this.send({ type: 'replay_stop' });
  }

  camera(m) {
    if (m.kind === 'camera.deleted') this.cameras.delete(m.data?.id ?? m.id);
    else if (m.data && Number.isFinite(m.data.lat)) this.cameras.set(m.data.id, m.data);
    this.drawCameras();
  }

  /** The websocket dropped (or came back): a replay on the server ended with it. */
  connection(status) {
    if (status === 'connected' || !['ws', 'pending', 'stopping'].includes(this.mode)) return;
    clearTimeout(this.answerTimer);
    if (this.mode === 'stopping') {
      this.ended?.();
      return;
    }
    this.mode = 'rest';
    this.ended?.();
    if (this.playing) this.startRest();
    this.render();
  }

  /** Back to live: ends a server replay (waiting up to 2 s for `replay_end`), then the page subscribes. */
  async leave() {
    if (!this.active) return;
    clearInterval(this.tickTimer);
    clearTimeout(this.request.timer);
    clearTimeout(this.answerTimer);
    this.tickTimer = 0;
    this.request = { inflight: false, wanted: null, lastStart: 0, timer: 0 };
    this.generation += 1;
    this.playing = false;
    if (this.mode === 'ws' || this.mode === 'pending') {
      this.mode = 'stopping';
      this.render();
      const ended = new Promise((resolve) => {
        this.ended = resolve;
        setTimeout(resolve, WS_STOP_MS);
      });
      if (this.send({ type: 'replay_stop' })) await ended;
      this.ended = null;
    }
    this.mode = 'rest';
    this.seekAfter = null;
    this.active = false;
    this.area = null;
    this.cameras = new Map();
    const empty = { type: 'FeatureCollection', features: [] };
    this.map.getSource('replay-grids')?.setData(empty);
    this.map.getSource('replay-cameras')?.setData(empty);
    delete document.body.dataset.replayAt;
    delete document.body.dataset.replaySeq;
    delete document.body.dataset.replayBbox;
    this.say('');
    this.at = Date.now();
    this.render();
    this.view.leave();
  }

  say(text, kind = 'note') {
    this.note.textContent = text;
    this.note.className = `timeline-message ${text ? kind : ''}`.trim();
  }

  format(ms) {
    return new Date(ms).toLocaleString(this.t.lang, {
      year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
  }

  /** Puts the controls, the banner and the page's data attributes in step with the state. */
  render() {
    const seconds = Math.floor(this.at / 1000);
    if (Number(this.slider.max) < seconds) this.refreshRange();
    this.slider.value = String(seconds);
    this.slider.setAttribute('aria-valuetext', this.format(this.at));
    if (document.activeElement !== this.input) this.input.value = localInputValue(this.at);
    this.clockText.textContent = this.format(this.at);
    this.playButton.textContent = this.t(this.playing ? 'replay.pause' : 'replay.play');
    this.speedSelect.value = String(this.speed);
    this.bar.dataset.mode = this.mode;
    this.bar.dataset.playing = String(this.playing);
    this.banner.hidden = !this.active;
    document.body.dataset.replay = this.active ? 'on' : 'off';
    if (this.active) {
      this.bannerText.textContent = this.t('replay.banner', { time: this.format(this.shownAt ?? this.at) });
    }
  }
}
