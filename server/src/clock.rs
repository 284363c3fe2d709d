//! The server's clock: wall time in production, a clock tests can set or pause.
//!
//! Deadlines, history and escalation all read the time from here, never from `Utc::now()` directly, so a
//! test can script a month of cases (`Clock::manual`) or let tokio's paused time drive the escalation
//! scheduler (`Clock::tokio`).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};

/// Where the time comes from.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The system's wall clock.
    #[default]
    System,
    /// A time the test sets and moves.
    Manual(Arc<Mutex<DateTime<Utc>>>),
    /// `anchor` plus the tokio time elapsed since `start`: follows `tokio::time::pause` and `advance`.
    Tokio {
        anchor: DateTime<Utc>,
        start: tokio::time::Instant,
    },
}

impl Clock {
    /// A manual clock reading `at` until moved.
    #[must_use]
    pub fn manual(at: DateTime<Utc>) -> Self {
        Self::Manual(Arc::new(Mutex::new(at)))
    }

    /// A clock that reads `anchor` now and moves with tokio's (possibly paused) time.
    #[must_use]
    pub fn tokio(anchor: DateTime<Utc>) -> Self {
        Self::Tokio {
            anchor,
            start: tokio::time::Instant::now(),
        }
    }

    /// The current time, truncated to whole microseconds: what both stores keep, so a case reads back
    /// from the store exactly as it was written.
    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        self.read().trunc_subsecs(6)
    }

    fn read(&self) -> DateTime<Utc> {
        match self {
            Self::System => Utc::now(),
            Self::Manual(at) => *at.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
            Self::Tokio { anchor, start } => {
                let elapsed = TimeDelta::from_std(start.elapsed()).unwrap_or(TimeDelta::MAX);
                anchor
                    .checked_add_signed(elapsed)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC)
            }
        }
    }

    /// Sets a manual clock; does nothing to the others.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Self::Manual(now) = self {
            *now.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = at;
        }
    }
}
