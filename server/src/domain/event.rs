//! Events: the append-only log every change writes in the same transaction as its rows.
//!
//! The sequence number orders all changes; live streaming and `resume` replay from it.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One committed change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// Dotted kind, e.g. `worker.created`, `city.imported`.
    pub kind: String,
    pub payload: serde_json::Value,
}
