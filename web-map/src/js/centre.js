// The command centre (`/`): a live map of the area for command-centre staff. Grids (coloured by open
// cases) and cameras come from gridwatch's vector tiles, refreshed when the websocket says they
// changed; incidents, workers and trails come from the websocket (a snapshot, then deltas and
// positions). A side panel holds the layer toggles, the alarms, the early warnings, the KPIs and the
// list of incidents in view; a drawer shows one case with its history and the actions its state allows.
// The timeline (回放) shows the map as it was at a past moment: meanwhile the live stream is held off
// the map, and "back to live" subscribes again for a fresh snapshot.

import * as maplibregl from '/static/vendor/maplibre-gl.mjs';
import { api, Problem } from './common/api.js';
import { baseStyle, cityBounds, MAP_OPTIONS } from './common/basemap.js';
import { applyStrings, translator } from './common/i18n.js';
import { categoryName as nameInLang } from './common/categories.js';
import { Live } from './common/live.js';
import { requireSession } from './common/session.js';
import { Drawer } from './centre/drawer.js';
import { setTzOffset } from './common/time.js';
import { renderLegend } from './centre/legend.js';
import { workerPopups } from './centre/popup.js';
import { SearchBox } from './centre/search.js';
import { KpiPanel } from './centre/kpi.js';
import { Dashboard } from './centre/dashboard.js';
import { Alarms } from './centre/alarms.js';
import { addLayers, applyVisibility, GROUPS, refreshTiles } from './centre/layers.js';
import { IncidentList } from './centre/list.js';
import { LiveData } from './centre/live-data.js';
import { STRINGS } from './centre/strings.js';
import { Timeline } from './centre/timeline.js';
import { Warnings } from './centre/warnings.js';

const t = translator(STRINGS);
applyStrings(t);

const problemBox = document.getElementById('page-problem');
problemBox.addEventListener('click', () => { problemBox.hidden = true; });

/** Shows a problem of the page (not of one case) at the bottom of the screen until clicked. */
function showProblem(err) {
  let message;
  if (err instanceof Problem) {
    message = err.status === 401 ? t('error.token') : `${err.status || ''} ${err.title || t('error.title')}`.trim();
    if (err.detail) message += ` — ${err.detail}`;
  } else {
    message = String(err?.message || err);
  }
  problemBox.textContent = message;
  problemBox.hidden = false;
}

requireSession(t);

const map = new maplibregl.Map({ container: 'map', style: baseStyle(), center: [113.11, 36.19], zoom: 13, ...MAP_OPTIONS });
window.gridwatchMap = map;
map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'bottom-right');
// The side panel covers the map's left: fit the city into what stays visible.
const padding = { top: 60, bottom: 30, right: 30, left: document.querySelector('.side').offsetWidth + 20 };
cityBounds(api).then((b) => b && map.fitBounds(b, { padding, animate: false })).catch(showProblem);

map.on('load', () => start().catch(showProblem));

async function start() {
  addLayers(map);
  /** The timeline (回放), for roles that may replay; while it shows a past moment, live data waits. */
  let timeline = null;

  const categories = new Map();
  const categoryName = (code) => categories.get(code) || code;
  let workers = null;
  const loadWorkers = async () => {
    workers ??= api('/api/workers').then((fc) => fc.features.map((f) => f.properties)).catch((err) => {
      workers = null;
      throw err;
    });
    return workers;
  };

  const drawer = new Drawer({ t, categoryName, workers: loadWorkers, map });
  const data = new LiveData(map, () => {
    list.render();
    kpi.render();
  });
  const list = new IncidentList({ map, incidents: data.incidents, t, categoryName, onSelect: (id) => drawer.open(id) });
  // Operator tools (issue 22): the legend, worker popups, the search box.
  renderLegend(t);
  workerPopups({ map, t, onCase: (id) => drawer.open(id), onProblem: showProblem });
  new SearchBox({ map, t, categoryName, onCase: (id) => drawer.open(id), padding });
  const kpi = new KpiPanel({ map, incidents: data.incidents, t, onProblem: showProblem });
  data.onIncident = (summary) => {
    // A replayed change is the past: the drawer and the KPIs follow the present only.
    if (timeline?.active) return;
    drawer.changed(summary);
    kpi.changed();
  };
  // What this user may do decides what the page offers: a role without reports has no KPI panel, one
  // that may not read alarms no alarm panel (and does not ask the websocket for them).
  const me = await api('/api/me');
  // Times in the deployment's zone (the drawer's history, deadlines), not the browser's.
  setTzOffset(me.tz_offset_minutes);
  kpi.tzOffsetMinutes = me.tz_offset_minutes ?? null;
  if (me.may.read_kpi) kpi.load();
  else kpi.disable();
  // The dashboard (报表, daily report, CSV) is the reports' too.
  if (me.may.read_kpi) {
    new Dashboard({ map, t, categoryName, tzOffsetMinutes: me.tz_offset_minutes, onProblem: showProblem });
  }
  const alarms = me.may.read_alarms
    ? new Alarms({
        t,
        mayAcknowledge: me.may.acknowledge_alarms,
        onProblem: showProblem,
        onSelect: (alarm) => {
          map.easeTo({ center: [alarm.lon, alarm.lat], zoom: Math.max(map.getZoom(), 16) });
          if (alarm.case != null) drawer.open(alarm.case);
        },
      })
    : null;
  // Warnings and replay are for the roles that may read them; `/api/me` lists `read_warnings` and
  // `replay_map` where the server says so, and alarms go to the same roles (admin, commander) otherwise.
  const mayWarnings = me.may.read_warnings ?? me.may.read_alarms;
  const mayReplay = me.may.replay_map ?? me.may.read_alarms;
  const warnings = mayWarnings
    ? new Warnings({ map, t, onCase: (id) => drawer.open(id), onProblem: showProblem })
    : null;
  const toggles = buildToggles(mayWarnings ? [] : ['warnings'], () => showLayers());
  const showLayers = () => {
    const shown = toggles();
    const replaying = Boolean(timeline?.active);
    applyVisibility(map, shown, replaying);
    warnings?.setVisible(shown.has('warnings') && !replaying);
  };
  showLayers();
  list.render();
  api('/api/categories')
    .then((all) => {
      for (const c of all) categories.set(c.code, nameInLang(c, t.lang));
      list.render();
    })
    .catch(showProblem);

  const status = document.getElementById('live-status');
  const setStatus = (s) => {
    status.dataset.status = s;
    status.textContent = t(`live.${s}`);
  };
  setStatus('connecting');
  const layers = ['incidents', 'workers', 'grids', 'cameras', ...(alarms ? ['alarms'] : []), ...(warnings ? ['warnings'] : [])];
  const filter = { layers, tiles: true };
  // Between "back to live" and the fresh snapshot the map still shows the past: deltas meant for the
  // live map it left would land on the replayed one.
  let holdLive = false;
  const held = () => holdLive || Boolean(timeline?.active);
  const live = new Live({
    filter,
    on: {
      snapshot: (m) => {
        // The alarms and warnings are panels of the present, kept whatever the map shows.
        alarms?.load().then(() => { document.body.dataset.alarmsSeq = String(m.seq); });
        warnings?.load().then(() => { document.body.dataset.warningsSeq = String(m.seq); });
        if (timeline?.active) return;
        // Back from a replay, the trails are the past's: they start again from here.
        data.snapshot(m, { keepTrails: !holdLive });
        holdLive = false;
        // Said on the page, so a test (or a person's tooling) knows the live data has its starting point.
        document.body.dataset.snapshotSeq = String(m.seq);
      },
      replayed: () => {
        alarms?.load();
        warnings?.load();
      },
      delta: (m) => {
        if (m.layer === 'alarms') alarms?.delta(m);
        else if (m.layer === 'warnings') warnings?.delta(m);
        else if (!held()) data.delta(m);
      },
      position: (m) => held() || data.position(m),
      // Tiles hidden during a replay are reloaded all the same: they are current when it ends.
      tiles_invalidated: (m) => refreshTiles(map, m),
      error: (m) => timeline?.receive(m) || showProblem(new Problem(m.status, m)),
      status: (s) => {
        setStatus(s);
        timeline?.connection(s);
      },
      any: (m) => {
        if (m.type.startsWith('replay_')) timeline?.receive(m);
      },
    },
  });

  if (mayReplay) {
    timeline = new Timeline({
      map,
      t,
      send: (m) => live.send(m),
      view: {
        enter: showLayers,
        show: (state, at) => {
          data.replayAt = at;
          data.snapshot(state, { keepTrails: false });
        },
        delta: (m) => data.delta({ ...m, type: 'delta' }),
        position: (m) => data.position(m),
        clock: (at) => { data.replayAt = at; },
        leave: () => {
          data.replayAt = null;
          holdLive = true;
          showLayers();
          live.setFilter(filter);
        },
      },
    });
  }

  map.on('moveend', () => {
    list.render();
    kpi.render();
  });
  map.on('idle', () => kpi.render());
  map.on('click', 'incident-point', (event) => drawer.open(event.features[0].properties.id));
  map.on('click', 'incident-cluster', async (event) => {
    const feature = event.features[0];
    const zoom = await map.getSource('incidents').getClusterExpansionZoom(feature.properties.cluster_id);
    map.easeTo({ center: feature.geometry.coordinates, zoom });
  });
  for (const layer of ['incident-point', 'incident-cluster']) {
    map.on('mouseenter', layer, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', layer, () => { map.getCanvas().style.cursor = ''; });
  }
}

/**
 * One checkbox per layer group but those in `without`, all on; `onChange` after each change. Returns a
 * function giving the groups shown (a group without a checkbox is not).
 */
function buildToggles(without, onChange) {
  const root = document.getElementById('toggles');
  const boxes = [];
  for (const group of Object.keys(GROUPS).filter((g) => !without.includes(g))) {
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = true;
    box.dataset.toggle = group;
    boxes.push(box);
    box.addEventListener('change', onChange);
    const caption = document.createElement('span');
    caption.textContent = t(`layer.${group}`);
    label.append(box, caption);
    root.append(label);
  }
  return () => new Set(boxes.filter((b) => b.checked).map((b) => b.dataset.toggle));
}
