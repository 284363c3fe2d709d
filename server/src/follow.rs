//! Following the store's event log (issue 20): every process on one database — other nodes, and
//! `gridwatch` commands run beside a server — appends to one log whose sequence numbers have no gaps
//! and become visible in order (`store/postgres.rs`). Each node's world follows that log.
//!
//! - **Its own writes** apply at once, as on a single node (`core`). A commit whose seq is not the
//!   world's next found events of another writer in between: the node reads them from the log after
//!   its step, applies them, and only then publishes its own held events after them, so the live feed
//!   stays in sequence order and the writer sees the other writes before it answers.
//! - **Other writers' events** are read by the follower, [`run`]: woken by a hint ([`Hint`], from
//!   PostgreSQL's `LISTEN`) or every [`POLL`] when none comes, it reads `seq > last applied` and
//!   applies each event once, in order. A lost hint costs latency, never an event. `/metrics` shows
//!   `gridwatch_world_seq` (the last applied), `gridwatch_follow_lag_events` and
//!   `gridwatch_follow_lag_seconds` (how far and since when the world lacked events of the log at the
//!   last poll); `/ready` answers 503 `catching-up` while it lacks over
//!   `api::health::READY_LAG` of them.
//!
//! How an event reaches a world that did not write it ([`patch_of`]): a case's event reloads that case
//! from the store (its state is the store's latest, so applying it is the same in any order); an event
//! the world holds nothing of (tokens, accounts, alerts, plans) only moves the seq, and a patrol event
//! also reads the patrol book again; any other
//! (a boundary change, a worker, a category, a camera, a city) reloads the whole world, as a restart
//! would. Those are an operator's rare writes; cases are the stream. Every event, whatever its patch,
//! also passes the world's alarms (`World::observe_alarms`), from its payload alone.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

use crate::core::WeakCore;
use crate::domain::{Change, IncidentId};
use crate::services::Shutdown;

/// How often the follower reads the log's last seq when no hint came (the embedded store has none).
pub const POLL: Duration = Duration::from_secs(1);

/// How long the follower waits before listening again when the store's channel failed.
const LISTEN_RETRY: Duration = Duration::from_secs(1);

/// What an event asks of a world that did not write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patch {
    /// Read these cases again from the store.
    Cases(Vec<IncidentId>),
    /// Nothing the world holds: only its seq moves.
    Nothing,
    /// Nothing the world holds, but the patrol book: it is read again.
    Patrols,
    /// Reload the whole world from the store.
    Reload,
}

/// How the world takes `change` when another writer made it.
#[must_use]
pub fn patch_of(change: &Change) -> Patch {
    match change {
        Change::IncidentCreated(summary) => Patch::Cases(vec![summary.id]),
        Change::IncidentUpdated(updated) => {
            Patch::Cases(updated.incidents.iter().map(|s| s.id).collect())
        }
        Change::IncidentPhotoAdded(photo) => Patch::Cases(vec![photo.incident]),
        Change::TokenCreated(_)
        | Change::TokenRevoked(_)
        | Change::UserCreated(_)
        | Change::UserUpdated(_)
        | Change::AlertRaised(_)
        | Change::PlanCreated(_)
        // The world's alarms take it from the payload, as they take every event (`World::observe_alarms`).
        | Change::AlarmAcknowledged(_)
        // The world's warnings too (`World::observe_alarms` passes them to `world/warnings.rs`).
        | Change::WarningRaised(_)
        | Change::WarningCleared(_) => Patch::Nothing,
        Change::PatrolStarted(_)
        | Change::PatrolEnded(_)
        | Change::PatrolGridEntered(_)
        | Change::PatrolGridExited(_)
        | Change::PatrolCheckedIn(_)
        | Change::CheckpointCreated(_) => Patch::Patrols,
        Change::CityImported(_)
        | Change::RegionCreated(_)
        | Change::BuildingCreated(_)
        | Change::WorkerCreated(_)
        | Change::WorkerUpdated(_)
        | Change::CategoryUpdated(_)
        | Change::DepartmentUpdated(_)
        | Change::CameraCreated(_)
        | Change::CameraUpdated(_)
        | Change::CameraDeleted(_)
        | Change::BoundaryChanged(_) => Patch::Reload,
    }
}

/// The store's word that events were appended: the highest seq heard of, and a wake-up for the
/// follower. Shared by the store's listener and [`run`].
#[derive(Debug, Default)]
pub struct Hint {
    latest: AtomicI64,
    /// Some events may have been appended unheard (the channel was just opened): read the log's end.
    unheard: AtomicBool,
    notify: Notify,
}

impl Hint {
    /// Events up to `seq` were appended; `None`: some may have been, the seq is not known.
    pub fn appended(&self, seq: Option<i64>) {
        match seq {
            Some(seq) => {
                self.latest.fetch_max(seq, Ordering::Relaxed);
            }
            None => self.unheard.store(true, Ordering::Relaxed),
        }
        self.notify.notify_one();
    }

    /// The highest seq heard of.
    #[must_use]
    pub fn latest(&self) -> i64 {
        self.latest.load(Ordering::Relaxed)
    }

    /// Whether appends may have gone unheard since the last call (which clears it).
    fn take_unheard(&self) -> bool {
        self.unheard.swap(false, Ordering::Relaxed)
    }
}

/// A sequence number as a gauge's value (exact below 2^53, which a log does not reach).
#[allow(clippy::cast_precision_loss)]
fn seq_gauge(seq: i64) -> f64 {
    seq as f64
}

/// The follower, a service started by `services::start`: keeps the world up with what other writers
/// append to the log (see the module docs). Holds the core weakly and ends on `shutdown`.
pub async fn run(core: WeakCore, mut shutdown: Shutdown) {
    let Some(hint) = core
        .upgrade()
        .map(|core| std::sync::Arc::clone(core.hint()))
    else {
        return;
    };
    let listening = {
        let (core, hint) = (core.clone(), std::sync::Arc::clone(&hint));
        tokio::spawn(async move {
            loop {
                let Some(store) = core.upgrade().map(|c| std::sync::Arc::clone(c.store())) else {
                    return;
                };
                if let Err(error) = store.listen_for_events(&hint).await {
                    tracing::debug!(%error, "listening for other writers' events; trying again");
                }
                drop(store);
                tokio::time::sleep(LISTEN_RETRY).await;
            }
        })
    };
    let mut ticker = tokio::time::interval(POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Since when the world has lacked events of the log it knew of (`gridwatch_follow_lag_seconds`).
    let mut behind_since: Option<tokio::time::Instant> = None;
    loop {
        let polled = tokio::select! {
            () = shutdown.stopping() => break,
            () = hint.notify.notified() => hint.take_unheard(),
            _ = ticker.tick() => true,
        };
        let Some(core) = core.upgrade() else { break };
        if !core.store().reachable() {
            continue;
        }
        let log = if polled {
            match core.store().last_seq().await {
                Ok(seq) => seq,
                Err(error) => {
                    tracing::debug!(%error, "reading the log's last seq; trying again");
                    continue;
                }
            }
        } else {
            hint.latest()
        };
        // A hint for what this node wrote itself costs nothing: the world has it already.
        let behind = log > core.world().last_seq() || core.has_gaps();
        if behind && let Err(error) = core.follow_now().await {
            tracing::debug!(%error, "following the event log; trying again");
        }
        let applied = core.world().last_seq();
        metrics::gauge!("gridwatch_world_seq").set(seq_gauge(applied));
        if polled {
            let lag = (log - applied).max(0);
            behind_since = if lag > 0 {
                behind_since.or(Some(tokio::time::Instant::now()))
            } else {
                None
            };
            metrics::gauge!("gridwatch_follow_lag_events").set(seq_gauge(lag));
            metrics::gauge!("gridwatch_follow_lag_seconds")
                .set(behind_since.map_or(0.0, |since| since.elapsed().as_secs_f64()));
        }
    }
    listening.abort();
}
