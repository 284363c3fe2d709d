// The command centre (`/`): a live map of the area for command-centre staff. Grids (coloured by open
// cases) and cameras come from gridwatch's vector tiles, refreshed when the websocket says they
// changed; incidents, workers and trails come from the websocket (a snapshot, then deltas and
// positions). A side panel holds the layer toggles, the KPIs and the list of incidents in view; a
// drawer shows one case with its history and the actions its state allows.

import * as maplibregl from '/static/vendor/maplibre-gl.mjs';
import { api, Problem } from './common/api.js';
import { baseStyle, cityBounds, MAP_OPTIONS } from './common/basemap.js';
import { applyStrings, translator } from './common/i18n.js';
import { Live } from './common/live.js';
import { requireSession } from './common/session.js';
import { Drawer } from './centre/drawer.js';
import { KpiPanel } from './centre/kpi.js';
import { Alarms } from './centre/alarms.js';
import { addLayers, GROUPS, refreshTiles, setGroupVisible } from './centre/layers.js';
import { IncidentList } from './centre/list.js';
import { LiveData } from './centre/live-data.js';
import { STRINGS } from './centre/strings.js';

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
  buildToggles();

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

  const drawer = new Drawer({ t, categoryName, workers: loadWorkers });
  const data = new LiveData(map, () => {
    list.render();
    kpi.render();
  });
  const list = new IncidentList({ map, incidents: data.incidents, t, categoryName, onSelect: (id) => drawer.open(id) });
  const kpi = new KpiPanel({ map, incidents: data.incidents, t, onProblem: showProblem });
  data.onIncident = (summary) => {
    drawer.changed(summary);
    kpi.changed();
  };
  // What this user may do decides what the page offers: a role without reports has no KPI panel, one
  // that may not read alarms no alarm panel (and does not ask the websocket for them).
  const me = await api('/api/me');
  if (me.may.read_kpi) kpi.load();
  else kpi.disable();
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
  list.render();
  api('/api/categories')
    .then((all) => {
      for (const c of all) categories.set(c.code, c.name);
      list.render();
    })
    .catch(showProblem);

  const status = document.getElementById('live-status');
  const setStatus = (s) => {
    status.dataset.status = s;
    status.textContent = t(`live.${s}`);
  };
  setStatus('connecting');
  const layers = ['incidents', 'workers', 'grids', 'cameras', ...(alarms ? ['alarms'] : [])];
  new Live({
    filter: { layers, tiles: true },
    on: {
      snapshot: (m) => {
        data.snapshot(m);
        // The alarms are read again at every starting point: on start and after a reconnect.
        alarms?.load().then(() => { document.body.dataset.alarmsSeq = String(m.seq); });
        // Said on the page, so a test (or a person's tooling) knows the live data has its starting point.
        document.body.dataset.snapshotSeq = String(m.seq);
      },
      replayed: () => alarms?.load(),
      delta: (m) => (m.layer === 'alarms' ? alarms?.delta(m) : data.delta(m)),
      position: (m) => data.position(m),
      tiles_invalidated: (m) => refreshTiles(map, m),
      error: (m) => showProblem(new Problem(m.status, m)),
      status: setStatus,
    },
  });

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

/** One checkbox per layer group, all on. */
function buildToggles() {
  const root = document.getElementById('toggles');
  for (const group of Object.keys(GROUPS)) {
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = true;
    box.dataset.toggle = group;
    box.addEventListener('change', () => setGroupVisible(map, group, box.checked));
    const caption = document.createElement('span');
    caption.textContent = t(`layer.${group}`);
    label.append(box, caption);
    root.append(label);
  }
}
