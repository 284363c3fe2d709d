//! What both stores share for position fixes: the row both select and how it becomes a `Fix` again.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::codec::corrupt;
use crate::domain::{Fix, WorkerId};
use crate::store::StoreError;
use crate::store::sql::driver::Load;

/// A `positions` row as both dialects select it (`sql/*/load_track.sql`; PostgreSQL casts `jsonb` to text).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct FixRow {
    pub worker_id: i64,
    pub at: DateTime<Utc>,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    pub speed_mps: Option<f64>,
    pub heading_deg: Option<f64>,
    pub altitude_m: Option<f64>,
    pub battery_pct: Option<f64>,
    pub moving: Option<bool>,
    pub flags: String,
    pub attributes: String,
}

impl Load for Fix {
    type Row = FixRow;
    fn from_row(row: FixRow) -> Result<Self, StoreError> {
        let flags: Vec<String> = serde_json::from_str(&row.flags)
            .map_err(|e| corrupt("positions", format!("flags: {e}")))?;
        let attributes: Map<String, Value> = serde_json::from_str(&row.attributes)
            .map_err(|e| corrupt("positions", format!("attributes: {e}")))?;
        Ok(Fix {
            worker: WorkerId(row.worker_id),
            lat: row.lat,
            lon: row.lon,
            at: row.at,
            accuracy_m: row.accuracy_m,
            speed_mps: row.speed_mps,
            heading_deg: row.heading_deg,
            altitude_m: row.altitude_m,
            battery_pct: row.battery_pct,
            moving: row.moving,
            flags,
            attributes,
        })
    }
}

/// The text a fix's flags are stored as.
pub(crate) fn flags_text(fix: &Fix) -> String {
    Value::from(fix.flags.clone()).to_string()
}

/// The text a fix's attributes are stored as.
pub(crate) fn attributes_text(fix: &Fix) -> String {
    Value::Object(fix.attributes.clone()).to_string()
}
