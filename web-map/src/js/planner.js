// The planner view (`/planner`, 网格调整): a community's grids as H3 cells, painted from grid to grid
// with undo and redo, each grid's households checked against 100–150 and for contiguity as you paint;
// "Preview" stores the edit as a draft plan and shows the server's diff, "Save" applies it; the
// "Versions" list shows the saved boundary versions and rolls back to an older one. Unsaved painting is
// not lost without a warning (planner/unsaved.js); a refusal is said in the page's language with the
// cells it names outlined (planner/refusal.js); the grid list names each grid and its grid worker.

import * as maplibregl from '/static/vendor/maplibre-gl.mjs';
import { api, Problem } from './common/api.js';
import { requireSession } from './common/session.js';
import { Live } from './common/live.js';
import { baseStyle, MAP_OPTIONS } from './common/basemap.js';
import { applyStrings, translator } from './common/i18n.js';
import { Assignment } from './planner/model.js';
import { addLayers, featureBounds, recolourCells, showCells, showOutlines, showProblemCells } from './planner/layers.js';
import { Painter } from './planner/paint.js';
import { renderChanges, renderGrids, renderHint } from './planner/panel.js';
import { applyDraft, draft, renderDiff, renderSaved } from './planner/plan.js';
import { problemCells, renderRefusal } from './planner/refusal.js';
import { UnsavedGuard } from './planner/unsaved.js';
import { renderRolledBack, Versions } from './planner/versions.js';
import { el } from './planner/dom.js';
import { STRINGS } from './planner/strings.js';

const t = translator(STRINGS);
applyStrings(t);
requireSession(t);

const ui = {
  community: document.getElementById('community'),
  undo: document.getElementById('undo'),
  redo: document.getElementById('redo'),
  preview: document.getElementById('preview'),
  save: document.getElementById('save'),
  hint: document.getElementById('hint'),
  changes: document.getElementById('changes'),
  grids: document.querySelector('#grids tbody'),
  result: document.getElementById('plan-result'),
  notice: document.getElementById('notice'),
  live: document.getElementById('live'),
  versions: document.getElementById('versions'),
};

const map = new maplibregl.Map({ container: 'map', style: baseStyle(), center: [113.11, 36.19], zoom: 13, ...MAP_OPTIONS });
window.gridwatchMap = map;

const state = { community: null, assignment: null, draft: null, frame: 0, savedPlan: null, workers: new Map() };
const painter = new Painter(map, { pick: setTarget, painted: edited, ended: scheduleRefresh });
const versions = new Versions(ui.versions, t, { rolledBack, failed: rollbackFailed });
const guard = new UnsavedGuard({
  unsaved: () => Boolean(state.assignment && state.assignment.movedCount() > 0),
  t,
  after: document.querySelector('.planner-head'),
});
// The language switch reloads the page: ask first when painting would be lost.
const langSwitch = document.querySelector('[data-lang-switch]');
if (langSwitch) {
  const switchLang = langSwitch.onclick;
  langSwitch.onclick = () => guard.confirm(switchLang, { navigates: true });
}

const live = new Live({
  filter: { layers: ['grids'] },
  on: {
    delta: changedElsewhere,
    status: (status) => {
      ui.live.dataset.status = status;
      ui.live.textContent = t(`live.${status}`);
    },
  },
});

/** A grid named by its code in a refusal, with its name when the page knows it. */
function gridLabel(code) {
  const grid = state.assignment?.grids.find((g) => g.code === code);
  return grid?.name ? `${grid.name} (${code})` : code;
}

/** Shows any failure of an API call in the result area, once and in the page's language (a bug is
 * rethrown); `said` lists problem kinds the action already words. */
function fail(error, action = null, said = []) {
  if (!(error instanceof Problem)) throw error;
  renderRefusal(ui.result, error, t, { label: gridLabel, action, said });
}

function refresh() {
  state.frame = 0;
  const { assignment } = state;
  if (!assignment) return;
  recolourCells(map, assignment);
  showOutlines(map, assignment, painter.target);
  renderGrids(ui.grids, assignment.stats(), painter.target, t, (id) => state.workers.get(id) ?? null);
  renderHint(ui.hint, painter.target, assignment, t);
  const moved = assignment.movedCount();
  renderChanges(ui.changes, moved, t);
  ui.undo.disabled = !assignment.canUndo();
  ui.redo.disabled = !assignment.canRedo();
  ui.preview.disabled = moved === 0;
  ui.save.disabled = !(state.draft && state.draft.revision === assignment.revision);
}

function scheduleRefresh() {
  if (!state.frame) state.frame = requestAnimationFrame(refresh);
}

/** The edit changed: a preview shown for an earlier edit no longer holds. */
function edited() {
  if (state.draft || ui.result.dataset.state) {
    state.draft = null;
    ui.result.replaceChildren();
    delete ui.result.dataset.state;
    showProblemCells(map, []);
  }
  scheduleRefresh();
}

function setTarget(index) {
  painter.setTarget(index);
  scheduleRefresh();
}

async function loadCommunity(id, { keepResult = false } = {}) {
  state.community = id;
  state.assignment = null;
  state.draft = null;
  delete document.body.dataset.community;
  ui.notice.hidden = true;
  ui.notice.replaceChildren();
  live.setFilter({ communities: [id], layers: ['grids'] });
  versions.load(id);
  if (!keepResult) {
    ui.result.replaceChildren();
    delete ui.result.dataset.state;
  }
  ui.hint.textContent = t('loading');
  ui.grids.replaceChildren();
  try {
    const grids = (await api(`/api/grids?community=${id}&cells=true`)).features;
    const buildings = await Promise.all(grids.map((g) => api(`/api/buildings?grid=${g.properties.id}`)));
    if (state.community !== id) return;
    const households = new Map();
    for (const building of buildings.flatMap((b) => b.features)) {
      const { cell, households: n } = building.properties;
      households.set(cell, (households.get(cell) || 0) + n);
    }
    const sorted = grids.map((g) => g.properties).sort((a, b) => a.code.localeCompare(b.code));
    state.assignment = new Assignment(sorted, households);
    painter.setAssignment(state.assignment);
    showCells(map, state.assignment);
    showProblemCells(map, []);
    refresh();
    const box = featureBounds(grids);
    if (box) map.fitBounds(box, { padding: { top: 30, bottom: 30, right: 30, left: 430 }, animate: false });
    document.body.dataset.community = id;
  } catch (error) {
    ui.hint.textContent = '';
    fail(error);
  }
}

async function loadCommunities() {
  try {
    const communities = (await api('/api/regions?level=community')).features.map((f) => f.properties);
    communities.sort((a, b) => a.code.localeCompare(b.code));
    ui.community.replaceChildren(...communities.map((c) => el('option', { value: c.id }, `${c.name} (${c.code})`)));
    if (communities.length === 0) {
      ui.hint.textContent = t('empty.list');
      return;
    }
    await loadCommunity(communities[0].id);
  } catch (error) {
    fail(error);
  }
}

function undo() {
  if (state.assignment?.undo()) edited();
}

function redo() {
  if (state.assignment?.redo()) edited();
}

async function preview() {
  const { assignment, community } = state;
  const revision = assignment.revision;
  ui.preview.disabled = true;
  showProblemCells(map, []);
  try {
    const { plan, diff } = await draft(community, assignment.planBody());
    if (state.assignment !== assignment || assignment.revision !== revision) return;
    renderDiff(ui.result, plan, diff, t);
    state.draft = { id: plan.id, revision };
  } catch (error) {
    fail(error);
    if (error instanceof Problem) showProblemCells(map, problemCells(error));
  }
  scheduleRefresh();
}

async function save() {
  ui.save.disabled = true;
  const community = state.community;
  try {
    state.savedPlan = state.draft.id;
    const result = await applyDraft(community, state.draft.id);
    renderSaved(ui.result, result, t);
    await loadCommunity(community, { keepResult: true });
  } catch (error) {
    if (error instanceof Problem && error.status === 409 && error.type.endsWith('plan-stale')) {
      const reload = el('button', { type: 'button', id: 'reload' }, t('reload'));
      reload.onclick = () => loadCommunity(community);
      fail(error, el('div', {}, el('p', { class: 'problem', 'data-stale': true }, t('stale')), reload), ['stale']);
    } else {
      fail(error);
    }
    scheduleRefresh();
  }
}

/** A rollback of `community` to version `from` was applied: this planner's own change; the grids are loaded again. */
async function rolledBack(community, result, from) {
  state.savedPlan = result.plan_id;
  if (state.community !== community) return;
  showProblemCells(map, []);
  renderRolledBack(ui.result, result, from, t);
  await loadCommunity(community, { keepResult: true });
}

function rollbackFailed(error) {
  fail(error);
  if (error instanceof Problem) showProblemCells(map, problemCells(error));
}

/** Another planner applied a boundary change to this community: say so, with a way to reload. */
function changedElsewhere(message) {
  const data = message.data || {};
  // A rollback's own event may come before its answer (and the plan id): decide once it is done.
  if (versions.pending) {
    versions.pending.then(() => changedElsewhere(message));
    return;
  }
  if (message.kind !== 'boundary.changed' || data.community !== state.community || data.plan === state.savedPlan) return;
  const reload = el('button', { type: 'button' }, t('reload'));
  reload.onclick = () => loadCommunity(state.community);
  ui.notice.replaceChildren(el('p', {}, t('changed.elsewhere', { version: data.version })), reload);
  ui.notice.hidden = false;
  versions.load(state.community);
}

function keyed(event) {
  const key = event.key.toLowerCase();
  if (key === 'escape') {
    setTarget(null);
    return;
  }
  if (!(event.ctrlKey || event.metaKey)) return;
  if (key === 'z' && event.shiftKey) redo();
  else if (key === 'z') undo();
  else if (key === 'y') redo();
  else return;
  event.preventDefault();
}

map.on('load', () => {
  addLayers(map);
  document.addEventListener('keydown', keyed);
  ui.undo.onclick = undo;
  ui.redo.onclick = redo;
  ui.preview.onclick = preview;
  ui.save.onclick = save;
  ui.community.onchange = () => guard.confirm(() => loadCommunity(Number(ui.community.value)), {
    stay: () => { ui.community.value = String(state.community); },
  });
  ui.grids.onclick = (event) => {
    const row = event.target.closest('tr[data-index]');
    if (row) setTarget(Number(row.dataset.index));
  };
  loadCommunities();
  // Grid workers by name in the grid list; a role that may not read workers sees their ids.
  api('/api/workers')
    .then((workers) => {
      for (const f of workers.features || []) state.workers.set(f.properties.id, f.properties.name);
      scheduleRefresh();
    })
    .catch((error) => {
      if (!(error instanceof Problem)) throw error;
    });
  // A role that may not change boundaries (`/api/me`) still sees them and may try changes, but the
  // buttons that would store a plan or roll one back are not offered.
  api('/api/me')
    .then((me) => {
      if (me.may.change_boundaries) return;
      ui.preview.hidden = true;
      ui.save.hidden = true;
      versions.setMayChange(false);
      const note = el('p', { class: 'planner-readonly', id: 'readonly' }, t('readonly'));
      ui.hint.before(note);
    })
    .catch(fail);
});
