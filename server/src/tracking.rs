//! Position tracking: every fix — from `POST /api/positions`, the OsmAnd / Traccar protocol, a worker's
//! websocket or `PUT /api/workers/{id}/position` — comes through [`report`].
//!
//! report → check each fix (refuse the whole batch with a reason per fix) → judge jumps against the
//! worker's previous fix (flag, never silently keep) → the writer → once the batch that holds it has
//! committed: the latest unflagged fix into the world (routing and nearby use it), every fix to the live
//! hub (coalesced per worker) and to the other nodes (`relay`), and the answer. A fix the store refused never goes live, and the jump
//! judge forgets it, so the same batch sent again is judged as it was the first time. The writer is a group commit: while one insert runs, new fixes gather and
//! go in the next transaction, so under load one commit carries thousands of fixes and an idle system
//! still writes each fix at once (well within the one second the design allows).
//!
//! Fixes are not events: this is the one change that does not go through `Core::write` but through the
//! core's documented detour, `Core::track` (world, tiles, hub), and this writer (the store). The writer is
//! a task started by `services::start`, holding the core and the queue's receiving end; [`Positions`],
//! the handle in `AppState`, holds the sending end. A batch is refused (503) at once while the store
//! is unreachable, and by the writer if it waited longer than the write bound; a batch whose sender
//! has gone before the writer takes it is dropped unstored. On shutdown the writer refuses new
//! batches (503), stores and answers the ones queued, and ends.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use crate::core::Core;
use crate::domain::fix::BadFix;
use crate::domain::{Fix, WorkerId};
use crate::patrols::Patrols;
use crate::relay::Relay;
use crate::services::Shutdown;
use crate::store::StoreError;
use crate::world::Position;

/// Most fixes one request may carry.
pub const MAX_BATCH: usize = 10_000;
/// Most fixes the writer puts in one transaction.
const MAX_COMMIT: usize = 50_000;
/// Batches waiting for the writer before reporters wait for room.
const WRITER_QUEUE: usize = 1024;

/// `(lat, lon, at)` of a worker's last fix.
type LastFix = (f64, f64, DateTime<Utc>);

/// The positions service's handle, kept in `AppState`. Cheap to clone.
#[derive(Clone)]
pub struct Positions {
    core: Core,
    patrols: Patrols,
    /// The last fix received of each worker, flagged or not: the next fix's jump is judged against it.
    last: Arc<Mutex<FxHashMap<WorkerId, LastFix>>>,
    writer: mpsc::Sender<Pending>,
    /// Hands stored fixes to the other nodes (inert on a single node).
    relay: Relay,
}

#[derive(Debug)]
struct Pending {
    fixes: Vec<Fix>,
    received_at: DateTime<Utc>,
    /// The audit row of the request that sent them, written with them.
    audit: crate::audit::Entry,
    /// The request's audit context: its idempotency key is marked committed with the fixes.
    context: Option<crate::audit::Context>,
    /// When it was queued: one that waited longer than the write bound is refused, not stored.
    queued_at: std::time::Instant,
    /// The fixes back, and `Err` when the store refused them (the writer logs why, once for the whole
    /// batch).
    done: oneshot::Sender<(Vec<Fix>, Result<(), StoreRefused>)>,
}

/// The store refused a batch of fixes; the cause is in the server log.
#[derive(Debug, Clone, Copy)]
struct StoreRefused {
    /// Because its disk is full: the same batch is stored once there is room.
    full: bool,
}

/// Why a batch of positions was not stored; nothing of it was.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PositionError {
    #[error("no positions given")]
    Empty,
    #[error("at most {MAX_BATCH} positions a request; got {0}")]
    TooMany(usize),
    /// Some fixes are unknown or implausible: the batch is refused whole, every refused fix named.
    #[error(
        "{} of {count} positions refused, nothing stored; first: {}",
        fixes.len(),
        fixes.first().map(|f| f.reason.to_string()).unwrap_or_default()
    )]
    Refused {
        /// Fixes in the batch.
        count: usize,
        /// Never empty.
        fixes: Vec<RefusedFix>,
    },
    /// The writer has stopped taking batches (the server is shutting down); send them again.
    #[error("positions were not stored (the positions writer has stopped); send them again")]
    WriterStopped,
    /// The store refused the batch (the writer logged why); send them again.
    #[error("positions were not stored (the store refused the write); send them again")]
    StoreRefused,
    /// The store's disk is full; send them again once there is room.
    #[error("positions were not stored (the server's storage is full); send them again later")]
    StoreFull,
}

/// One fix of a refused batch: its position in the batch and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RefusedFix {
    pub index: usize,
    pub reason: FixRefusal,
}

/// Why one fix was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FixRefusal {
    #[error("unknown worker {0}")]
    UnknownWorker(WorkerId),
    /// Out of range, not a number, or stamped in the future.
    #[error(transparent)]
    Bad(#[from] BadFix),
}

/// What a report did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reported {
    /// Fixes stored.
    pub accepted: usize,
    /// The fixes that were flagged (kept, but not taken as the worker's position).
    pub flagged: Vec<FlaggedFix>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FlaggedFix {
    /// Position in the batch.
    pub index: usize,
    pub flags: Vec<String>,
}

/// Whether fixes are judged for implausible jumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judge {
    /// From a device: judged against the worker's previous fix.
    Jumps,
    /// Set by hand by a command centre: taken as given.
    Trust,
}

impl Positions {
    /// Starts the positions writer on `core`; it stops on `shutdown` after storing what was queued.
    pub(crate) fn start(
        core: Core,
        patrols: Patrols,
        relay: Relay,
        shutdown: Shutdown,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (writer, queue) = mpsc::channel(WRITER_QUEUE);
        let task = tokio::spawn(write(core.clone(), queue, shutdown));
        let positions = Self {
            core,
            patrols,
            last: Arc::default(),
            writer,
            relay,
        };
        (positions, task)
    }

    /// Checks, flags, publishes and stores `fixes`; returns once they are committed. A batch with any
    /// bad fix is refused whole ([`PositionError::Refused`], naming each) and changes nothing;
    /// [`PositionError::WriterStopped`] once the writer has stopped taking batches (the server is
    /// shutting down), [`PositionError::StoreFull`] when the store's disk is full.
    #[allow(clippy::too_many_lines)] // one step read top to bottom; longer since rustfmt
    pub async fn report(
        &self,
        mut fixes: Vec<Fix>,
        judge: Judge,
    ) -> Result<Reported, PositionError> {
        if fixes.is_empty() {
            return Err(PositionError::Empty);
        }
        if fixes.len() > MAX_BATCH {
            return Err(PositionError::TooMany(fixes.len()));
        }
        if self.core.check_reachable().is_err() {
            return Err(PositionError::StoreRefused);
        }
        let now = self.core.now();
        let mut refused = Vec::new();
        {
            let world = self.core.world();
            for (index, fix) in fixes.iter().enumerate() {
                let reason = if world.worker(fix.worker).is_none() {
                    FixRefusal::UnknownWorker(fix.worker)
                } else if let Err(bad) = fix.check(now) {
                    bad.into()
                } else {
                    continue;
                };
                refused.push(RefusedFix { index, reason });
            }
        }
        if !refused.is_empty() {
            return Err(PositionError::Refused {
                count: fixes.len(),
                fixes: refused,
            });
        }

        let mut flagged = Vec::new();
        let mut latest: FxHashMap<WorkerId, Position> = FxHashMap::default();
        // Each worker's last fix before this batch: put back if the store refuses it.
        let mut before: FxHashMap<WorkerId, Option<LastFix>> = FxHashMap::default();
        {
            let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
            for (index, fix) in fixes.iter_mut().enumerate() {
                let previous = last.get(&fix.worker).copied();
                // A late fix (a phone uploading its offline buffer) is stored, not judged against newer ones.
                if previous.is_none_or(|(_, _, at)| fix.at > at) {
                    if judge == Judge::Jumps {
                        fix.judge_jump(previous);
                    }
                    before.entry(fix.worker).or_insert(previous);
                    last.insert(fix.worker, (fix.lat, fix.lon, fix.at));
                    if !fix.is_flagged() {
                        latest.insert(
                            fix.worker,
                            Position {
                                lat: fix.lat,
                                lon: fix.lon,
                                at: fix.at,
                            },
                        );
                    }
                }
                if fix.is_flagged() {
                    flagged.push(FlaggedFix {
                        index,
                        flags: fix.flags.clone(),
                    });
                }
            }
        }
        let patrolled = self.patrols.watched(&fixes).await;
        let (done, stored) = oneshot::channel();
        let accepted = fixes.len();
        let audit = recorded(&fixes);
        let sent = self
            .writer
            .send(Pending {
                fixes,
                received_at: now,
                audit,
                context: crate::audit::current(),
                queued_at: std::time::Instant::now(),
                done,
            })
            .await;
        let (fixes, outcome) = match sent {
            Ok(()) => match stored.await {
                Ok((fixes, Ok(()))) => (fixes, Ok(())),
                Ok((fixes, Err(StoreRefused { full: false }))) => {
                    (fixes, Err(PositionError::StoreRefused))
                }
                Ok((fixes, Err(StoreRefused { full: true }))) => {
                    (fixes, Err(PositionError::StoreFull))
                }
                // The writer ended with the batch unanswered: it cannot have been stored alone.
                Err(_) => (Vec::new(), Err(PositionError::WriterStopped)),
            },
            Err(mpsc::error::SendError(pending)) => {
                (pending.fixes, Err(PositionError::WriterStopped))
            }
        };
        if let Err(error) = outcome {
            self.forget(&fixes, before);
            return Err(error);
        }
        self.core.track(&latest, &fixes);
        self.relay.publish(&fixes);
        metrics::counter!("gridwatch_positions_total").increment(accepted as u64);
        self.patrols.observe(patrolled).await;
        Ok(Reported { accepted, flagged })
    }

    /// Puts back each worker's last fix from `before` a batch the store refused, unless a later batch
    /// has moved it on since.
    fn forget(&self, fixes: &[Fix], before: FxHashMap<WorkerId, Option<LastFix>>) {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        for (worker, previous) in before {
            let ours = fixes
                .iter()
                .filter(|f| f.worker == worker)
                .map(|f| f.at)
                .max();
            if last.get(&worker).map(|&(_, _, at)| at) == ours {
                match previous {
                    Some(previous) => last.insert(worker, previous),
                    None => last.remove(&worker),
                };
            }
        }
    }
}

/// The group-commit writer: takes what is waiting, inserts it in one transaction, answers every waiter.
/// On `shutdown` it closes the queue (later batches get 503), stores and answers what was queued, and
/// ends.
async fn write(core: Core, mut rx: mpsc::Receiver<Pending>, mut shutdown: Shutdown) {
    loop {
        let first = tokio::select! {
            // Stop first: under a steady stream the queue is never empty.
            biased;
            () = shutdown.stopping() => {
                // Refuse new batches; what is queued still arrives, then `None`.
                rx.close();
                rx.recv().await
            }
            pending = rx.recv() => pending,
        };
        let Some(first) = first else { return };
        let wait = core.write_wait();
        let mut batch = Vec::new();
        let mut count = 0;
        let mut next = Some(first);
        while let Some(pending) = next.take() {
            if pending.done.is_closed() {
                // Its sender has gone: nobody waits for it, so it is not stored.
            } else if pending.queued_at.elapsed() > wait || !core.store().reachable() {
                let _ = pending
                    .done
                    .send((pending.fixes, Err(StoreRefused { full: false })));
            } else {
                count += pending.fixes.len();
                batch.push(pending);
            }
            if count < MAX_COMMIT {
                next = rx.try_recv().ok();
            }
        }
        if batch.is_empty() {
            continue;
        }
        let received_at = batch
            .iter()
            .map(|p| p.received_at)
            .max()
            .unwrap_or_else(|| core.now());
        let mut fixes: Vec<Fix> = Vec::with_capacity(count);
        let mut sizes = Vec::with_capacity(batch.len());
        let mut waiting = Vec::with_capacity(batch.len());
        let mut audit = Vec::with_capacity(batch.len());
        let mut requests = Vec::with_capacity(batch.len());
        for pending in batch {
            sizes.push(pending.fixes.len());
            fixes.extend(pending.fixes);
            audit.push(pending.audit);
            requests.push(pending.context);
            waiting.push(pending.done);
        }
        // Under the requests' contexts, so their idempotency keys are marked committed with the fixes.
        let context = crate::audit::Context::group(requests);
        let result = crate::audit::scope(
            Some(context),
            core.store().insert_fixes(&fixes, received_at, audit),
        )
        .await
        .map_err(|e| {
            // Logged once here for the whole batch: each waiter only hears that it was refused.
            tracing::error!(error = %e, count, "storing positions");
            StoreRefused {
                full: matches!(e, StoreError::Full { .. }),
            }
        });
        metrics::histogram!("gridwatch_position_commit_size")
            .record(f64::from(u32::try_from(count).unwrap_or(u32::MAX)));
        // Each waiter gets its own fixes back, in the order they were taken.
        let mut rest = fixes.into_iter();
        for (done, size) in waiting.into_iter().zip(sizes) {
            let _ = done.send((rest.by_ref().take(size).collect(), result));
        }
    }
}

/// The audit row of one request's fixes, under the request's context: `positions.recorded`, the
/// workers they move and how many.
fn recorded(fixes: &[Fix]) -> crate::audit::Entry {
    let mut workers: Vec<i64> = fixes.iter().map(|f| f.worker.0).collect();
    workers.sort_unstable();
    workers.dedup();
    let ids: Vec<String> = workers.iter().map(ToString::to_string).collect();
    crate::audit::Entry::new(
        crate::audit::current().as_ref(),
        "positions.recorded",
        Some(format!("worker:{}", ids.join(","))),
        crate::audit::Outcome::Ok,
        Some(format!("{} fixes", fixes.len())),
    )
}
