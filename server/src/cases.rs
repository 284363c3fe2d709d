//! The incident service: every change to a case goes command → validate against the world → one store
//! transaction (row, history, event) → apply to the world → publish. The HTTP handlers, the Open311
//! endpoint and the escalation scheduler all come through here, so the rules live in one place.
//!
//! - [`intake`] registers a new case: locates it, routes it (`dispatch::routing`), sets its deadline on
//!   the working calendar and links a likely duplicate.
//! - [`actions`] applies one workflow action (`domain::incident::apply`) and keeps the escalation clock.
//! - [`archive`] reads the finished cases the world no longer holds from the store.
//!
//! Each change is one `Core::write` (the writer lock from validation to commit); the world's lock is never
//! held across an `.await`. Each returns its own error enum ([`IntakeError`], [`ActionError`],
//! [`PhotoError`]) naming the value refused and why; `error.rs` and Open311 decide what a client sees.
//!
//! # History conventions
//! Entry 0 of every case is `register` (from = to = `registered`) with `detail.deadline`, the routing
//! decision (`detail.route`) and, when linked, `detail.duplicate_of`. A case routed to a worker at once
//! gets a `dispatch` entry next with `detail.automatic = true`. A merge appends `absorb` to the case that
//! absorbs the duplicate. The scheduler's escalations carry `detail.automatic = true` and
//! `detail.notice` (督办).

pub mod actions;
pub mod archive;
pub mod escalation;
pub mod intake;
pub mod photos;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use crate::domain::incident::Actor;
use crate::domain::{Case, Principal, Role};

pub use actions::{ActionError, act};
pub use intake::{Intake, IntakeError, Report};
pub use photos::PhotoError;

/// The actor a token acts as.
#[must_use]
pub fn actor_of(principal: &Principal) -> Actor {
    Actor {
        worker: principal.worker,
        role: principal.role,
    }
}

/// The actor the server itself acts as (automatic dispatch, escalation): an admin with no worker.
pub const SYSTEM: Actor = Actor {
    worker: None,
    role: Role::Admin,
};

/// Whether a case is past its deadline at `now` and still open.
#[must_use]
pub fn is_overdue(case: &Case, now: DateTime<Utc>) -> bool {
    case.state.status.is_open() && case.state.deadline.is_some_and(|d| d < now)
}

/// A time limit in (possibly fractional) hours as a duration, to the millisecond.
#[must_use]
pub fn hours(h: f64) -> TimeDelta {
    // Limits are validated to lie in (0, MAX_LIMIT_H], so the product fits an i64 comfortably.
    #[allow(clippy::cast_possible_truncation)]
    TimeDelta::milliseconds((h * 3_600_000.0).round() as i64)
}

/// Merges `extra` into an entry's detail object.
fn add_detail(detail: &mut Option<Value>, extra: &Value) {
    let Some(extra) = extra.as_object() else {
        return;
    };
    match detail {
        Some(Value::Object(map)) => map.extend(extra.clone()),
        _ => *detail = Some(Value::Object(extra.clone())),
    }
}
