//! [`History`]: what the store keeps for looking back and ahead (issue 21): the replay keyframes, the
//! last event committed by a moment and each worker's position at a moment (read by `crate::replay`);
//! the cases reported since a moment (what the early warnings learn from, `crate::warnings::service`)
//! and the warnings' events.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::{Change, Event, GridId, IncidentId, WorkerId};
use crate::replay::Keyframe;
use crate::world::Position;

/// A case as the early warnings learn from it: where and when it was reported, and its category.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportedCase {
    pub id: IncidentId,
    pub created_at: DateTime<Utc>,
    /// Degrees (EPSG:4326).
    pub lat: f64,
    /// Degrees (EPSG:4326).
    pub lon: f64,
    pub cell: h3o::CellIndex,
    pub grid: GridId,
    /// The category's code.
    pub category: String,
}

#[async_trait]
pub trait History: Send + Sync {
    /// Stores a keyframe; one already stored at its seq is kept (every node writes the same frame).
    async fn insert_keyframe(&self, keyframe: &Keyframe) -> Result<(), StoreError>;

    /// The last keyframe at or before `seq`.
    async fn keyframe_at(&self, seq: i64) -> Result<Option<Keyframe>, StoreError>;

    /// The first keyframe's seq and time: where the replay history starts.
    async fn first_keyframe(&self) -> Result<Option<(i64, DateTime<Utc>)>, StoreError>;

    /// The seq of the last event committed at or before `at`; `None` when none was.
    async fn seq_at(&self, at: DateTime<Utc>) -> Result<Option<i64>, StoreError>;

    /// Each worker's newest unflagged fix whose time and receipt are both at or before `at`, by worker.
    async fn positions_at(
        &self,
        at: DateTime<Utc>,
    ) -> Result<Vec<(WorkerId, Position)>, StoreError>;

    /// Every case reported at or after `since`, oldest first.
    async fn cases_since(&self, since: DateTime<Utc>) -> Result<Vec<ReportedCase>, StoreError>;

    /// Appends `warning.raised` / `warning.cleared` events in one transaction; no other rows.
    async fn insert_warnings(&self, changes: &[Change]) -> Result<Vec<Event>, StoreError>;

    /// Unflagged fixes received after `after` and by `until`, in the order received, at most `limit`:
    /// each worker, where, the fix's time, and when it was received.
    async fn fixes_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(WorkerId, Position, DateTime<Utc>)>, StoreError>;
}
