//! `AppState`: the one value every handler shares — the world, the store, the writer lock, the event
//! channel and the token cache.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard, Weak};
use std::time::Instant;

use tokio::sync::{broadcast, mpsc};

use crate::cases::intake::{self, Pending};
use crate::clock::Clock;
use crate::dispatch::DispatchConfig;
use crate::domain::Event;
use crate::live::{Hub, LiveConfig};
use crate::store::{Store, TokenRecord};
use crate::world::World;

/// How many committed events a slow subscriber may lag before it must resync from the store.
const EVENT_CHANNEL_CAPACITY: usize = 4096;

/// Shared state, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    /// Read model. A std lock: it is never held across `.await`.
    world: RwLock<World>,
    store: Arc<dyn Store>,
    /// Serialises writes so that validation, commit and apply happen in event-sequence order. A tokio
    /// mutex because it is held across the store's `.await`.
    writer: tokio::sync::Mutex<()>,
    /// Committed events, published after they are applied to the world.
    events: broadcast::Sender<Event>,
    /// Tokens already looked up, by the hash of their secret.
    tokens: Mutex<HashMap<String, TokenRecord>>,
    started: Instant,
    clock: Clock,
    dispatch: DispatchConfig,
    /// Routes committed events and positions to websocket subscribers.
    hub: Arc<Hub>,
    tracker: crate::tracking::Tracker,
    patrols: crate::patrols::Patrols,
    /// Reports waiting for the intake writer (`cases::intake`), which commits them in groups. The
    /// writer task starts on the first report and ends when the last `AppState` is dropped.
    intake: OnceLock<mpsc::UnboundedSender<Pending>>,
    /// Most reports the intake writer commits in one transaction.
    intake_batch_max: usize,
    /// Encoded vector tiles and their invalidation (`tiles`).
    tiles: crate::tiles::Tiles,
}

/// What a deployment or a test may choose when building the state.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub clock: Clock,
    pub dispatch: DispatchConfig,
    pub live: LiveConfig,
    /// Most new incidents committed in one transaction (group commit); `None` is
    /// [`intake::DEFAULT_BATCH_MAX`], and 1 commits each alone.
    pub intake_batch_max: Option<usize>,
    /// The tile cache's budget in bytes; `None` is [`crate::tiles::DEFAULT_CACHE_BYTES`], 0 caches nothing.
    pub tile_cache_bytes: Option<usize>,
}

impl AppState {
    #[must_use]
    pub fn new(store: Arc<dyn Store>, world: World) -> Self {
        Self::with_options(store, world, Options::default())
    }

    #[must_use]
    pub fn with_options(store: Arc<dyn Store>, world: World, options: Options) -> Self {
        let (events, _) = broadcast::channel(EVENT_CHANNEL_CAPACITY);
        let hub = Arc::new(Hub::new(options.live));
        let tiles = crate::tiles::Tiles::new(
            options
                .tile_cache_bytes
                .unwrap_or(crate::tiles::DEFAULT_CACHE_BYTES),
            Arc::clone(&hub),
        );
        Self {
            inner: Arc::new(Inner {
                world: RwLock::new(world),
                store,
                writer: tokio::sync::Mutex::new(()),
                events,
                tokens: Mutex::new(HashMap::new()),
                started: Instant::now(),
                clock: options.clock,
                dispatch: options.dispatch,
                hub,
                tracker: crate::tracking::Tracker::default(),
                patrols: crate::patrols::Patrols::default(),
                intake: OnceLock::new(),
                intake_batch_max: options
                    .intake_batch_max
                    .unwrap_or(intake::DEFAULT_BATCH_MAX)
                    .max(1),
                tiles,
            }),
        }
    }

    /// Loads the world from `store` and wraps both.
    pub async fn load(store: Arc<dyn Store>) -> Result<Self, crate::store::StoreError> {
        Self::load_with(store, Options::default()).await
    }

    /// Loads the world from `store` and wraps both, with `options`.
    pub async fn load_with(
        store: Arc<dyn Store>,
        options: Options,
    ) -> Result<Self, crate::store::StoreError> {
        let snapshot = store.snapshot().await?;
        Ok(Self::with_options(
            store,
            World::from_snapshot(snapshot),
            options,
        ))
    }

    /// The current time, from the state's clock.
    #[must_use]
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.clock.now()
    }

    #[must_use]
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    #[must_use]
    pub fn dispatch(&self) -> &DispatchConfig {
        &self.inner.dispatch
    }

    /// The live hub.
    #[must_use]
    pub fn hub(&self) -> &Arc<Hub> {
        &self.inner.hub
    }

    /// Vector tiles: the cache and its invalidation.
    #[must_use]
    pub fn tiles(&self) -> &crate::tiles::Tiles {
        &self.inner.tiles
    }

    /// Position tracking.
    #[must_use]
    pub fn tracker(&self) -> &crate::tracking::Tracker {
        &self.inner.tracker
    }

    /// Patrols, checkpoints and cell visits.
    #[must_use]
    pub fn patrols(&self) -> &crate::patrols::Patrols {
        &self.inner.patrols
    }

    /// A read guard on the world. Drop it before any `.await`.
    pub fn world(&self) -> RwLockReadGuard<'_, World> {
        // A poisoned lock means a panic mid-apply; the data is still the last consistent state we
        // wrote, so keep serving it rather than failing every request.
        self.inner
            .world
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    #[must_use]
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The queue of the intake writer, starting the writer on first use (inside a tokio runtime).
    pub(crate) fn intake(&self) -> &mpsc::UnboundedSender<Pending> {
        self.inner.intake.get_or_init(|| {
            let (queue, pending) = mpsc::unbounded_channel();
            tokio::spawn(intake::run(
                self.downgrade(),
                pending,
                self.inner.intake_batch_max,
            ));
            queue
        })
    }

    /// A handle that does not keep the state alive (for tasks the state itself starts).
    #[must_use]
    pub fn downgrade(&self) -> WeakState {
        WeakState(Arc::downgrade(&self.inner))
    }

    /// Takes the writer lock: hold it from validation through commit and apply.
    pub async fn write_lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.writer.lock().await
    }

    /// Applies a committed event's change to the world, drops the tiles it touched (what it drew
    /// before and after), then publishes the event.
    pub fn commit(&self, event: Event, change: impl FnOnce(&mut World)) {
        let mut dirty = crate::tiles::Dirty::default();
        {
            let mut world = self
                .inner
                .world
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            crate::tiles::touched(&world, &event, &mut dirty);
            change(&mut world);
            crate::tiles::touched(&world, &event, &mut dirty);
            world.advance(event.seq);
        }
        self.inner.tiles.invalidate(dirty);
        // No receiver is not an error: nobody is listening yet.
        let _ = self.inner.events.send(event);
    }

    /// Applies a change that lives in memory only and has no event (a worker's last position).
    pub fn remember(&self, change: impl FnOnce(&mut World)) {
        let mut world = self
            .inner
            .world
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        change(&mut world);
    }

    /// Replaces the whole world (after an import).
    pub fn replace_world(&self, world: World) {
        *self
            .inner
            .world
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = world;
        self.inner.tiles.clear();
    }

    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    #[must_use]
    pub fn cached_token(&self, hash: &str) -> Option<TokenRecord> {
        self.inner
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(hash)
            .cloned()
    }

    pub fn cache_token(&self, hash: String, record: TokenRecord) {
        self.inner
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(hash, record);
    }

    #[must_use]
    pub fn uptime_s(&self) -> f64 {
        self.inner.started.elapsed().as_secs_f64()
    }
}

/// An [`AppState`] that does not keep it alive.
#[derive(Clone)]
pub struct WeakState(Weak<Inner>);

impl WeakState {
    /// The state, if any `AppState` still holds it.
    #[must_use]
    pub fn upgrade(&self) -> Option<AppState> {
        self.0.upgrade().map(|inner| AppState { inner })
    }
}
