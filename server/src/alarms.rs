//! Alarms (告警, issue 21): what the command centre must not miss — a new urgent case, a case turning
//! overdue, an escalation, an area alert — and who acknowledged each.
//!
//! - **Which events raise one** is [`raised`] (`alarms/raise.rs`), a pure function of one event that
//!   names every kind of `Change`. An alarm is not stored: its id is its event's (`"{seq}"` or
//!   `"{seq}.{case}"`), so every node derives the same alarms from the same log.
//! - **An acknowledgement is an event**, `alarm.acknowledged`, written by [`acknowledge`] through
//!   `Core::write` like every other change, after checking the alarm against the world: unknown (or
//!   gone) → `AccessError::NotFound`, outside the caller's scope → `OutOfScope`, acknowledged before →
//!   [`AlarmError::AlreadyAcknowledged`] naming who and when.
//! - **The world holds the recent alarms** (`world/alarms.rs`): applied from every event it takes, its
//!   own commits and other writers' (`follow`) alike; at start [`rebuild`] reads the last
//!   [`KEEP_OPEN`] of the log, so a restart forgets no open alarm. Acknowledged alarms leave after
//!   [`KEEP_ACKNOWLEDGED`], open ones after [`KEEP_OPEN`].
//! - **Scope**: an alarm belongs to its grid (a case's grid for life; the grid at an alert's centre).
//!   A scoped principal sees the alarms of its grids; one without a grid only an unrestricted one.
//!
//! Two nodes acknowledging the same alarm in the same instant may both be told 200 (each checked
//! its own world before the other's event reached it); every world keeps the log's first. Must not:
//! answer HTTP (`api/alarms.rs` does), or store anything but the acknowledgement event.

mod raise;

use chrono::{DateTime, Utc};

use crate::core::Core;
use crate::domain::alarm::{AcknowledgedBy, AlarmAcknowledged};
use crate::domain::{AccessError, Alarm, AlarmId, Event, Principal, Subject};
use crate::store::{Store, StoreError};
use crate::world::{Visibility, World};

pub use crate::world::alarms::{Entry, KEEP_ACKNOWLEDGED, KEEP_OPEN, MAX_ALARMS};
pub use raise::raised;

/// Events read from the log per page when the alarms are rebuilt at start.
const REBUILD_PAGE: u32 = 1000;

/// Why an acknowledgement was refused.
#[derive(Debug, thiserror::Error)]
pub enum AlarmError {
    #[error(transparent)]
    Access(#[from] AccessError),
    /// Someone got there first.
    #[error("alarm {id} was already acknowledged by {} at {at}", who(by))]
    AlreadyAcknowledged {
        id: AlarmId,
        by: AcknowledgedBy,
        at: DateTime<Utc>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A person's name for who acknowledged: the display name, else the account or token id.
fn who(by: &AcknowledgedBy) -> String {
    match (&by.name, by.user, by.token) {
        (Some(name), _, _) => name.clone(),
        (None, Some(user), _) => format!("user {user}"),
        (None, None, Some(token)) => format!("token {token}"),
        (None, None, None) => format!("a {}", by.role.as_str()),
    }
}

/// Which alarms a list asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Which {
    /// Not yet acknowledged.
    #[default]
    Open,
    Acknowledged,
    All,
}

/// Whether a principal who sees `visibility` may see `alarm`.
#[must_use]
pub fn visible(visibility: &Visibility, alarm: &Alarm) -> bool {
    match alarm.grid {
        Some(grid) => visibility.grid(grid),
        None => matches!(visibility, Visibility::All),
    }
}

/// The alarms current at `now` that `visibility` covers, newest first.
#[must_use]
pub fn list(
    world: &World,
    visibility: &Visibility,
    which: Which,
    now: DateTime<Utc>,
) -> Vec<Entry> {
    world
        .alarms()
        .newest_first()
        .filter(|e| e.current(now) && visible(visibility, &e.alarm))
        .filter(|e| match which {
            Which::Open => e.ack.is_none(),
            Which::Acknowledged => e.ack.is_some(),
            Which::All => true,
        })
        .cloned()
        .collect()
}

/// Acknowledges alarm `id` for `principal`: one `alarm.acknowledged` event. Returns the alarm with
/// its acknowledgement.
pub async fn acknowledge(
    core: &Core,
    principal: &Principal,
    id: AlarmId,
) -> Result<Entry, AlarmError> {
    let name = match (principal.user(), principal.token()) {
        (Some(user), _) => core.credentials().cached_user(user).map(|u| u.display_name),
        // A token's label names the integration or person it was minted for; a failed read only
        // leaves the name out.
        (None, Some(token)) => core
            .store()
            .token(token)
            .await
            .ok()
            .flatten()
            .and_then(|t| t.label),
        (None, None) => None,
    };
    let by = AcknowledgedBy {
        user: principal.user(),
        token: principal.token(),
        name,
        role: principal.role,
    };
    let principal = principal.clone();
    core.write(move |w| async move {
        let now = w.now();
        let alarm = {
            let world = w.world();
            let entry = world
                .alarms()
                .get(id)
                .filter(|e| e.current(now))
                .ok_or(AccessError::NotFound(Subject::Alarm(id)))?;
            if !visible(&world.visibility(&principal), &entry.alarm) {
                return Err(AccessError::OutOfScope(Subject::Alarm(id)).into());
            }
            if let Some(ack) = &entry.ack {
                return Err(AlarmError::AlreadyAcknowledged {
                    id,
                    by: ack.by.clone(),
                    at: ack.at,
                });
            }
            entry.alarm.clone()
        };
        let ack = AlarmAcknowledged { alarm, by, at: now };
        let event = w.store().insert_alarm_ack(&ack).await?;
        // The world's book takes it with every event (`World::observe_alarms`).
        w.stored(event, |_| {});
        let entry = w.world().alarms().get(id).cloned();
        metrics::counter!("gridwatch_alarms_acknowledged_total").increment(1);
        entry.ok_or_else(|| AccessError::NotFound(Subject::Alarm(id)).into())
    })
    .await
}

/// Fills `world`'s alarms from the log's events of the last [`KEEP_OPEN`] before `now`, up to the
/// world's seq: what a restart would otherwise forget. The first such event is found by bisecting the
/// log on its times (a few reads of one event each), so a long log is not read from its start.
pub async fn rebuild(
    store: &dyn Store,
    world: &mut World,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let upto = world.last_seq();
    let since = now - KEEP_OPEN;
    // Every event at or below `lo` is older than `since`; every one above `hi` is not.
    let (mut lo, mut hi) = (0, upto);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match store.events_since(mid, 1).await?.first() {
            Some(event) if event.at < since => lo = event.seq.min(hi),
            Some(_) | None => hi = mid,
        }
    }
    let mut after = lo;
    while after < upto {
        let page: Vec<Event> = store.events_since(after, REBUILD_PAGE).await?;
        let Some(last) = page.last().map(|e| e.seq) else {
            break;
        };
        for event in page.iter().filter(|e| e.seq <= upto) {
            world.observe_alarms(event);
        }
        after = last;
    }
    let held = world.alarms().len();
    if held > 0 {
        tracing::info!(held, from = lo, upto, "alarms rebuilt from the event log");
    }
    Ok(())
}
