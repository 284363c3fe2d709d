//! Position tracking: every fix — from `POST /api/positions`, the OsmAnd / Traccar protocol, a worker's
//! websocket or `PUT /api/workers/{id}/position` — comes through [`report`].
//!
//! report → check each fix (refuse the whole batch with a reason per fix) → judge jumps against the
//! worker's previous fix (flag, never silently keep) → latest unflagged fix into the world (routing and
//! nearby use it) → every fix to the live hub (coalesced per worker) → the writer → acknowledged after the
//! batch that holds it commits. The writer is a group commit: while one insert runs, new fixes gather and
//! go in the next transaction, so under load one commit carries thousands of fixes and an idle system
//! still writes each fix at once (well within the one second the design allows).

use std::sync::{Mutex, OnceLock, PoisonError};

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use crate::domain::{Fix, WorkerId};
use crate::error::ApiError;
use crate::state::AppState;
use crate::world::Position;

/// Most fixes one request may carry.
pub const MAX_BATCH: usize = 10_000;
/// Most fixes the writer puts in one transaction.
const MAX_COMMIT: usize = 50_000;
/// Batches waiting for the writer before reporters wait for room.
const WRITER_QUEUE: usize = 1024;

/// `(lat, lon, at)` of a worker's last fix.
type LastFix = (f64, f64, DateTime<Utc>);

/// Tracking state kept in `AppState`.
#[derive(Debug, Default)]
pub struct Tracker {
    /// The last fix received of each worker, flagged or not: the next fix's jump is judged against it.
    last: Mutex<FxHashMap<WorkerId, LastFix>>,
    writer: OnceLock<mpsc::Sender<Pending>>,
}

#[derive(Debug)]
struct Pending {
    fixes: Vec<Fix>,
    received_at: DateTime<Utc>,
    done: oneshot::Sender<Result<(), String>>,
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

/// Checks, flags, publishes and stores `fixes`; returns once they are committed. A batch with any bad
/// fix is refused whole (422 with `errors: [{index, reason}]`) and changes nothing.
#[allow(clippy::too_many_lines)] // one step read top to bottom; longer since rustfmt
pub async fn report(
    state: &AppState,
    mut fixes: Vec<Fix>,
    judge: Judge,
) -> Result<Reported, ApiError> {
    if fixes.is_empty() {
        return Err(ApiError::invalid("no positions given"));
    }
    if fixes.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "at most {MAX_BATCH} positions a request; got {}",
            fixes.len()
        )));
    }
    let now = state.now();
    let mut errors = Vec::new();
    {
        let world = state.world();
        for (index, fix) in fixes.iter().enumerate() {
            if world.worker(fix.worker).is_none() {
                errors.push(
                    json!({"index": index, "reason": format!("unknown worker {}", fix.worker)}),
                );
            } else if let Err(e) = fix.check(now) {
                errors.push(json!({"index": index, "reason": e.0}));
            }
        }
    }
    if !errors.is_empty() {
        let first = errors[0]["reason"].as_str().unwrap_or_default().to_owned();
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-position",
            format!(
                "{} of {} positions refused, nothing stored; first: {first}",
                errors.len(),
                fixes.len()
            ),
        )
        .with("errors", errors));
    }

    let tracker = state.tracker();
    let mut flagged = Vec::new();
    let mut latest: FxHashMap<WorkerId, Position> = FxHashMap::default();
    {
        let mut last = tracker.last.lock().unwrap_or_else(PoisonError::into_inner);
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
    let mut dirty = crate::tiles::Dirty::default();
    state.remember(|world| {
        for (worker, position) in &latest {
            let before = world.position(*worker);
            world.set_position(*worker, *position);
            let after = world.position(*worker);
            // Once per worker per batch: the old and the new place of its workers-layer point.
            if before != after
                && let Some(w) = world.worker(*worker)
            {
                let grids: Vec<_> = w.grids.iter().map(|d| d.grid_id).collect();
                for p in before.iter().chain(after.iter()) {
                    dirty.point("workers", p.lon, p.lat, &grids);
                }
            }
        }
    });
    state.tiles().invalidate(dirty);
    state.hub().publish_fixes(&state.world(), &fixes);

    let patrolled = state.patrols().watched(state, &fixes).await;
    let (done, stored) = oneshot::channel();
    let accepted = fixes.len();
    tracker
        .writer(state)
        .send(Pending {
            fixes,
            received_at: now,
            done,
        })
        .await
        .map_err(|_| unavailable("the positions writer has stopped"))?;
    match stored.await {
        Ok(Ok(())) => {
            metrics::counter!("gridwatch_positions_total").increment(accepted as u64);
            crate::patrols::observe(state, patrolled).await;
            Ok(Reported { accepted, flagged })
        }
        Ok(Err(e)) => Err(unavailable(&e)),
        Err(_) => Err(unavailable("the positions writer has stopped")),
    }
}

fn unavailable(why: &str) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        format!("positions were not stored ({why}); send them again"),
    )
}

impl Tracker {
    fn writer(&self, state: &AppState) -> &mpsc::Sender<Pending> {
        self.writer.get_or_init(|| {
            let (tx, rx) = mpsc::channel(WRITER_QUEUE);
            tokio::spawn(write(state.clone(), rx));
            tx
        })
    }
}

/// The group-commit writer: takes what is waiting, inserts it in one transaction, answers every waiter.
async fn write(state: AppState, mut rx: mpsc::Receiver<Pending>) {
    while let Some(first) = rx.recv().await {
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
            .unwrap_or_else(|| state.now());
        let fixes: Vec<Fix> = batch.iter().flat_map(|p| p.fixes.iter().cloned()).collect();
        let result = state
            .store()
            .insert_fixes(&fixes, received_at)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, count, "storing positions");
                "the store refused the write".to_owned()
            });
        metrics::histogram!("gridwatch_position_commit_size")
            .record(f64::from(u32::try_from(count).unwrap_or(u32::MAX)));
        for pending in batch {
            let _ = pending.done.send(result.clone());
        }
    }
}
