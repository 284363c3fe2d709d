//! Replay (回放): the live map as it was at a past moment, for an after-action review or a complaint.
//!
//! What a subscriber held at `T` is rebuilt from three stored things, never from the world:
//! - **cases, workers and cameras** from the event log. `incident.*` events carry each changed case's
//!   whole summary, `worker.*` each worker's, `camera.*` each camera; so the map at seq `S` is the map
//!   at any earlier seq with the events up to `S` applied ([`Frame::apply`]). A **keyframe** is that
//!   map at one seq, kept compressed in `replay_keyframes`: the replay at `T` reads the last keyframe
//!   at or before `S(T)` (the last event committed at or before `T`) and applies at most
//!   [`KEYFRAME_EVERY`] events to it, whatever the log's length.
//! - **positions** from the `positions` table: each worker's newest unflagged fix received by `T`.
//! - **grid boundaries** from `boundary_versions`: each community's version in force at `T`.
//!
//! Keyframes are written by [`keyframes::run`], a service on every node: the first from the world as it
//! was loaded (the events before it cannot say who the imported workers were), then one each
//! [`KEYFRAME_EVERY`] events, folded from the log alone, so every node writes the same frame at the same
//! seq (the insert ignores one already there). The replay reaches back to the first keyframe.
//!
//! The fold is pure and knows every kind of event ([`Frame::apply`] names each `Change`).

pub mod keyframes;
pub mod state;

use std::collections::BTreeMap;
use std::io::{Read, Write};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::camera::Camera;
use crate::domain::event::{IncidentSummary, WorkerSummary};
use crate::domain::{Change, Event};
use crate::world::World;

/// The largest side of a replayed bbox, degrees: about 55 km of latitude, a whole district and its
/// surroundings, not the world (`GET /api/replay/state`, the websocket `replay`).
pub const MAX_SPAN_DEG: f64 = 0.5;

/// A keyframe is written at each seq that is a multiple of this (and the first wherever the node
/// started). The replay applies at most this many events to a keyframe.
pub const KEYFRAME_EVERY: i64 = 5_000;

/// The map at one seq: the open cases, every worker and every camera, as the live stream carries them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    /// The last event applied.
    pub seq: i64,
    /// Open cases by id.
    pub incidents: BTreeMap<i64, IncidentSummary>,
    pub workers: BTreeMap<i64, WorkerSummary>,
    pub cameras: BTreeMap<i64, Camera>,
}

impl Frame {
    /// The map the world holds now, at its last seq.
    #[must_use]
    pub fn of_world(world: &World) -> Self {
        Self {
            seq: world.last_seq(),
            incidents: world
                .open_summaries()
                .map(|(case, _)| (case.id().0, IncidentSummary::of(case)))
                .collect(),
            workers: world
                .workers()
                .map(|w| (w.id.0, WorkerSummary::of(w)))
                .collect(),
            cameras: world
                .cameras()
                .map(|c| (c.camera.id.0, c.camera.clone()))
                .collect(),
        }
    }

    /// Applies the next event of the log. An event at or before the frame's seq changes nothing (a
    /// frame never goes back).
    pub fn apply(&mut self, event: &Event) {
        if event.seq <= self.seq {
            return;
        }
        self.seq = event.seq;
        match &event.change {
            Change::IncidentCreated(summary) => self.case(summary),
            Change::IncidentUpdated(updated) => {
                for summary in &updated.incidents {
                    self.case(summary);
                }
            }
            Change::WorkerCreated(worker) | Change::WorkerUpdated(worker) => {
                self.workers.insert(worker.id.0, worker.clone());
            }
            Change::CameraCreated(camera) | Change::CameraUpdated(camera) => {
                self.cameras.insert(camera.id.0, camera.clone());
            }
            Change::CameraDeleted(camera) => {
                self.cameras.remove(&camera.id.0);
            }
            // Nothing a replayed map shows: the city's shape and boundaries are read from their own
            // tables (a boundary change's re-routed cases come as `incident.updated`), a photo does
            // not change a case's summary, and patrols, alerts, accounts, categories and plans are not
            // on the live map's snapshot. A city import happens once, into an empty store, before the
            // first keyframe.
            Change::CityImported(_)
            | Change::RegionCreated(_)
            | Change::BuildingCreated(_)
            | Change::TokenCreated(_)
            | Change::TokenRevoked(_)
            | Change::UserCreated(_)
            | Change::UserUpdated(_)
            | Change::IncidentPhotoAdded(_)
            | Change::CategoryUpdated(_)
            | Change::DepartmentUpdated(_)
            | Change::AlertRaised(_)
            | Change::PatrolStarted(_)
            | Change::PatrolEnded(_)
            | Change::PatrolGridEntered(_)
            | Change::PatrolGridExited(_)
            | Change::PatrolCheckedIn(_)
            | Change::CheckpointCreated(_)
            | Change::PlanCreated(_)
            | Change::BoundaryChanged(_)
            // Alarms are the command centre's list, not the map (`GET /api/alarms`).
            | Change::AlarmAcknowledged(_)
            // Warnings are the command centre's list and alarms, read from the log as they were.
            | Change::WarningRaised(_)
            | Change::WarningCleared(_) => {}
        }
    }

    fn case(&mut self, summary: &IncidentSummary) {
        if summary.status.is_open() {
            self.incidents.insert(summary.id.0, summary.clone());
        } else {
            self.incidents.remove(&summary.id.0);
        }
    }

    /// The frame as a keyframe stores it: JSON, gzipped (cases compress about tenfold).
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let json = serde_json::to_vec(self).unwrap_or_default();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        // Writing to a Vec cannot fail.
        let _ = gz.write_all(&json);
        gz.finish().unwrap_or_default()
    }

    /// Reads a stored keyframe back.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut json)
            .map_err(|e| format!("a keyframe is not gzip: {e}"))?;
        serde_json::from_slice(&json).map_err(|e| format!("a keyframe does not decode: {e}"))
    }
}

/// A stored keyframe: the frame at `seq`, whose event was committed at `at`.
#[derive(Debug, Clone)]
pub struct Keyframe {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub state: Vec<u8>,
}

#[cfg(test)]
mod tests;
