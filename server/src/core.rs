//! The core: what every service shares — the world (the read model), the store, the writer lock, the
//! event channel, the tile cache with the live hub it notifies, the clock and the settings — and the one
//! way anything changes, [`Core::write`].
//!
//! The core starts no task and holds no service: services (`cases::intake`, `tracking`, `patrols`,
//! `cases::escalation`, the hub's feed in `live::hub`) hold a `Core`, are started by `services::start`
//! and end when their `services::Running` guard stops or drops. It knows nothing of HTTP.
//!
//! # The write path
//! [`Core::write`] takes the writer lock and runs one *step* with a [`Writer`]:
//!
//! 1. validate against the world ([`Writer::world`], a read guard dropped before any `.await`);
//! 2. store the rows and their event(s) in one transaction ([`Writer::store`]);
//! 3. hand each stored event to [`Writer::stored`] with its change to the world, which applies it,
//!    drops the tiles it touched (what it drew before and after), advances the world's sequence number
//!    and publishes the event on the channel the hub's feed and escalation read.
//!
//! A write fails fast rather than queue: while the store is known to be unreachable it is refused at
//! once, and one that cannot take the writer lock within the write bound (the store is slow, or down
//! and not yet known so) is refused then — [`StoreError::Unavailable`], a 503 with `Retry-After` —
//! instead of waiting behind the write that holds it. A caller that goes away while it waits for the
//! lock drops its write before it reaches the store.
//!
//! Applying and publishing (`commit`) is private to this module and a `Writer` exists only inside
//! `write`, holding the lock: nothing else can change the world, so validation, commit and apply happen
//! in event-sequence order. A step may store and apply several events under one lock (the intake's group
//! of cases, a patrol's progress, a boundary change with its re-routed cases). The step runs as its own
//! task, so a caller that goes away (a client hanging up) cannot cut a write between its commit and its
//! apply.
//!
//! Other writers — another node on the same database, a `gridwatch` command — append to the same
//! event log. A commit whose seq is not the world's next holds its event back until
//! [`Core::absorb`] has read theirs, so the channel stays in sequence order (`crate::follow`).
//!
//! Positions take the one documented detour, [`Core::track`]: a fix is not an event. The latest
//! unflagged fix of each worker goes into the world (routing and `nearby` read it), the workers-layer
//! tiles it moves are dropped and every fix goes to the hub; `tracking`'s writer stores the fixes in
//! batches before they are acknowledged.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, Weak};

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use tokio::sync::{OwnedMutexGuard, broadcast};

use crate::auth::Credentials;
use crate::clock::Clock;
use crate::dispatch::DispatchConfig;
use crate::domain::{Event, Fix, WorkerId};
use crate::live::{Hub, LiveConfig};
use crate::store::{Store, StoreError};
use crate::tiles::{Dirty, Tiles};
use crate::world::{Position, World};

/// How many committed events a slow reader of the channel may lag before it must read the store's log.
const EVENT_CHANNEL_CAPACITY: usize = 4096;

/// What a deployment or a test may choose when building the core.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub clock: Clock,
    pub dispatch: DispatchConfig,
    pub live: LiveConfig,
    /// Most new incidents committed in one transaction (group commit); `None` is
    /// [`crate::cases::intake::DEFAULT_BATCH_MAX`], and 1 commits each alone.
    pub intake_batch_max: Option<usize>,
    /// The tile cache's budget in bytes; `None` is [`crate::tiles::DEFAULT_CACHE_BYTES`], 0 caches nothing.
    pub tile_cache_bytes: Option<usize>,
    /// Write no audit trail: only for measuring what the trail costs (`--no-audit`).
    pub without_audit: bool,
    /// Passwords, lockout, session timeouts, TOTP (`identity`).
    pub identity: crate::identity::Policy,
    /// The longest a write waits for the writer lock, and then for a database connection, before it
    /// is refused as unavailable; `None` is [`crate::store::sql::DEFAULT_WRITE_WAIT`].
    pub write_wait: Option<std::time::Duration>,
    /// How long a finished case (closed, cancelled, merged) stays in the world after its last change
    /// before only the store holds it; `None` is [`DEFAULT_ARCHIVE_AFTER`].
    pub archive_after: Option<chrono::TimeDelta>,
    /// How often the early warnings are evaluated; `None` is [`crate::warnings::service::DEFAULT_EVERY`].
    pub warnings_every: Option<std::time::Duration>,
    /// This node's name (`--node-id`); `None` is [`crate::relay::default_node_id`].
    pub node_id: Option<String>,
    /// The NATS server positions travel between nodes through (`--nats-url`, `crate::relay`); `None`
    /// runs no relay (a single node).
    pub nats_url: Option<String>,
}

/// How long a finished case stays in the world by default: a week, so the week's closed work is on
/// hand (a reopen, the week's reports) while memory follows open work, not history.
pub const DEFAULT_ARCHIVE_AFTER: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// What a write step answers: a `Result` whose error a store error converts into, so a write refused
/// before its step runs (the store unreachable, the lock not free in time) answers like a store failure.
pub trait WriteResult: Send + 'static {
    fn refused(error: StoreError) -> Self;
}

impl<T: Send + 'static, E: From<StoreError> + Send + 'static> WriteResult for Result<T, E> {
    fn refused(error: StoreError) -> Self {
        Err(E::from(error))
    }
}

/// Events read from the log per page when the world catches up with the store.
const CATCH_UP_PAGE: u32 = 1000;

/// A cheap handle on the shared core.
#[derive(Clone)]
pub struct Core {
    shared: Arc<Shared>,
}

/// A handle that does not keep the core alive: for the tasks that wait on the core's own event channel
/// (the hub's feed, escalation), so that holding it never keeps that channel open.
#[derive(Clone)]
pub struct WeakCore(Weak<Shared>);

struct Shared {
    /// The read model. A std lock: it is never held across `.await`.
    world: RwLock<World>,
    store: Arc<dyn Store>,
    /// Serialises writes so that validation, commit and apply happen in event-sequence order. A tokio
    /// mutex because a write holds it across the store's `.await`; in an `Arc` so a [`Writer`] owns its
    /// guard.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// Committed events, published after they are applied to the world.
    events: broadcast::Sender<Event>,
    /// Encoded vector tiles and their invalidation, which tells the hub.
    tiles: Tiles,
    /// Websocket subscriptions; fed events by the hub's feed and fixes by [`Core::track`].
    hub: Arc<Hub>,
    /// Tokens this node has looked up, and those revoked (`auth::credentials`).
    credentials: Credentials,
    /// The identity rules, and the sign-in failures counted per address and per unknown name.
    identity: crate::identity::Policy,
    throttle: crate::identity::Throttle,
    clock: Clock,
    dispatch: DispatchConfig,
    intake_batch_max: usize,
    write_wait: std::time::Duration,
    archive_after: chrono::TimeDelta,
    warnings_every: std::time::Duration,
    /// What another writer appended between this node's own events, and this node's events held back
    /// until those are published (`crate::follow`).
    gaps: Mutex<Gaps>,
    /// The highest seq other writers are known to have appended (`crate::follow`): a write that finds
    /// the world behind it reads the log first.
    hint: Arc<crate::follow::Hint>,
    /// The patrol service's book (`crate::patrols`), here so that [`Core::absorb`] reads it again,
    /// under the writer lock, when another process wrote patrol events.
    patrol_book: crate::patrols::SharedBook,
    node_id: String,
    nats_url: Option<String>,
    /// Whether the position relay is connected to NATS now (`crate::relay`).
    nats_connected: Arc<std::sync::atomic::AtomicBool>,
}

/// Events of other writers the world skipped, found by a commit whose seq was not the world's next, and
/// this node's own events committed after them: applied to the world but held off the event channel,
/// so the live feed stays in sequence order.
#[derive(Debug, Default)]
struct Gaps {
    /// Inclusive ranges of sequence numbers the world lacks.
    missing: Vec<(i64, i64)>,
    held: Vec<Event>,
}

impl Core {
    #[must_use]
    pub fn new(store: Arc<dyn Store>, world: World, options: Options) -> Self {
        store.set_audited(!options.without_audit);
        let write_wait = options
            .write_wait
            .unwrap_or(crate::store::sql::DEFAULT_WRITE_WAIT);
        store.set_write_wait(write_wait);
        let (events, _) = broadcast::channel(EVENT_CHANNEL_CAPACITY);
        let hub = Arc::new(Hub::new(options.live));
        let tiles = Tiles::new(
            options
                .tile_cache_bytes
                .unwrap_or(crate::tiles::DEFAULT_CACHE_BYTES),
            Arc::clone(&hub),
        );
        Self {
            shared: Arc::new(Shared {
                world: RwLock::new(world),
                store,
                writer: Arc::new(tokio::sync::Mutex::new(())),
                events,
                tiles,
                hub,
                credentials: Credentials::default(),
                identity: options.identity,
                throttle: crate::identity::Throttle::default(),
                clock: options.clock,
                dispatch: options.dispatch,
                intake_batch_max: options
                    .intake_batch_max
                    .unwrap_or(crate::cases::intake::DEFAULT_BATCH_MAX)
                    .max(1),
                write_wait,
                archive_after: options.archive_after.unwrap_or(DEFAULT_ARCHIVE_AFTER),
                warnings_every: options
                    .warnings_every
                    .unwrap_or(crate::warnings::service::DEFAULT_EVERY),
                gaps: Mutex::new(Gaps::default()),
                hint: Arc::default(),
                patrol_book: Arc::default(),
                node_id: options
                    .node_id
                    .unwrap_or_else(crate::relay::default_node_id),
                nats_url: options.nats_url,
                nats_connected: Arc::default(),
            }),
        }
    }

    /// Loads the world from `store`, with the default options.
    pub async fn load(store: Arc<dyn Store>) -> Result<Self, StoreError> {
        Self::load_with(store, Options::default()).await
    }

    /// Loads the world from `store`.
    pub async fn load_with(store: Arc<dyn Store>, options: Options) -> Result<Self, StoreError> {
        let archive_after = options.archive_after.unwrap_or(DEFAULT_ARCHIVE_AFTER);
        let line = options.clock.now().checked_sub_signed(archive_after);
        let snapshot = store.snapshot(line).await?;
        let mut world = World::from_snapshot(snapshot);
        crate::alarms::rebuild(store.as_ref(), &mut world, options.clock.now()).await?;
        Ok(Self::new(store, world, options))
    }

    /// Archives the finished cases whose last change is older than the archive window: they leave the
    /// world, and readers of history find them in the store (`cases::archive`). Cheap when there is
    /// nothing to archive; the store watch calls it every second. Returns how many left.
    pub fn archive_now(&self) -> usize {
        let Some(line) = self.now().checked_sub_signed(self.shared.archive_after) else {
            return 0;
        };
        let gone = self
            .shared
            .world
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .archive(line);
        if gone > 0 {
            tracing::debug!(gone, %line, "archived finished cases");
            metrics::counter!("gridwatch_cases_archived_total").increment(gone as u64);
        }
        gone
    }

    /// The token cache and revocation list.
    #[must_use]
    pub fn credentials(&self) -> &Credentials {
        &self.shared.credentials
    }

    /// The identity rules: passwords, lockout, session timeouts, TOTP.
    #[must_use]
    pub fn identity(&self) -> &crate::identity::Policy {
        &self.shared.identity
    }

    /// Sign-in failures counted in memory (per client address, per name of no account).
    #[must_use]
    pub fn throttle(&self) -> &crate::identity::Throttle {
        &self.shared.throttle
    }

    /// A read guard on the world. Drop it before any `.await`.
    pub fn world(&self) -> RwLockReadGuard<'_, World> {
        // A poisoned lock means a panic mid-apply; the data is still the last consistent state we
        // wrote, so keep serving it rather than failing every request.
        self.shared
            .world
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The store, for reads. Writes go through [`Core::write`].
    #[must_use]
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.shared.store
    }

    /// The current time, from the core's clock.
    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    #[must_use]
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    #[must_use]
    pub fn dispatch(&self) -> &DispatchConfig {
        &self.shared.dispatch
    }

    /// The longest a write waits for the writer lock or a connection (see the module docs).
    #[must_use]
    pub fn write_wait(&self) -> std::time::Duration {
        self.shared.write_wait
    }

    /// [`StoreError::Unavailable`] while the store is known to be unreachable: a write refused at once.
    pub fn check_reachable(&self) -> Result<(), StoreError> {
        if self.shared.store.reachable() {
            Ok(())
        } else {
            Err(StoreError::Unavailable(
                "a write found it unreachable; it is asked again every second".to_owned(),
            ))
        }
    }

    /// Most reports the intake writer commits in one transaction.
    #[must_use]
    pub fn intake_batch_max(&self) -> usize {
        self.shared.intake_batch_max
    }

    /// The live hub's subscriptions.
    #[must_use]
    pub fn hub(&self) -> &Arc<Hub> {
        &self.shared.hub
    }

    /// Vector tiles: the cache and its invalidation.
    #[must_use]
    pub fn tiles(&self) -> &Tiles {
        &self.shared.tiles
    }

    /// Committed events from now on, in sequence order (a reader that lags reads the store's log).
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.shared.events.subscribe()
    }

    /// A handle that does not keep the core alive.
    #[must_use]
    pub fn downgrade(&self) -> WeakCore {
        WeakCore(Arc::downgrade(&self.shared))
    }

    /// The write path, the only way anything changes: takes the writer lock and runs `step` with a
    /// [`Writer`] that holds it. The step validates against the world, stores rows and events in one
    /// transaction and hands each stored event to [`Writer::stored`], which applies and publishes it.
    ///
    /// The step runs as a task of its own: if the caller is dropped, the step still finishes, so a
    /// committed event is always applied and published. A panic in the step is resumed here. Refused
    /// with [`StoreError::Unavailable`] before the step runs while the store is unreachable, or when
    /// the lock is not free within the write bound.
    pub async fn write<F, Fut, R>(&self, step: F) -> R
    where
        F: FnOnce(Writer) -> Fut,
        Fut: Future<Output = R> + Send + 'static,
        R: WriteResult,
    {
        if let Err(error) = self.check_reachable() {
            return R::refused(error);
        }
        let wait = self.shared.write_wait;
        let locking = Arc::clone(&self.shared.writer).lock_owned();
        let Ok(lock) = tokio::time::timeout(wait, locking).await else {
            return R::refused(StoreError::Unavailable(format!(
                "another write held the store for over {} ms",
                wait.as_millis()
            )));
        };
        // It may have been found unreachable while this write waited.
        if let Err(error) = self.check_reachable() {
            return R::refused(error);
        }
        if let Err(error) = self.catch_up().await {
            return R::refused(error);
        }
        self.write_locked(lock, step).await
    }

    /// Catches up with the store now if a COMMIT's outcome was unknown (the store watch asks every
    /// second), so reads converge without waiting for the next write. Gives up quietly if the writer
    /// lock is busy or the store cannot be read: the next write, or the next second, tries again.
    pub(crate) async fn catch_up_now(&self) {
        let locking = Arc::clone(&self.shared.writer).lock_owned();
        let Ok(_lock) = tokio::time::timeout(self.shared.write_wait, locking).await else {
            return;
        };
        if let Err(error) = self.catch_up().await {
            tracing::debug!(%error, "catching up with the store; trying again");
        }
    }

    /// The follower's step (`crate::follow::run`): applies and publishes what other writers appended
    /// to the log since the world's last seq. Gives up, answering 0, if the writer lock is not free
    /// within the write bound: the next hint or poll tries again.
    pub async fn follow_now(&self) -> Result<usize, StoreError> {
        let locking = Arc::clone(&self.shared.writer).lock_owned();
        let Ok(_lock) = tokio::time::timeout(self.shared.write_wait, locking).await else {
            return Ok(0);
        };
        self.absorb(false).await
    }

    /// The patrol book the patrol service keeps (see [`Shared::patrol_book`]).
    pub(crate) fn patrol_book(&self) -> &crate::patrols::SharedBook {
        &self.shared.patrol_book
    }

    /// What the follower hears of other writers' appends.
    pub(crate) fn hint(&self) -> &Arc<crate::follow::Hint> {
        &self.shared.hint
    }

    /// Whether the world skipped another writer's events, or holds events of its own back.
    pub(crate) fn has_gaps(&self) -> bool {
        let gaps = self
            .shared
            .gaps
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        !gaps.missing.is_empty() || !gaps.held.is_empty()
    }

    /// Before any write: after a COMMIT whose outcome could not be learned
    /// (`StoreError::OutcomeUnknown`) the world reloads from the store, and events another writer
    /// appended — between this node's own, or heard of and not yet followed — are read (see
    /// [`Core::absorb`]), so no write is validated against a world behind what the node knows.
    /// Called with the writer lock held; a no-op otherwise. If the store cannot be read, the write
    /// is refused and the next one tries again.
    async fn catch_up(&self) -> Result<(), StoreError> {
        let store = self.store();
        let unknown = store.take_unknown_outcome();
        let heard_of_more = self.shared.hint.latest() > self.world().last_seq();
        if !unknown && !heard_of_more && !self.has_gaps() {
            return Ok(());
        }
        let from = self.world().last_seq();
        match self.absorb(unknown).await {
            Ok(missed) => {
                if unknown {
                    tracing::warn!(
                        from,
                        to = self.world().last_seq(),
                        missed,
                        "a COMMIT's outcome was unknown: the world was reloaded from the store"
                    );
                }
                Ok(())
            }
            Err(error) => {
                if unknown {
                    store.note_unknown_outcome();
                }
                Err(error)
            }
        }
    }

    /// Brings the world up with the store's log, with the writer lock held: reads the events the world
    /// lacks (those of the gaps a commit found, then every one after its last seq), applies them —
    /// each case event by reading its cases again, or, for any other change the world holds (or when
    /// `reload` is set), by reloading the whole world from the store, keeping the workers' positions —
    /// and publishes them with the held events, in sequence order. Returns how many events it read.
    /// When the store cannot be read, nothing changes.
    async fn absorb(&self, reload: bool) -> Result<usize, StoreError> {
        // Its reads come first and the world changes only after the last, with no await in between:
        // given up at the bound, nothing was applied, and the next hint, poll or write reads again.
        // Unbounded, a read on a connection the database never answers (a network cut) held the
        // writer lock, and every write of the node waited behind it, for as long as the cut lasted.
        let wait = self.shared.write_wait;
        tokio::time::timeout(wait, self.absorb_unbounded(reload))
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Unavailable(format!(
                    "the log could not be read within {} ms",
                    wait.as_millis()
                )))
            })
    }

    async fn absorb_unbounded(&self, reload: bool) -> Result<usize, StoreError> {
        use crate::follow::{Patch, patch_of};
        let store = self.store();
        let ranges = self
            .shared
            .gaps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .missing
            .clone();
        let (from, line) = {
            let world = self.world();
            (world.last_seq(), world.archived_before())
        };
        let mut missed = Vec::new();
        for (first, last) in ranges {
            self.read_log(first - 1, last, &mut missed).await?;
        }
        self.read_log(from, i64::MAX, &mut missed).await?;
        let reload = reload || missed.iter().any(|e| patch_of(&e.change) == Patch::Reload);
        // The patrol book follows other writers' patrol events by reading it again, whole: patrols
        // are few, their events a worker's shift.
        let patrols = if self.shared.patrol_book.initialized()
            && (reload || missed.iter().any(|e| patch_of(&e.change) == Patch::Patrols))
        {
            Some(crate::patrols::Book::from_stored(
                store.patrol_book().await?,
            ))
        } else {
            None
        };
        let mut cases: FxHashMap<crate::domain::IncidentId, crate::domain::Case> =
            FxHashMap::default();
        let snapshot = if reload {
            let snapshot = store.snapshot(line).await?;
            // What was appended between reading the log and the snapshot is in the snapshot: it is
            // published too.
            let after = missed.last().map_or(from, |e| e.seq).max(from);
            self.read_log(after, snapshot.last_seq, &mut missed).await?;
            Some(snapshot)
        } else {
            let mut ids: Vec<_> = missed
                .iter()
                .filter_map(|e| match patch_of(&e.change) {
                    Patch::Cases(ids) => Some(ids),
                    Patch::Nothing | Patch::Patrols | Patch::Reload => None,
                })
                .flatten()
                .collect();
            ids.sort_unstable();
            ids.dedup();
            if !ids.is_empty() {
                cases = store
                    .incidents_in(&ids)
                    .await?
                    .into_iter()
                    .map(|case| (case.id(), case))
                    .collect();
            }
            None
        };
        self.apply_missed(snapshot, &missed, &cases);
        if let Some(fresh) = patrols
            && let Some(book) = self.shared.patrol_book.get()
        {
            *book.lock().unwrap_or_else(PoisonError::into_inner) = fresh;
        }
        let read = missed.len();
        let held = {
            let mut gaps = self
                .shared
                .gaps
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            gaps.missing.clear();
            std::mem::take(&mut gaps.held)
        };
        missed.extend(held);
        missed.sort_by_key(|e| e.seq);
        missed.dedup_by_key(|e| e.seq);
        if read > 0 {
            metrics::counter!("gridwatch_follow_events_total").increment(read as u64);
        }
        for event in missed {
            // No receiver is not an error: nobody is listening yet.
            let _ = self.shared.events.send(event);
        }
        Ok(read)
    }

    /// [`Core::absorb`]'s change to the world: the whole world from `snapshot` (keeping the workers'
    /// positions), or each of `missed` in turn, its cases taken from `cases`; drops the tiles they
    /// touched.
    fn apply_missed(
        &self,
        snapshot: Option<crate::store::Snapshot>,
        missed: &[Event],
        cases: &FxHashMap<crate::domain::IncidentId, crate::domain::Case>,
    ) {
        use crate::follow::{Patch, patch_of};
        let reloaded = snapshot.is_some();
        let mut dirty = Dirty::default();
        {
            let mut world = self
                .shared
                .world
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(snapshot) = snapshot {
                let mut fresh = World::from_snapshot(snapshot);
                fresh.keep_positions(&world);
                fresh.keep_alarms(&world);
                *world = fresh;
                for event in missed {
                    world.observe_alarms(event);
                    crate::tiles::touched(&world, event, &mut dirty);
                }
            } else {
                for event in missed {
                    crate::tiles::touched(&world, event, &mut dirty);
                    if let Patch::Cases(ids) = patch_of(&event.change) {
                        for id in ids {
                            if let Some(case) = cases.get(&id) {
                                world.apply_incident(case.clone());
                            }
                        }
                    }
                    world.observe_alarms(event);
                    crate::tiles::touched(&world, event, &mut dirty);
                    world.advance(event.seq);
                }
            }
        }
        if reloaded {
            self.shared.tiles.clear();
        }
        self.shared.tiles.invalidate(dirty);
    }

    /// Appends to `into` the log's events with `after < seq <= upto`, a page at a time.
    async fn read_log(
        &self,
        mut after: i64,
        upto: i64,
        into: &mut Vec<Event>,
    ) -> Result<(), StoreError> {
        while after < upto {
            let page = self.store().events_since(after, CATCH_UP_PAGE).await?;
            let Some(last) = page.last().map(|e| e.seq) else {
                break;
            };
            into.extend(page.into_iter().filter(|e| e.seq <= upto));
            after = last;
        }
        Ok(())
    }

    /// The write path for a service's own writer task, which must not be refused (the intake's group
    /// commit answers each report itself): waits for the lock however long it takes.
    pub(crate) async fn write_waiting<F, Fut, R>(&self, step: F) -> R
    where
        F: FnOnce(Writer) -> Fut,
        Fut: Future<Output = R> + Send + 'static,
        R: Send + 'static,
    {
        let lock = Arc::clone(&self.shared.writer).lock_owned().await;
        // One try, bounded (`absorb`). Retrying until it worked held this writer, and every report
        // queued behind it, for as long as the database was away, on a node that had other writers'
        // events to read. The step decides: what it holds is refused at once while the store is marked
        // unreachable, and a write that reaches the store finds other writers' events through the
        // gaps its commit notes; a COMMIT of unknown outcome stays noted for the next catch-up.
        if let Err(error) = self.catch_up().await {
            tracing::warn!(%error, "catching up with the store before a write; the write goes on");
            if error.is_unreachable() {
                // Briefly, so that the step finds the store marked unreachable.
                let _ = self
                    .store()
                    .ping(std::time::Duration::from_millis(250))
                    .await;
            }
        }
        self.write_locked(lock, step).await
    }

    async fn write_locked<F, Fut, R>(&self, lock: OwnedMutexGuard<()>, step: F) -> R
    where
        F: FnOnce(Writer) -> Fut,
        Fut: Future<Output = R> + Send + 'static,
        R: Send + 'static,
    {
        let lock = Arc::new(lock);
        let writer = Writer {
            core: self.clone(),
            _lock: Arc::clone(&lock),
        };
        // Another writer's events came between this step's own: the world reads them, and the held
        // events go out after them, before the step answers (`crate::follow`).
        let core = self.clone();
        let stepping = step(writer);
        let step = async move {
            let done = stepping.await;
            if core.has_gaps()
                && let Err(error) = core.absorb(false).await
            {
                tracing::warn!(%error, "reading other writers' events after a write; the next write or the follower tries again");
            }
            drop(lock);
            done
        };
        // The step's task runs under the caller's audit context, so the store's audit rows say who
        // asked (`audit.rs`).
        let context = crate::audit::current();
        match tokio::spawn(crate::audit::scope(context, step)).await {
            Ok(done) => done,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Only a runtime shutting down cancels a spawned task; nothing waits for this answer then.
            Err(e) => panic!("a write step was cancelled: {e}"),
        }
    }

    /// Applies a committed event's change to the world, drops the tiles it touched (what it drew
    /// before and after), then publishes the event. Private: only a [`Writer`] calls it.
    fn commit(&self, event: Event, change: impl FnOnce(&mut World)) {
        let mut dirty = Dirty::default();
        let skipped = {
            let mut world = self
                .shared
                .world
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let next = world.last_seq() + 1;
            crate::tiles::touched(&world, &event, &mut dirty);
            change(&mut world);
            world.observe_alarms(&event);
            crate::tiles::touched(&world, &event, &mut dirty);
            world.advance(event.seq);
            (event.seq > next).then_some((next, event.seq - 1))
        };
        self.shared.tiles.invalidate(dirty);
        let mut gaps = self
            .shared
            .gaps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(range) = skipped {
            gaps.missing.push(range);
        }
        if gaps.missing.is_empty() {
            // No receiver is not an error: nobody is listening yet.
            let _ = self.shared.events.send(event);
        } else {
            gaps.held.push(event);
        }
    }

    /// This node's name (`--node-id`).
    #[must_use]
    pub fn node_id(&self) -> &str {
        &self.shared.node_id
    }

    /// Whether the position relay is connected to NATS now; `None` on a node without one.
    #[must_use]
    pub fn nats_connected(&self) -> Option<bool> {
        self.shared.nats_url.as_ref().map(|_| {
            self.shared
                .nats_connected
                .load(std::sync::atomic::Ordering::Relaxed)
        })
    }

    /// The flag the relay keeps [`Self::nats_connected`] in.
    pub(crate) fn nats_connected_flag(&self) -> Arc<std::sync::atomic::AtomicBool> {
        Arc::clone(&self.shared.nats_connected)
    }

    /// How often the early warnings are evaluated (`--warnings-every-s`).
    #[must_use]
    pub fn warnings_every(&self) -> std::time::Duration {
        self.shared.warnings_every
    }

    /// Where the position relay connects, when this node has one (`--nats-url`).
    #[must_use]
    pub fn relay_settings(&self) -> Option<crate::relay::Settings> {
        self.shared
            .nats_url
            .as_ref()
            .map(|url| crate::relay::Settings {
                url: url.clone(),
                node: self.shared.node_id.clone(),
            })
    }

    /// The positions detour (fixes are not events, see the module docs): puts each worker's latest
    /// unflagged fix in the world, drops the workers-layer tiles that moved (once per worker: its old
    /// and its new point) and routes the fixes to the hub, but those older than the position the world
    /// held (they would move the map back). Storing them is `tracking`'s writer's.
    pub(crate) fn track(&self, latest: &FxHashMap<WorkerId, Position>, fixes: &[Fix]) {
        let mut dirty = Dirty::default();
        let stale: Vec<bool>;
        {
            let mut world = self
                .shared
                .world
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // A fix older than the position the world holds (a phone's offline buffer, a node's fix
            // delayed on NATS) is stored but not sent live: it would move the map back.
            stale = fixes
                .iter()
                .map(|f| world.position(f.worker).is_some_and(|p| p.at > f.at))
                .collect();
            for (worker, position) in latest {
                let before = world.position(*worker);
                world.set_position(*worker, *position);
                let after = world.position(*worker);
                if before != after
                    && let Some(w) = world.worker(*worker)
                {
                    let grids: Vec<_> = w.grids.iter().map(|d| d.grid_id).collect();
                    for p in before.iter().chain(after.iter()) {
                        dirty.point("workers", p.lon, p.lat, &grids);
                    }
                }
            }
        }
        self.shared.tiles.invalidate(dirty);
        if stale.contains(&true) {
            let live: Vec<Fix> = fixes
                .iter()
                .zip(stale)
                .filter(|(_, stale)| !stale)
                .map(|(f, _)| f.clone())
                .collect();
            self.shared.hub.publish_fixes(&self.world(), &live);
        } else {
            self.shared.hub.publish_fixes(&self.world(), fixes);
        }
    }
}

impl WeakCore {
    /// The core, if anything still holds it.
    #[must_use]
    pub fn upgrade(&self) -> Option<Core> {
        self.0.upgrade().map(|shared| Core { shared })
    }
}

/// One write in progress: the writer lock, and the only way to apply and publish a stored event.
/// Made by [`Core::write`] alone.
pub struct Writer {
    core: Core,
    _lock: Arc<OwnedMutexGuard<()>>,
}

impl Writer {
    /// A read guard on the world, to validate against. Drop it before any `.await`.
    pub fn world(&self) -> RwLockReadGuard<'_, World> {
        self.core.world()
    }

    /// The core this write runs on (its settings; not another write).
    pub(crate) fn core(&self) -> &Core {
        &self.core
    }

    #[must_use]
    pub fn store(&self) -> &Arc<dyn Store> {
        self.core.store()
    }

    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        self.core.now()
    }

    #[must_use]
    pub fn dispatch(&self) -> &DispatchConfig {
        self.core.dispatch()
    }

    /// Tiles drawn from something outside the world (the patrol book's visits), to drop after a change.
    #[must_use]
    pub fn tiles(&self) -> &Tiles {
        self.core.tiles()
    }

    /// `event` is committed: apply `change` to the world, drop the touched tiles, publish the event.
    /// Call once per stored event, in the order the store wrote them.
    pub fn stored(&self, event: Event, change: impl FnOnce(&mut World)) {
        self.core.commit(event, change);
    }
}
