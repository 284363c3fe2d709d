//! The hub: routes each committed event to the subscriptions whose filter it touches.
//!
//! Subscriptions are indexed by H3 cell for their bbox and circle (resolution 9, about 0.1 km², for an
//! area of up to a few hundred km²; resolution 7, about 5 km², for larger ones), by grid, by worker
//! (`mine`, and a worker's own cases), and a short list of those that want everything. An item looks up
//! only its own two cells, grids and workers, then each candidate's filter decides exactly. Positions go
//! a batch at a time (`publish_fixes`): each worker's last fix of the batch, one outbox lock and one wake
//! per subscriber. The hub never waits on a socket: it pushes into each subscription's bounded outbox and
//! wakes the socket task.
//!
//! What each kind of event reaches is [`items_of`], one arm per `domain::event::Change` variant; a
//! `delta`'s `data` is the payload exactly as the store keeps it, but for a worker's: never a device id,
//! and the phone only for roles that manage workers ([`Delta::for_viewer`]).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use h3o::geom::{ContainmentMode, TilerBuilder};
use h3o::{CellIndex, LatLng, Resolution};
use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{Notify, broadcast};

use super::filter::{Filter, Item, Layer};
use super::outbox::{Budget, Drained, Limits, Outbox};
use crate::core::WeakCore;
use crate::domain::event::{IncidentSummary, WorkerSummary};
use crate::domain::worker::sees_contacts;
use crate::domain::{Change, Event, Fix, GridId, Principal, WorkerId};
use crate::services::Shutdown;
use crate::world::{Visibility, World};

mod interest;
pub use interest::Interest;

/// The coarse resolution large areas are indexed at (about 5 km² a cell).
pub const ROUTING_RESOLUTION: Resolution = Resolution::Seven;
/// The fine resolution areas up to a few hundred km² are indexed at (about 0.1 km² a cell), so a fix
/// meets only the viewports near it even when the whole city fits in one coarse cell.
const FINE_RESOLUTION: Resolution = Resolution::Nine;
/// A bbox or circle that needs more coarse cells than this is indexed as "everywhere".
const MAX_INDEX_CELLS: usize = 4096;
/// The same, as a float for the area estimate.
const MAX_INDEX_CELLS_F: f64 = 4096.0;

/// Settings of the live hub.
#[derive(Debug, Clone, Copy)]
pub struct LiveConfig {
    /// Events a subscriber may have queued before it is told to resync.
    pub queue: usize,
    /// Bytes of events a subscriber may have queued before it is told to resync.
    pub queue_bytes: usize,
    /// Bytes of events queued to every subscriber together: past it, the subscriber whose event would
    /// pass it is told to resync (its queue is dropped).
    pub total_bytes: usize,
    /// Websocket connections open at once; past it an upgrade is answered 503 with `Retry-After`.
    pub max_connections: usize,
    /// A snapshot is sent as messages of about this many bytes (`snapshot`, then `snapshot_part`s), so
    /// a connection holds one part at a time, not the whole.
    pub snapshot_chunk: usize,
    /// How often the server pings; a connection silent for two intervals is closed as dead.
    pub ping: std::time::Duration,
    /// Caps each connection's kernel send buffer (bytes), so a client that stops reading pins at most
    /// this much kernel memory before its outbox takes over; `None` leaves the kernel's autotuning.
    pub send_buffer: Option<usize>,
    /// How many messages other than positions one socket may send (`subscribe`, `resume`, `ping`,
    /// anything refused): each `subscribe` builds a snapshot, so a client must not ask for hundreds a
    /// second. Over it a message is answered with a 429 error and ignored.
    pub control_rate: crate::throttle::Rate,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            queue: 4096,
            queue_bytes: 4 << 20,
            total_bytes: 256 << 20,
            max_connections: 10_000,
            snapshot_chunk: 256 << 10,
            ping: std::time::Duration::from_secs(20),
            send_buffer: None,
            // A map sends one subscribe per pan or zoom; ten a second is more than a hand can make.
            control_rate: crate::throttle::Rate::every(10, crate::throttle::Per::Second),
        }
    }
}

/// One subscriber's filter, scope and outbox. Immutable but for the outbox and the scope: a new
/// `subscribe` makes a new subscription; a change to what the principal may see (a worker moved off a
/// grid, a boundary change) narrows or widens the scope in place, in event order, before the hub routes
/// the next event ([`Hub::publish`]), and flags the subscription so its socket sends a new snapshot.
#[derive(Debug)]
pub struct Subscription {
    pub id: u64,
    pub principal: Principal,
    visibility: Mutex<Visibility>,
    /// The scope changed since the socket last looked ([`Subscription::take_rescoped`]).
    rescoped: AtomicBool,
    pub filter: Filter,
    /// Where it sits in the hub's index, kept so unsubscribing does not tile its area again.
    keys: Keys,
    outbox: Mutex<Outbox>,
    pub notify: Notify,
}

impl Subscription {
    pub fn drain(&self) -> Drained {
        self.outbox
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
    }

    pub fn raise_floor(&self, seq: i64) {
        self.outbox
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .raise_floor(seq);
    }

    /// Whether the queue overflowed (and takes no more events until the client resumes).
    pub fn overflowed(&self) -> bool {
        self.outbox
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .overflowed()
    }

    /// Messages queued now.
    pub fn queued(&self) -> usize {
        self.outbox
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether the item belongs to this subscription, knowing from `world` where its worker is.
    pub fn admits(&self, item: &Item, world: &World) -> bool {
        let me = self.principal.worker;
        let me_at = me.and_then(|w| world.position(w)).map(|p| (p.lat, p.lon));
        self.admits_at(item, me_at)
    }

    fn admits_at(&self, item: &Item, me_at: Option<(f64, f64)>) -> bool {
        let visibility = self
            .visibility
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.filter
            .admits_at(item, &visibility, self.principal.worker, me_at)
    }

    /// Whether the scope changed since the last call: the socket then subscribes again.
    pub fn take_rescoped(&self) -> bool {
        self.rescoped.swap(false, Ordering::AcqRel)
    }

    /// Replaces the scope with what `world` now grants; `true` when it changed.
    fn rescope(&self, world: &World) -> bool {
        let now = world.visibility(&self.principal);
        let mut visibility = self
            .visibility
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if *visibility == now {
            return false;
        }
        *visibility = now;
        self.rescoped.store(true, Ordering::Release);
        true
    }
}

#[derive(Debug, Default)]
struct Registry {
    next: u64,
    subs: FxHashMap<u64, Arc<Subscription>>,
    by_cell: FxHashMap<CellIndex, Vec<u64>>,
    by_grid: FxHashMap<GridId, Vec<u64>>,
    by_worker: FxHashMap<WorkerId, Vec<u64>>,
    everywhere: FxHashSet<u64>,
    /// The subscriptions that asked for the `alarms` layer: an alarm goes to each whose scope covers
    /// it, wherever its viewport is (alarms are few; these are the command centre's screens).
    alarms: FxHashSet<u64>,
}

/// Where a subscription sits in the index.
#[derive(Debug, Default, PartialEq, Eq)]
struct Keys {
    cells: Vec<CellIndex>,
    grids: Vec<GridId>,
    workers: Vec<WorkerId>,
    everywhere: bool,
    alarms: bool,
}

/// The live hub, shared by every connection.
#[derive(Debug)]
pub struct Hub {
    registry: Mutex<Registry>,
    /// Woken when a subscription comes or goes, so the relay (`crate::relay`) follows what this node's
    /// subscribers watch.
    watched: Notify,
    connections: AtomicUsize,
    budget: Arc<Budget>,
    pub config: LiveConfig,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new(LiveConfig::default())
    }
}

/// A websocket connection's place among the [`LiveConfig::max_connections`]; given back when dropped.
#[derive(Debug)]
pub struct Slot(Arc<Hub>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What `/health` reports of the hub.
#[derive(Debug, Clone, Copy, serde::Serialize, utoipa::ToSchema)]
pub struct LiveStats {
    /// Open websocket connections.
    pub connections: usize,
    /// Live subscriptions (a connection between `resync` and `resume` has none).
    pub subscriptions: usize,
    /// The most messages any one subscriber has queued now: bounded by the queue size plus one position
    /// per worker.
    pub queued_max: usize,
    /// Subscriptions whose queue overflowed and that wait for their socket to take the `resync`.
    pub overflowed: usize,
    /// Bytes of events queued to every subscriber together.
    pub queued_bytes: usize,
    /// The cap on `queued_bytes` (`--ws-total-bytes`).
    pub queued_bytes_cap: usize,
}

impl Hub {
    #[must_use]
    pub fn new(config: LiveConfig) -> Self {
        Self {
            registry: Mutex::default(),
            watched: Notify::new(),
            connections: AtomicUsize::new(0),
            budget: Budget::new(config.total_bytes),
            config,
        }
    }

    /// Open websocket connections.
    #[must_use]
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Takes a place for a new connection; `None` when [`LiveConfig::max_connections`] are open.
    #[must_use]
    pub fn connect(self: &Arc<Self>) -> Option<Slot> {
        let max = self.config.max_connections;
        self.connections
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < max).then_some(open + 1)
            })
            .ok()
            .map(|_| Slot(Arc::clone(self)))
    }

    #[must_use]
    pub fn stats(&self) -> LiveStats {
        let subs: Vec<Arc<Subscription>> = self
            .registry
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .subs
            .values()
            .cloned()
            .collect();
        LiveStats {
            connections: self.connections.load(Ordering::Relaxed),
            subscriptions: subs.len(),
            queued_max: subs.iter().map(|s| s.queued()).max().unwrap_or(0),
            overflowed: subs.iter().filter(|s| s.overflowed()).count(),
            queued_bytes: self.budget.used(),
            queued_bytes_cap: self.budget.cap(),
        }
    }

    /// Registers a subscription whose outbox skips events at or below `floor`.
    pub fn subscribe(
        &self,
        principal: Principal,
        visibility: Visibility,
        filter: Filter,
        floor: i64,
    ) -> Arc<Subscription> {
        let keys = keys_of(&filter, &visibility, principal.worker);
        let mut registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        registry.next += 1;
        let id = registry.next;
        let sub = Arc::new(Subscription {
            id,
            principal,
            visibility: Mutex::new(visibility),
            rescoped: AtomicBool::new(false),
            filter,
            keys,
            outbox: Mutex::new(Outbox::new(
                Limits {
                    events: self.config.queue,
                    bytes: self.config.queue_bytes,
                    budget: Arc::clone(&self.budget),
                },
                floor,
            )),
            notify: Notify::new(),
        });
        let keys = &sub.keys;
        for cell in &keys.cells {
            registry.by_cell.entry(*cell).or_default().push(id);
        }
        for grid in &keys.grids {
            registry.by_grid.entry(*grid).or_default().push(id);
        }
        for worker in &keys.workers {
            registry.by_worker.entry(*worker).or_default().push(id);
        }
        if keys.everywhere {
            registry.everywhere.insert(id);
        }
        if keys.alarms {
            registry.alarms.insert(id);
        }
        registry.subs.insert(id, Arc::clone(&sub));
        metrics::gauge!("gridwatch_ws_subscriptions").set(f64::from(
            u32::try_from(registry.subs.len()).unwrap_or(u32::MAX),
        ));
        drop(registry);
        self.watched.notify_one();
        sub
    }

    /// Removes a subscription from the index.
    pub fn unsubscribe(&self, sub: &Subscription) {
        let keys = &sub.keys;
        let mut registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        let id = sub.id;
        for cell in &keys.cells {
            remove_from(&mut registry.by_cell, cell, id);
        }
        for grid in &keys.grids {
            remove_from(&mut registry.by_grid, grid, id);
        }
        for worker in &keys.workers {
            remove_from(&mut registry.by_worker, worker, id);
        }
        registry.everywhere.remove(&id);
        registry.alarms.remove(&id);
        registry.subs.remove(&id);
        metrics::gauge!("gridwatch_ws_subscriptions").set(f64::from(
            u32::try_from(registry.subs.len()).unwrap_or(u32::MAX),
        ));
        drop(registry);
        self.watched.notify_one();
    }

    /// The subscriptions an item may concern: those indexed under its cells, grids or workers.
    fn candidates(&self, item: &Item) -> Vec<Arc<Subscription>> {
        let registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        let mut ids: FxHashSet<u64> = FxHashSet::default();
        registry.each_candidate(item, |id| {
            ids.insert(id);
        });
        ids.iter()
            .filter_map(|id| registry.subs.get(id).cloned())
            .collect()
    }

    /// Routes one committed event to every subscription it belongs to. An event that changes what
    /// principals may see re-scopes the subscriptions first, so nothing after it reaches a socket under
    /// the old scope.
    pub fn publish(&self, world: &World, event: &Event) {
        match &event.change {
            Change::WorkerUpdated(worker) => self.rescope(world, Some(worker.id)),
            Change::BoundaryChanged(_) | Change::CityImported(_) | Change::RegionCreated(_) => {
                self.rescope(world, None);
            }
            _ => {}
        }
        for (item, message) in items_of(world, event) {
            for sub in self.candidates(&item) {
                if sub.admits(&item, world) {
                    let taken = sub
                        .outbox
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push_event(event.seq, Arc::clone(message.for_viewer(&sub.principal)));
                    if !taken {
                        metrics::counter!("gridwatch_ws_overflows_total").increment(1);
                    }
                    sub.notify.notify_one();
                }
            }
        }
    }

    /// Re-scopes every subscription (or only `worker`'s own) to what `world` grants now, waking those
    /// whose scope changed.
    fn rescope(&self, world: &World, worker: Option<WorkerId>) {
        let subs: Vec<Arc<Subscription>> = {
            let registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
            registry
                .subs
                .values()
                .filter(|s| worker.is_none() || s.principal.worker == worker)
                .cloned()
                .collect()
        };
        for sub in subs {
            if sub.rescope(world) {
                sub.notify.notify_one();
            }
        }
    }

    /// Routes a batch of new fixes (no sequence number). Only each worker's last fix of the batch is
    /// routed: every outbox keeps just the latest position of a worker anyway, so the others would be
    /// overwritten before any socket could send them. Each subscription's outbox is locked and its socket
    /// woken once per batch, not once per fix.
    pub fn publish_fixes(&self, world: &World, fixes: &[Fix]) {
        let mut last: FxHashMap<WorkerId, usize> = FxHashMap::default();
        for (i, fix) in fixes.iter().enumerate() {
            last.insert(fix.worker, i);
        }
        let mut order: Vec<usize> = last.into_values().collect();
        order.sort_unstable();
        let routed: Vec<(Item, WorkerId, Arc<str>)> = order
            .into_iter()
            .filter_map(|i| {
                let fix = &fixes[i];
                let w = world.worker(fix.worker)?;
                let item = Item {
                    layer: Layer::Workers,
                    point: Some((fix.lat, fix.lon)),
                    grids: w.grids.iter().map(|d| d.grid_id).collect(),
                    workers: [Some(fix.worker), None, None],
                    open: true,
                };
                Some((item, fix.worker, position_message(fix)))
            })
            .collect();
        // Subscription → the routed fixes it is a candidate for, gathered under one registry lock.
        let mut wanted: FxHashMap<u64, (Arc<Subscription>, Vec<usize>)> = FxHashMap::default();
        {
            let registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
            for (k, (item, _, _)) in routed.iter().enumerate() {
                registry.each_candidate(item, |id| {
                    if let Some(sub) = registry.subs.get(&id) {
                        let entry = wanted
                            .entry(id)
                            .or_insert_with(|| (Arc::clone(sub), Vec::new()));
                        // Items go in order, so an id met twice for one item (by cell and by grid) finds
                        // that item last in its list.
                        if entry.1.last() != Some(&k) {
                            entry.1.push(k);
                        }
                    }
                });
            }
        }
        for (sub, ks) in wanted.into_values() {
            let me = sub.principal.worker;
            let me_at = me.and_then(|w| world.position(w)).map(|p| (p.lat, p.lon));
            let mut outbox = None;
            for k in ks {
                let (item, worker, message) = &routed[k];
                if sub.admits_at(item, me_at) {
                    outbox
                        .get_or_insert_with(|| {
                            sub.outbox.lock().unwrap_or_else(PoisonError::into_inner)
                        })
                        .push_position(*worker, Arc::clone(message));
                }
            }
            if outbox.take().is_some() {
                sub.notify.notify_one();
            }
        }
    }
}

impl Hub {
    /// Announces tiles of `layer` that changed to every subscription that asked for `tiles` and may see
    /// one of `grids` (an empty list concerns everyone). Coalesced in each outbox until its socket drains.
    pub fn publish_tiles(
        &self,
        layer: &'static str,
        rects: &[crate::tiles::TileRect],
        grids: &[GridId],
    ) {
        let subs: Vec<Arc<Subscription>> = {
            let registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
            registry
                .subs
                .values()
                .filter(|s| s.filter.tiles)
                .cloned()
                .collect()
        };
        for sub in subs {
            let visible = sub
                .visibility
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .any(grids.iter().copied());
            if grids.is_empty() || visible {
                sub.outbox
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push_tiles(layer, rects);
                sub.notify.notify_one();
            }
        }
    }
}

impl Registry {
    /// Calls `f` with the id of every subscription indexed under the item's cells, grids or workers, or
    /// indexed everywhere. An id may come more than once.
    fn each_candidate(&self, item: &Item, mut f: impl FnMut(u64)) {
        if item.layer.is_command() {
            self.alarms.iter().copied().for_each(&mut f);
            return;
        }
        self.everywhere.iter().copied().for_each(&mut f);
        if let Some((lat, lon)) = item.point {
            for cell in point_cells(lat, lon).into_iter().flatten() {
                self.by_cell
                    .get(&cell)
                    .into_iter()
                    .flatten()
                    .copied()
                    .for_each(&mut f);
            }
        }
        for grid in &item.grids {
            self.by_grid
                .get(grid)
                .into_iter()
                .flatten()
                .copied()
                .for_each(&mut f);
        }
        for worker in item.workers.iter().flatten() {
            self.by_worker
                .get(worker)
                .into_iter()
                .flatten()
                .copied()
                .for_each(&mut f);
        }
    }
}

/// The `position` message of a fix.
fn position_message(fix: &Fix) -> Arc<str> {
    Arc::from(
        json!({"type": "position", "worker": fix.worker, "lat": fix.lat, "lon": fix.lon, "at": fix.at,
            "accuracy_m": fix.accuracy_m, "speed_mps": fix.speed_mps, "heading_deg": fix.heading_deg,
            "flags": fix.flags})
        .to_string(),
    )
}

fn remove_from<K: std::hash::Hash + Eq>(map: &mut FxHashMap<K, Vec<u64>>, key: &K, id: u64) {
    if let Some(list) = map.get_mut(key) {
        list.retain(|&x| x != id);
        if list.is_empty() {
            map.remove(key);
        }
    }
}

/// The coarse cell the hub files a point under: the parent at [`ROUTING_RESOLUTION`] of its cell at
/// the fine resolution. H3's parents do not nest exactly, so near a coarse cell's edge this is not
/// always the coarse cell the point falls in; the relay keys fixes by it, as the index does.
#[must_use]
pub fn routing_cell(lat: f64, lon: f64) -> Option<CellIndex> {
    point_cells(lat, lon)[1]
}

/// The cells of a point that the index may hold it under: fine, then coarse; `None` for an invalid point.
fn point_cells(lat: f64, lon: f64) -> [Option<CellIndex>; 2] {
    match LatLng::new(lat, lon) {
        Ok(ll) => {
            let fine = ll.to_cell(FINE_RESOLUTION);
            [Some(fine), fine.parent(ROUTING_RESOLUTION)]
        }
        Err(_) => [None, None],
    }
}

fn keys_of(filter: &Filter, visibility: &Visibility, me: Option<WorkerId>) -> Keys {
    let mut keys = Keys {
        alarms: filter.has_layer(Layer::Alarms) || filter.has_layer(Layer::Warnings),
        ..Keys::default()
    };
    if !filter.is_spatial() {
        // The whole scope: index by the grids in scope (and one's own cases), or everywhere.
        match visibility {
            Visibility::All => keys.everywhere = true,
            Visibility::Grids(grids) => {
                keys.grids = grids.iter().copied().collect();
                keys.workers.extend(me);
            }
        }
        return keys;
    }
    for area in filter.areas() {
        match cells_covering(area) {
            Some(cells) => keys.cells.extend(cells),
            None => keys.everywhere = true,
        }
    }
    keys.cells.sort_unstable();
    keys.cells.dedup();
    keys.grids = filter.grids.iter().copied().collect();
    // Alerts go to the worker a token acts for, whatever it watches.
    keys.workers.extend(me);
    keys.workers.extend(filter.mine.filter(|m| Some(*m) != me));
    if filter.mine_radius_m.is_some() {
        // Where the worker is changes with every fix: check their cases' neighbourhood on each event, in
        // their grids and (through `Filter::areas`, above) in the cells around where they subscribed.
        match visibility {
            Visibility::All => keys.everywhere = true,
            Visibility::Grids(grids) => keys.grids.extend(grids.iter().copied()),
        }
    }
    keys
}

/// The cells covering a box: at the fine resolution when that takes at most `MAX_INDEX_CELLS` cells, else
/// at the coarse one, else `None` (too many to index).
fn cells_covering(b: [f64; 4]) -> Option<Vec<CellIndex>> {
    // Estimate before tiling, so a continent is not tiled.
    let km_lat = (b[3] - b[1]) * 111.0;
    let km_lon = (b[2] - b[0]) * 111.0 * f64::midpoint(b[1], b[3]).to_radians().cos().abs();
    let km2 = km_lat * km_lon;
    let resolution = [FINE_RESOLUTION, ROUTING_RESOLUTION]
        .into_iter()
        .find(|r| km2 / (r.area_km2() * 0.8) <= MAX_INDEX_CELLS_F)?;
    let ring = geo::LineString::from(vec![
        (b[0], b[1]),
        (b[2], b[1]),
        (b[2], b[3]),
        (b[0], b[3]),
        (b[0], b[1]),
    ]);
    let mut tiler = TilerBuilder::new(resolution)
        .containment_mode(ContainmentMode::Covers)
        .build();
    let mut cells: Vec<CellIndex> = Vec::new();
    if tiler.add(geo::Polygon::new(ring, Vec::new())).is_ok() {
        cells.extend(tiler.into_coverage());
    }
    // A degenerate box (a point or a line) tiles to nothing: index the cells of its corners.
    for (lon, lat) in [(b[0], b[1]), (b[2], b[1]), (b[2], b[3]), (b[0], b[3])] {
        cells.extend(LatLng::new(lat, lon).ok().map(|ll| ll.to_cell(resolution)));
    }
    (cells.len() <= MAX_INDEX_CELLS).then_some(cells)
}

/// A `delta` message as subscribers receive it: one text for all, but a worker's has two, since only
/// roles that manage workers see their phones.
#[derive(Debug, Clone)]
pub struct Delta {
    text: Arc<str>,
    /// The text for roles that see workers' contacts, when it differs.
    with_contacts: Option<Arc<str>>,
}

impl Delta {
    fn same(text: Arc<str>) -> Self {
        Self {
            text,
            with_contacts: None,
        }
    }

    /// The text `viewer` receives.
    #[must_use]
    pub fn for_viewer(&self, viewer: &Principal) -> &Arc<str> {
        match &self.with_contacts {
            Some(text) if sees_contacts(viewer.role) => text,
            _ => &self.text,
        }
    }
}

/// A worker's item, and its delta in two forms: with contacts for roles that manage workers, without
/// for everyone else.
fn worker_item(world: &World, event: &Event, worker: &WorkerSummary) -> (Item, Delta) {
    let item = Item {
        layer: Layer::Workers,
        point: world.position(worker.id).map(|p| (p.lat, p.lon)),
        grids: worker.grids.iter().map(|d| d.grid_id).collect(),
        workers: [Some(worker.id), None, None],
        open: true,
    };
    let seen = |contacts: bool| {
        delta(
            event,
            Layer::Workers,
            worker.id.0,
            &worker.for_client(contacts),
        )
    };
    let message = Delta {
        text: seen(false),
        with_contacts: Some(seen(true)),
    };
    (item, message)
}

/// The routable items of an event, each with the `delta` message clients receive for it. Every kind
/// is named: a new one does not compile until it says which layer (if any) it reaches.
#[must_use]
pub fn items_of(world: &World, event: &Event) -> Vec<(Item, Delta)> {
    let mut items = map_items_of(world, event);
    items.extend(alarm_items_of(world, event));
    items
}

/// The `alarms` layer's items of `event`: one per alarm it raises (`crate::alarms::raised`, placed in
/// the world's grids) and the acknowledged alarm of an `alarm.acknowledged`. Each `delta` has `layer:
/// "alarms"`, the alarm's id (a string, `"{seq}"` or `"{seq}.{case}"`) and the alarm as
/// `GET /api/alarms` lists it (`acknowledged: null` or `{by, at, seq}`) as `data`; its `kind` is the
/// event's, so a client tells a new alarm (`incident.*`, `alert.raised`) from an acknowledgement.
fn alarm_items_of(world: &World, event: &Event) -> Vec<(Item, Delta)> {
    use crate::domain::alarm::Acknowledgement;
    let entries: Vec<crate::alarms::Entry> = if let Change::AlarmAcknowledged(ack) = &event.change {
        vec![crate::alarms::Entry {
            alarm: ack.alarm.clone(),
            ack: Some(Acknowledgement {
                by: ack.by.clone(),
                at: ack.at,
                seq: event.seq,
            }),
        }]
    } else {
        crate::alarms::raised(event)
            .into_iter()
            .map(|mut alarm| {
                world.place_alarm(&mut alarm);
                crate::alarms::Entry { alarm, ack: None }
            })
            .collect()
    };
    entries
        .into_iter()
        .map(|entry| {
            let item = Item {
                layer: Layer::Alarms,
                point: Some((entry.alarm.lat, entry.alarm.lon)),
                grids: entry.alarm.grid.into_iter().collect(),
                workers: [None, None, None],
                open: entry.ack.is_none(),
            };
            let message = json!({"type": "delta", "seq": event.seq, "kind": event.change.kind(),
                "at": event.at, "layer": Layer::Alarms.as_str(), "id": entry.alarm.id, "data": entry});
            (item, Delta::same(Arc::from(message.to_string())))
        })
        .collect()
}

/// What `event` changes on the map, one arm per kind of change.
fn map_items_of(world: &World, event: &Event) -> Vec<(Item, Delta)> {
    let whole =
        |layer: Layer, id: i64| Delta::same(delta(event, layer, id, &event.change.payload_json()));
    match &event.change {
        Change::IncidentCreated(summary) => {
            vec![(
                incident_item(summary),
                whole(Layer::Incidents, summary.id.0),
            )]
        }
        // One delta per case, carrying that case's summary.
        Change::IncidentUpdated(updated) => updated
            .incidents
            .iter()
            .map(|summary| {
                let message = delta(event, Layer::Incidents, summary.id.0, summary);
                (incident_item(summary), Delta::same(message))
            })
            .collect(),
        Change::IncidentPhotoAdded(photo) => world
            .incident(photo.incident)
            .map(|case| {
                let item = Item {
                    layer: Layer::Incidents,
                    point: Some((case.place.lat, case.place.lon)),
                    grids: vec![case.place.grid],
                    workers: [case.state.assignee, case.state.handler, None],
                    open: case.state.status.is_open(),
                };
                vec![(item, whole(Layer::Incidents, photo.incident.0))]
            })
            .unwrap_or_default(),
        Change::WorkerCreated(worker) | Change::WorkerUpdated(worker) => {
            vec![worker_item(world, event, worker)]
        }
        // An alert reaches exactly the workers it names, wherever they subscribed.
        Change::AlertRaised(alert) => {
            let message = whole(Layer::Alerts, event.seq);
            alert
                .workers
                .iter()
                .map(|&id| {
                    let item = Item {
                        layer: Layer::Alerts,
                        point: None,
                        grids: Vec::new(),
                        workers: [Some(id), None, None],
                        open: true,
                    };
                    (item, message.clone())
                })
                .collect()
        }
        Change::PatrolStarted(_)
        | Change::PatrolEnded(_)
        | Change::PatrolGridEntered(_)
        | Change::PatrolGridExited(_)
        | Change::PatrolCheckedIn(_)
        | Change::CheckpointCreated(_) => crate::patrols::live_item(world, &event.change)
            .map(|(item, id)| vec![(item, whole(Layer::Patrols, id))])
            .unwrap_or_default(),
        Change::BoundaryChanged(changed) => {
            // The grids of the community (old and new), and the moved cells' centre for viewports.
            let item = Item {
                layer: Layer::Grids,
                point: changed.lat.zip(changed.lon),
                grids: changed.grids.clone(),
                workers: [None, None, None],
                open: true,
            };
            vec![(item, whole(Layer::Grids, changed.version))]
        }
        Change::CameraCreated(_) | Change::CameraUpdated(_) | Change::CameraDeleted(_) => {
            crate::cameras::live_item(&event.change)
                .map(|(item, id)| vec![(item, whole(Layer::Cameras, id))])
                .unwrap_or_default()
        }
        // Not on the live map: the city's shape reaches clients as tiles (`tiles_invalidated`), and
        // tokens, users, categories, departments and draft plans are read through the API; an
        // acknowledgement goes only on the `alarms` layer (`alarm_items_of`).
        Change::CityImported(_)
        | Change::RegionCreated(_)
        | Change::BuildingCreated(_)
        | Change::TokenCreated(_)
        | Change::TokenRevoked(_)
        | Change::UserCreated(_)
        | Change::UserUpdated(_)
        | Change::CategoryUpdated(_)
        | Change::DepartmentUpdated(_)
        | Change::PlanCreated(_)
        | Change::AlarmAcknowledged(_) => Vec::new(),
        Change::WarningRaised(_) | Change::WarningCleared(_) => warning_items(event),
    }
}

/// A warning's one item, on the `warnings` layer: raised, with its evidence and the centre of its
/// cells; cleared, with its key. Reaches whoever's scope holds one of its grids.
fn warning_items(event: &Event) -> Vec<(Item, Delta)> {
    match &event.change {
        Change::WarningRaised(warning) => {
            let item = Item {
                layer: Layer::Warnings,
                point: crate::api::warnings::centre(warning),
                grids: warning.grids.iter().map(|&g| GridId(g)).collect(),
                workers: [None, None, None],
                open: true,
            };
            let data = crate::api::warnings::with_centre(warning);
            vec![(
                item,
                Delta::same(delta(event, Layer::Warnings, event.seq, &data)),
            )]
        }
        Change::WarningCleared(cleared) => {
            let item = Item {
                layer: Layer::Warnings,
                point: None,
                grids: cleared.grids.iter().map(|&g| GridId(g)).collect(),
                workers: [None, None, None],
                open: false,
            };
            vec![(
                item,
                Delta::same(delta(
                    event,
                    Layer::Warnings,
                    event.seq,
                    &event.change.payload_json(),
                )),
            )]
        }
        _ => Vec::new(),
    }
}

/// The `delta` message of one item of `event`: `data` is the payload (or, for `incident.updated`, the
/// one case's summary) exactly as stored.
fn delta(event: &Event, layer: Layer, id: i64, data: &impl serde::Serialize) -> Arc<str> {
    Arc::from(
        json!({"type": "delta", "seq": event.seq, "kind": event.change.kind(), "at": event.at,
            "layer": layer.as_str(), "id": id, "data": data})
        .to_string(),
    )
}

/// A case summary as an item. A reassignment also reaches the worker it took the case from (its
/// history entry's `from`), whose phone would otherwise keep showing the case as its own.
fn incident_item(summary: &IncidentSummary) -> Item {
    Item {
        layer: Layer::Incidents,
        point: Some((summary.lat, summary.lon)),
        grids: vec![summary.grid],
        workers: [summary.assignee, summary.handler, summary.taken_from()],
        open: summary.status.is_open(),
    }
}

/// The hub's feed, a service started by `services::start`: routes each event of the core's channel
/// (`events`) to the subscriptions. When it falls behind the channel, it reads what it missed from the
/// store's event log, so no subscriber loses an event. It holds the core weakly, so it never keeps the
/// channel it reads open, and ends on `shutdown`, when the channel closes or when the core is gone.
pub async fn feed(core: WeakCore, mut events: broadcast::Receiver<Event>, mut shutdown: Shutdown) {
    let Some(mut last) = core.upgrade().map(|core| core.world().last_seq()) else {
        return;
    };
    loop {
        let received = tokio::select! {
            () = shutdown.stopping() => return,
            received = events.recv() => received,
        };
        let Some(core) = core.upgrade() else { return };
        match received {
            Ok(event) => {
                if event.seq > last {
                    last = event.seq;
                    core.hub().publish(&core.world(), &event);
                }
            }
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "the live hub fell behind the event channel; reading the event log"
                );
                loop {
                    match core.store().events_since(last, 1000).await {
                        Ok(page) if page.is_empty() => break,
                        Ok(page) => {
                            for event in page {
                                last = event.seq;
                                core.hub().publish(&core.world(), &event);
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "the live hub could not read the event log");
                            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        }
                    }
                }
            }
            Err(RecvError::Closed) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn a_small_box_is_indexed_by_the_fine_cells_that_cover_it() {
        // About 1.1 km × 0.9 km around Changzhi.
        let b = [113.10, 36.19, 113.11, 36.20];
        let cells = cells_covering(b).expect("a small box is indexed");
        assert!(cells.iter().all(|c| c.resolution() == FINE_RESOLUTION));
        assert!(!cells.is_empty() && cells.len() < 40, "{}", cells.len());
        for (lat, lon) in [
            (36.19, 113.10),
            (36.195, 113.105),
            (36.20, 113.11),
            (36.1901, 113.1099),
        ] {
            let [fine, coarse] = point_cells(lat, lon);
            assert!(
                cells.contains(&fine.expect("a valid point")),
                "({lat}, {lon}) is not covered"
            );
            assert_eq!(coarse.map(CellIndex::resolution), Some(ROUTING_RESOLUTION));
        }
        // A point just outside the box, ~1 km east, is in none of its cells.
        let [outside, _] = point_cells(36.195, 113.122);
        assert!(!cells.contains(&outside.expect("a valid point")));
    }

    #[test]
    fn a_province_is_indexed_coarsely_and_a_continent_everywhere() {
        // About 90 km × 110 km: too many fine cells, a few hundred coarse ones.
        let cells = cells_covering([112.5, 35.8, 113.5, 36.8]).expect("a province is indexed");
        assert!(
            cells.iter().all(|c| c.resolution() == ROUTING_RESOLUTION),
            "{}",
            cells.len()
        );
        assert!(cells.contains(&point_cells(36.3, 113.0)[1].expect("a valid point")));
        assert!(
            cells_covering([70.0, 10.0, 140.0, 55.0]).is_none(),
            "a continent goes to the everywhere list"
        );
    }

    fn fix(worker: i64, lat: f64, lon: f64, second: u32) -> Fix {
        Fix {
            worker: WorkerId(worker),
            lat,
            lon,
            at: chrono::DateTime::from_timestamp(1_764_460_800 + i64::from(second), 0)
                .expect("a time"),
            accuracy_m: None,
            speed_mps: None,
            heading_deg: None,
            altitude_m: None,
            battery_pct: None,
            moving: None,
            flags: Vec::new(),
            attributes: serde_json::Map::new(),
        }
    }

    fn watcher(hub: &Hub, bbox: [f64; 4]) -> Arc<Subscription> {
        let principal = Principal {
            credential: crate::domain::Credential::Token(crate::domain::TokenId(1)),
            role: crate::domain::Role::Commander,
            scopes: Vec::new(),
            worker: None,
            expires_at: None,
        };
        let request = crate::live::filter::FilterRequest {
            bbox: Some(bbox),
            ..Default::default()
        };
        let filter = Filter::check(
            request,
            |_| true,
            |_| None::<std::iter::Empty<GridId>>,
            None,
        )
        .expect("a valid filter");
        hub.subscribe(principal, Visibility::All, filter, 0)
    }

    /// The `(worker, lat)` of every position a subscription has queued.
    fn queued(sub: &Subscription) -> Vec<(i64, f64)> {
        let mut out: Vec<(i64, f64)> = sub
            .drain()
            .positions
            .iter()
            .map(|m| {
                let v: Value = serde_json::from_str(m).expect("JSON");
                (
                    v["worker"].as_i64().expect("a worker"),
                    v["lat"].as_f64().expect("a lat"),
                )
            })
            .collect();
        out.sort_by_key(|p| p.0);
        out
    }

    #[test]
    fn a_batch_routes_each_workers_last_fix_to_the_viewports_that_hold_it() {
        let mut world = World::default();
        for id in [1, 2, 3] {
            world.apply_worker(crate::domain::Worker {
                id: WorkerId(id),
                name: format!("w{id}"),
                kind: crate::domain::WorkerKind::GridWorker,
                duty: crate::domain::DutyStatus::OnDuty,
                phone: None,
                device_hash: None,
                grids: Vec::new(),
            });
        }
        let hub = Hub::new(LiveConfig::default());
        // Two blocks ~1 km apart, and one box holding both.
        let west = watcher(&hub, [113.100, 36.190, 113.105, 36.195]);
        let east = watcher(&hub, [113.115, 36.190, 113.120, 36.195]);
        let both = watcher(&hub, [113.099, 36.189, 113.121, 36.196]);
        let batch = [
            fix(1, 36.1910, 113.101, 0), // worker 1 in the west block …
            fix(2, 36.1920, 113.116, 0), // worker 2 in the east block
            fix(1, 36.1930, 113.117, 1), // … then in the east block: its last fix of the batch
            fix(3, 36.2500, 113.300, 0), // worker 3 far from every box
            fix(2, 36.1940, 113.118, 2), // worker 2's last fix, still east
        ];
        hub.publish_fixes(&world, &batch);
        assert_eq!(
            queued(&west),
            [],
            "worker 1 left the west block within the batch"
        );
        assert_eq!(queued(&east), [(1, 36.1930), (2, 36.1940)]);
        assert_eq!(queued(&both), [(1, 36.1930), (2, 36.1940)]);
        // An unknown worker's fix goes nowhere; a later batch replaces what was not yet sent.
        hub.publish_fixes(
            &world,
            &[fix(9, 36.192, 113.117, 3), fix(2, 36.1921, 113.102, 3)],
        );
        hub.publish_fixes(&world, &[fix(2, 36.1922, 113.103, 4)]);
        assert_eq!(queued(&west), [(2, 36.1922)]);
        assert_eq!(queued(&east), []);
        assert_eq!(queued(&both), [(2, 36.1922)]);
    }
}
