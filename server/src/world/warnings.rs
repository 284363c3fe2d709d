//! The early warnings in force (研判预警, `crate::warnings`): raised by `warning.raised`, gone with
//! `warning.cleared`, applied from every event the world takes, on every node. `GET /api/warnings` and
//! the live stream read them; the warnings service reads them to write no warning twice.

use std::collections::BTreeMap;

use crate::domain::{Change, Event};
use crate::warnings::Warning;

/// The warnings in force, by key.
#[derive(Debug, Clone, Default)]
pub struct WarningBook {
    active: BTreeMap<String, Warning>,
}

impl WarningBook {
    /// Applies what `event` says of warnings; any other event changes nothing.
    pub fn observe(&mut self, event: &Event) {
        if let Change::WarningRaised(warning) = &event.change {
            self.active.insert(warning.key.clone(), (**warning).clone());
        } else if let Change::WarningCleared(cleared) = &event.change {
            self.active.remove(&cleared.key);
        }
    }

    /// The warnings in force, by key.
    #[must_use]
    pub fn active(&self) -> &BTreeMap<String, Warning> {
        &self.active
    }
}
