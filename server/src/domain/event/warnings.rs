//! Payloads of the early warnings (研判预警, `crate::warnings`): a warning raised with its evidence, and
//! one cleared.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::warnings::Warning;

/// `warning.cleared`: the warning's key, when its window stopped holding the excess, and its grids (so
/// the live stream reaches the same subscribers the raise did).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningCleared {
    pub key: String,
    pub at: DateTime<Utc>,
    pub grids: Vec<i64>,
}
