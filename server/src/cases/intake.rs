//! Registering a case (案卷建立): locate → route → deadline → duplicate link → one transaction.
//!
//! The intake is a service: an [`Intake`] handle (in `AppState`) queues each report for the intake
//! writer, a task started by `services::start` that holds the core and the queue's receiving end — never
//! its sending end, so it ends when told to stop, after committing and answering everything queued.
//!
//! Group commit: the writer takes the writer lock (one [`Core::write`]), drafts every report that is
//! waiting (up to the batch limit) against the world in arrival order, stores them all in one
//! transaction — one sync to disk for the lot — then applies and publishes each event and answers each
//! report. A report is answered only after the transaction holding it has committed, exactly as if it
//! had been committed alone; under load the next group gathers while the current one syncs, so the
//! sync's cost is shared instead of queued behind (see BENCHMARKS.md, "Incident load").
//!
//! A report fails fast when the store cannot take it: refused at once while the store is unreachable,
//! and answered unavailable instead of committed once it has waited longer than the write bound; a
//! report whose sender has gone before its group is drafted is dropped, never stored. Only a group
//! the database refused for its content (a conflict) is committed again one report at a time: after
//! any other failure the group's outcome is the database's to tell, never a second insert.
//!
//! Drafting sees the world as of the last commit, so a report is never grouped with an earlier one it
//! could be a duplicate of: it waits for the next group, which sees the earlier case in the world. The
//! drafting itself is pure ([`draft`]: a world, the dispatch settings and a report in, a case out).

mod draft;

use serde_json::Value;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use crate::core::{Core, Writer};
use crate::domain::incident::{Actor, Priority, Source, WorkflowError};
use crate::domain::{Case, TokenId};
use crate::services::Shutdown;
use crate::store::StoreError;
use crate::world::LocateError;

pub use draft::{could_duplicate, draft};

/// The longest description accepted, in characters (Open311's limit).
pub const MAX_DESCRIPTION_CHARS: usize = 4000;

/// Most reports committed in one transaction unless the deployment says otherwise. Large enough that a
/// burst arriving during one sync is committed by the next; small enough that a group's statements take
/// far less time than the sync itself.
pub const DEFAULT_BATCH_MAX: usize = 64;

/// Why a report was not registered.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("description is {chars} characters; at most {MAX_DESCRIPTION_CHARS} allowed")]
    DescriptionTooLong { chars: usize },
    #[error("unknown category {0:?}; see /api/categories")]
    UnknownCategory(String),
    /// The category exists but is retired (`active: false`).
    #[error("category {0:?} is no longer in use")]
    RetiredCategory(String),
    #[error(transparent)]
    Coordinate(#[from] LocateError),
    #[error("no city has been imported, so no grid can take the incident")]
    NoCity,
    /// Farther from every grid than `outside_grid_max_m` (属地兜底 has a limit). Degrees; meters.
    #[error(
        "the point lies {distance_m:.0} m outside every grid; at most {max_m:.0} m is accepted"
    )]
    OutsideManagedArea {
        lat: f64,
        lon: f64,
        distance_m: f64,
        max_m: f64,
    },
    #[error("the deadline falls outside the representable time range")]
    DeadlineOutOfRange,
    /// The routing chain chose a worker the workflow refused: a bug, never the reporter's doing.
    #[error("the automatic dispatch was refused: {0}")]
    AutoDispatch(WorkflowError),
    /// The writer has stopped taking reports (the server is shutting down); nothing was stored.
    #[error("the server is shutting down; the report was not registered, send it again")]
    ShuttingDown,
    /// The writer dropped the report without an answer: a bug.
    #[error("the intake writer dropped a report unanswered")]
    Unanswered,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A report to register.
#[derive(Debug, Clone)]
pub struct Report {
    /// Degrees (EPSG:4326).
    pub lat: f64,
    /// Degrees (EPSG:4326).
    pub lon: f64,
    /// A category code.
    pub category: String,
    pub priority: Priority,
    pub description: String,
    pub source: Source,
}

/// The intake's handle: where reports are queued for the writer. Cheap to clone.
#[derive(Clone)]
pub struct Intake {
    core: Core,
    queue: mpsc::UnboundedSender<Pending>,
}

impl Intake {
    /// Starts the intake writer on `core`; it stops on `shutdown` after committing what was queued.
    pub(crate) fn start(core: Core, shutdown: Shutdown) -> (Self, tokio::task::JoinHandle<()>) {
        let (queue, pending) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(core.clone(), pending, shutdown));
        (Self { core, queue }, task)
    }

    /// Registers `report` as a new case on behalf of `actor` (and `token`, when it came through the
    /// API), routes it and commits it. Returns the case as stored, once its transaction has committed;
    /// [`IntakeError::ShuttingDown`] when the writer has stopped taking reports.
    pub async fn register(
        &self,
        actor: Actor,
        token: Option<TokenId>,
        mut report: Report,
    ) -> Result<Case, IntakeError> {
        report.description = report.description.trim().to_owned();
        let chars = report.description.chars().count();
        if chars > MAX_DESCRIPTION_CHARS {
            return Err(IntakeError::DescriptionTooLong { chars });
        }
        self.core.check_reachable()?;
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            actor,
            token,
            report,
            reply,
            queued_at: Instant::now(),
            context: crate::audit::current(),
        };
        if self.queue.send(pending).is_err() {
            return Err(IntakeError::ShuttingDown);
        }
        // If this request is abandoned after its group was drafted, the writer still commits the report
        // and applies it to the world: only the answer is lost.
        answer.await.unwrap_or(Err(IntakeError::Unanswered))
    }
}

/// A report waiting for the intake writer, and where its answer goes.
pub(crate) struct Pending {
    actor: Actor,
    token: Option<TokenId>,
    /// Its description trimmed and checked.
    report: Report,
    reply: oneshot::Sender<Result<Case, IntakeError>>,
    /// When it was handed to the writer: its wait for a group is measured from here.
    queued_at: Instant,
    /// Who sent it and from where, for its audit row (the writer commits many requests' cases at once).
    context: Option<crate::audit::Context>,
}

/// The intake writer: takes the reports in arrival order and commits them in groups of at most the
/// core's batch limit. On `shutdown` it closes the queue (later reports get 503), commits and answers
/// every report already queued, and ends.
async fn run(core: Core, mut queue: mpsc::UnboundedReceiver<Pending>, mut shutdown: Shutdown) {
    let batch_max = core.intake_batch_max();
    let mut carried: Vec<Pending> = Vec::new();
    loop {
        if carried.is_empty() {
            let first = tokio::select! {
                // Stop first: under a steady stream the queue is never empty.
                biased;
                () = shutdown.stopping() => {
                    // Refuse new reports; what is queued still arrives, then `None`.
                    queue.close();
                    queue.recv().await
                }
                pending = queue.recv() => pending,
            };
            match first {
                Some(pending) => carried.push(pending),
                None => return,
            }
        }
        let mut group = std::mem::take(&mut carried);
        // One write a group: the queue goes into the step (to gather under the lock) and comes back.
        (queue, carried) = core
            .write_waiting(move |w| async move {
                // Whatever arrived while the last group was syncing joins this one.
                while group.len() < batch_max {
                    match queue.try_recv() {
                        Ok(pending) => group.push(pending),
                        Err(_) => break,
                    }
                }
                let later = commit_group(&w, group).await;
                (queue, later)
            })
            .await;
    }
}

/// Drafts, stores, applies and answers a group under the writer lock. Returns the reports that must
/// wait for the next group (from the first that could duplicate an earlier one of this group on).
async fn commit_group(w: &Writer, group: Vec<Pending>) -> Vec<Pending> {
    let mut drafts: Vec<Case> = Vec::with_capacity(group.len());
    let mut waiting: Vec<Pending> = Vec::with_capacity(group.len());
    let mut later = Vec::new();
    let started = Instant::now();
    // A report's wait ends with the group that takes it (not with one that carries it to the next).
    let waited = |pending: &Pending| {
        metrics::histogram!("gridwatch_intake_wait_seconds")
            .record(started.duration_since(pending.queued_at).as_secs_f64());
    };
    {
        let world = w.world();
        let config = w.dispatch();
        for pending in group {
            if !later.is_empty() {
                later.push(pending);
                continue;
            }
            let Some(pending) = admit(w, pending) else {
                continue;
            };
            let drafted = draft(
                &world,
                config,
                &pending.report,
                pending.actor,
                pending.token,
                w.now(),
            );
            match drafted {
                Err(e) => {
                    waited(&pending);
                    let _ = pending.reply.send(Err(e));
                }
                Ok(case)
                    if drafts
                        .iter()
                        .any(|earlier| could_duplicate(config, earlier, &case)) =>
                {
                    later.push(pending);
                }
                Ok(case) => {
                    waited(&pending);
                    drafts.push(case);
                    waiting.push(pending);
                }
            }
        }
    }
    if drafts.is_empty() {
        return later;
    }
    metrics::histogram!("gridwatch_intake_group_size")
        .record(f64::from(u32::try_from(drafts.len()).unwrap_or(u32::MAX)));
    // Each case's audit row names its own request: the group's context hands them out in order.
    let contexts = waiting.iter().map(|p| p.context.clone()).collect();
    let group_context = Some(crate::audit::Context::group(contexts));
    let stored = crate::audit::scope(group_context, w.store().insert_incidents(&drafts)).await;
    metrics::histogram!("gridwatch_intake_group_seconds").record(started.elapsed().as_secs_f64());
    match stored {
        Ok(stored) => {
            for ((case, event), pending) in stored.into_iter().zip(waiting) {
                publish(w, case, event, pending);
            }
        }
        // One report the store refuses must not fail the others: commit each alone. Only a refusal of
        // the content: after a failure to reach the store or to commit, the group may have committed.
        Err(e @ StoreError::Conflict(_)) if drafts.len() > 1 => {
            tracing::warn!(
                "a group of {} new incidents was refused ({e}); committing each alone",
                drafts.len()
            );
            for (case, pending) in drafts.into_iter().zip(waiting) {
                let alone =
                    crate::audit::scope(pending.context.clone(), w.store().insert_incident(&case));
                match alone.await {
                    Ok((case, event)) => publish(w, case, event, pending),
                    Err(e) => {
                        let _ = pending.reply.send(Err(e.into()));
                    }
                }
            }
        }
        Err(e) => refuse(waiting, e),
    }
    later
}

/// A report fit to draft, or `None` when it was dropped (its sender has gone: nobody waits for it, so
/// it never reaches the store) or answered unavailable (the store is unreachable, or the report waited
/// longer than the write bound).
fn admit(w: &Writer, pending: Pending) -> Option<Pending> {
    if pending.reply.is_closed() {
        return None;
    }
    let wait = w.core().write_wait();
    let refusal = match w.core().check_reachable() {
        Err(unreachable) => unreachable,
        Ok(()) if pending.queued_at.elapsed() > wait => {
            StoreError::Unavailable(format!("waited over {} ms for the store", wait.as_millis()))
        }
        Ok(()) => return Some(pending),
    };
    metrics::histogram!("gridwatch_intake_wait_seconds")
        .record(pending.queued_at.elapsed().as_secs_f64());
    let _ = pending.reply.send(Err(refusal.into()));
    None
}

/// Answers every report of a group the store failed with `error`: the first with the error itself,
/// the rest with what it says of them.
fn refuse(waiting: Vec<Pending>, error: StoreError) {
    let text = error.to_string();
    let same = || match &error {
        StoreError::Full { context, .. } => StoreError::Full {
            context,
            source: sqlx::Error::Protocol(text.clone()),
        },
        unreachable if unreachable.is_unreachable() => StoreError::Unavailable(text.clone()),
        _ => StoreError::Shared(text.clone()),
    };
    let mut waiting = waiting.into_iter();
    let first = waiting.next();
    for pending in waiting {
        let _ = pending.reply.send(Err(same().into()));
    }
    if let Some(pending) = first {
        let _ = pending.reply.send(Err(error.into()));
    }
}

/// Applies a committed case to the world, publishes its event and answers its report.
fn publish(w: &Writer, case: Case, event: crate::domain::Event, pending: Pending) {
    let applied = case.clone();
    w.stored(event, |world| world.apply_incident(applied));
    metrics::counter!("gridwatch_incidents_registered_total", "source" => pending.report.source.as_str()).increment(1);
    // The reporter may have gone; the case stands.
    let _ = pending.reply.send(Ok(case));
}

/// How a routing decision reads in a case's JSON.
#[must_use]
pub fn route_of(case: &Case) -> Option<&Value> {
    case.history.first()?.detail.as_ref()?.get("route")
}
