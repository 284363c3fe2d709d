//! Position tracking: every fix — from `POST /api/positions`, the OsmAnd / Traccar protocol, a worker's
//! websocket or `PUT /api/workers/{id}/position` — comes through [`report`].
//!
//! report → check each fix (refuse the whole batch with a reason per fix) → judge jumps against the
//! worker's previous fix (flag, never silently keep) → latest unflagged fix into the world (routing and
//! nearby use it) → every fix to the live hub (coalesced per worker) → the writer → acknowledged after the
//! batch that holds it commits. The writer is a group commit: while one insert runs, new fixes gather and
//! go in the next transaction, so under load one commit carries thousands of fixes and an idle system
//! still writes each fix at once (well within the one second the design allows).
//!
//! Fixes are not events: this is the one change that does not go through `Core::write` but through the
//! core's documented detour, `Core::track` (world, tiles, hub), and this writer (the store). The writer is
//! a task started by `services::start`, holding the core and the queue's receiving end; [`Positions`],
//! the handle in `AppState`, holds the sending end. On shutdown the writer refuses new batches (503),
//! stores and answers the ones queued, and ends.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use crate::core::Core;
use crate::domain::fix::BadFix;
use crate::domain::{Fix, WorkerId};
use crate::patrols::Patrols;
use crate::services::Shutdown;
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
}

#[derive(Debug)]
struct Pending {
    fixes: Vec<Fix>,
    received_at: DateTime<Utc>,
    /// `Err` when the store refused the batch (the writer logs why, once for the whole batch).
    done: oneshot::Sender<Result<(), StoreRefused>>,
}

/// The store refused a batch of fixes; the cause is in the server log.
#[derive(Debug, Clone, Copy)]
struct StoreRefused;

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
        shutdown: Shutdown,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (writer, queue) = mpsc::channel(WRITER_QUEUE);
        let task = tokio::spawn(write(core.clone(), queue, shutdown));
        let positions = Self {
            core,
            patrols,
            last: Arc::default(),
            writer,
        };
        (positions, task)
    }

    /// Checks, flags, publishes and stores `fixes`; returns once they are committed. A batch with any
    /// bad fix is refused whole ([`PositionError::Refused`], naming each) and changes nothing;
    /// [`PositionError::WriterStopped`] once the writer has stopped taking batches (the server is
    /// shutting down).
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
        {
            let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
            for (index, fix) in fixes.iter_mut().enumerate() {
                let previous = last.get(&fix.worker).copied();
                // A late fix (a phone uploading its offline buffer) is stored, not judged against newer ones.
                if previous.is_none_or(|(_, _, at)| fix.at > at) {
                    if judge == Judge::Jumps {
                        fix.judge_jump(previous);
                    }
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
        self.core.track(&latest, &fixes);

        let patrolled = self.patrols.watched(&fixes).await;
        let (done, stored) = oneshot::channel();
        let accepted = fixes.len();
        self.writer
            .send(Pending {
                fixes,
                received_at: now,
                done,
            })
            .await
            .map_err(|_| PositionError::WriterStopped)?;
        match stored.await {
            Ok(Ok(())) => {
                metrics::counter!("gridwatch_positions_total").increment(accepted as u64);
                self.patrols.observe(patrolled).await;
                Ok(Reported { accepted, flagged })
            }
            Ok(Err(StoreRefused)) => Err(PositionError::StoreRefused),
            Err(_) => Err(PositionError::WriterStopped),
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
        let mut batch = vec![first];
        let mut count = batch[0].fixes.len();
        while count < MAX_COMMIT {
            let Ok(more) = rx.try_recv() else { break };
            count += more.fixes.len();
            batch.push(more);
        }
        let received_at = batch
            .iter()
            .map(|p| p.received_at)
            .max()
            .unwrap_or_else(|| core.now());
        let fixes: Vec<Fix> = batch.iter().flat_map(|p| p.fixes.iter().cloned()).collect();
        let result = core
            .store()
            .insert_fixes(&fixes, received_at)
            .await
            .map_err(|e| {
                // Logged once here for the whole batch: each waiter only hears that it was refused.
                tracing::error!(error = %e, count, "storing positions");
                StoreRefused
            });
        metrics::histogram!("gridwatch_position_commit_size")
            .record(f64::from(u32::try_from(count).unwrap_or(u32::MAX)));
        for pending in batch {
            let _ = pending.done.send(result);
        }
    }
}
