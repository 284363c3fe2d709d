//! The early-warning service: drives the pure [`Detector`] from the case stream and writes what it
//! decides as events (`warning.raised`, `warning.cleared`) through `Core::write`, so every node's world,
//! the live stream, the alarms and `GET /api/warnings` learn it from the log.
//!
//! It runs beside the escalation scheduler on the node holding the escalation lease
//! (`lease::escalation`): one writer of warnings per deployment. On taking the lease it learns the
//! baseline from the store's cases of the last [`Config::history_days`] and fills the live windows from
//! them; then it observes each new case (`incident.created` on the core's channel), evaluates every
//! `every` (and at once when a case arrived and at least `every` has passed), and relearns once a day.
//! A new holder may find warnings the last one raised: a raise whose key the world already holds is not
//! written again, and a warning the world holds that the detector does not is cleared on its first
//! evaluation.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::broadcast;

use super::{Config, Detector, Report, Transition};
use crate::core::{Core, WeakCore};
use crate::domain::event::{IncidentSummary, WarningCleared};
use crate::domain::{Change, Event};
use crate::services::Shutdown;
use crate::store::StoreError;

/// How often the warnings are evaluated unless the server is told otherwise: as the detector was
/// measured (BENCHMARKS.md, "Early warning").
pub const DEFAULT_EVERY: Duration = Duration::from_mins(5);

/// How often the baseline is learned again.
const RELEARN_EVERY: TimeDelta = TimeDelta::days(1);

/// Runs until `shutdown` says stop, or the core is gone. `every` is the evaluation interval.
pub async fn run(
    core: WeakCore,
    mut changes: broadcast::Receiver<Event>,
    mut shutdown: Shutdown,
    every: Duration,
) {
    let config = Config::default();
    let (mut detector, mut learned) = loop {
        let Some(strong) = core.upgrade() else { return };
        let now = strong.now();
        match history(&strong, &config, now).await {
            Ok(history) => break (Detector::new(config.clone(), &history, now), now),
            Err(error) => tracing::warn!(%error, "loading the cases the warnings learn from"),
        }
        drop(strong);
        tokio::select! {
            () = shutdown.stopping() => return,
            () = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
    };
    // The first evaluation is one interval after the lease is taken, like every other: a node taking
    // over mid-burst does not write at once, and the windows were filled from the store.
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut first = true;
    loop {
        tokio::select! {
            () = shutdown.stopping() => return,
            _ = tick.tick() => {}
            received = changes.recv() => {
                let Some(strong) = core.upgrade() else { return };
                match received {
                    Ok(event) => observe(&strong, &mut detector, &event),
                    Err(broadcast::error::RecvError::Closed) => return,
                    // Cases missed here are in the store: the next relearn counts them.
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "the warnings fell behind the event channel");
                    }
                }
                continue;
            }
        }
        let Some(strong) = core.upgrade() else { return };
        if !strong.store().reachable() {
            // Nothing could be written; the next evaluation after the store answers catches up.
            continue;
        }
        let now = strong.now();
        if now - learned >= RELEARN_EVERY {
            match history(&strong, &config, now).await {
                Ok(history) => {
                    detector.relearn(&history, now);
                    learned = now;
                }
                Err(error) => tracing::warn!(%error, "relearning the warnings' baseline"),
            }
        }
        let transitions = detector.evaluate(now);
        let changes = reconcile(&strong, &detector, transitions, now, first);
        first = false;
        if !changes.is_empty()
            && let Err(error) = write(&strong, changes).await
        {
            tracing::warn!(%error, "writing warnings; they are written at the next evaluation");
            // What was not written stays raised in the detector: the next evaluation does not raise
            // it again, so write it from the world's point of view on the next tick.
            first = true;
        }
    }
}

/// A new case, as the detector sees it.
fn observe(core: &Core, detector: &mut Detector, event: &Event) {
    if let Change::IncidentCreated(summary) = &event.change {
        let group = group_of(&core.world(), &summary.category);
        detector.observe(report(summary, group));
    }
}

/// A category's group: its class (`city_management`, `social_governance`).
fn group_of(world: &crate::world::World, category: &str) -> String {
    world
        .category(category)
        .map_or("unknown", |c| c.class.as_str())
        .to_owned()
}

fn report(summary: &IncidentSummary, group: String) -> Report {
    Report {
        id: summary.id.0,
        at: summary.created_at,
        lat: summary.lat,
        lon: summary.lon,
        cell: summary.cell,
        grid: summary.grid.0,
        group,
        building: None,
    }
}

/// The cases reported since the history window began, as reports.
async fn history(
    core: &Core,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Vec<Report>, StoreError> {
    let since = now - TimeDelta::days(config.history_days);
    let cases = core.store().cases_since(since).await?;
    let world = core.world();
    Ok(cases
        .into_iter()
        .map(|case| Report {
            id: case.id.0,
            at: case.created_at,
            lat: case.lat,
            lon: case.lon,
            cell: case.cell,
            grid: case.grid.0,
            group: group_of(&world, &case.category),
            building: None,
        })
        .collect())
}

/// The events to write for `transitions`, against the warnings the world holds: a raise the world
/// already holds is dropped; on the `full` pass (the first evaluation, or after a failed write) every
/// warning the world holds that the detector does not is cleared, and every active one the world lacks
/// is raised.
fn reconcile(
    core: &Core,
    detector: &Detector,
    transitions: Vec<Transition>,
    now: DateTime<Utc>,
    full: bool,
) -> Vec<Change> {
    let world = core.world();
    let held = world.warnings();
    let mut out = Vec::new();
    let mut raised = std::collections::BTreeSet::new();
    for transition in transitions {
        match transition {
            Transition::Raised(warning) => {
                raised.insert(warning.key.clone());
                if !held.contains_key(&warning.key) {
                    out.push(Change::WarningRaised(Box::new(warning)));
                }
            }
            Transition::Cleared { key, at } => {
                if let Some(warning) = held.get(&key) {
                    let grids = warning.grids.clone();
                    out.push(Change::WarningCleared(WarningCleared { key, at, grids }));
                }
            }
        }
    }
    if full {
        let active: std::collections::BTreeSet<&str> =
            detector.active().map(|w| w.key.as_str()).collect();
        for (key, warning) in held.iter().filter(|(k, _)| !active.contains(k.as_str())) {
            out.push(Change::WarningCleared(WarningCleared {
                key: key.clone(),
                at: now,
                grids: warning.grids.clone(),
            }));
        }
        for warning in detector.active() {
            if !held.contains_key(&warning.key) && !raised.contains(&warning.key) {
                out.push(Change::WarningRaised(Box::new(warning.clone())));
            }
        }
    }
    out
}

/// Writes the changes in one transaction and applies them.
async fn write(core: &Core, changes: Vec<Change>) -> Result<(), StoreError> {
    core.write(move |w| async move {
        let events = w.store().insert_warnings(&changes).await?;
        for event in events {
            w.stored(event, |_| {});
        }
        Ok::<(), StoreError>(())
    })
    .await
}
