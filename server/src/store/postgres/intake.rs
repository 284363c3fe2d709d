//! A group of new cases on PostgreSQL in a fixed number of round trips, whatever the group's size.
//!
//! The intake writer commits every report waiting in one transaction (ARCHITECTURE.md, "group commit").
//! Written one case at a time, a group of `n` cost `3n` statements, each a round trip and two task
//! wake-ups; after a slow commit the group that queued behind it is the largest and paid the most, which
//! is where the latency tail came from. Here a group is always four statements after `BEGIN`:
//!
//! 1. take the events lock and draw the group's case ids and event sequence numbers (`group_ids.sql`);
//! 2. every case row (`group_incidents.sql`: `INSERT … SELECT FROM UNNEST` of column arrays);
//! 3. every history row of every case (`group_history.sql`, the same);
//! 4. every `incident.created` event (`group_events.sql`, the same).
//!
//! The ids and sequence numbers are drawn from the tables' own sequences while the events lock is held,
//! so events still become visible in sequence order, and the ids are known before the rows are written:
//! nothing depends on the order `RETURNING` hands rows back. One statement text a step, so each is
//! prepared once per connection.

use chrono::{DateTime, Utc};

use super::{EVENTS_LOCK, PgDialect, col};
use crate::domain::event::IncidentSummary;
use crate::domain::incident::Status;
use crate::domain::{Case, Change, Event, IncidentId};
use crate::store::StoreError;
use crate::store::payload::codec::{self, cell_to_i64};
use crate::store::payload::conflict::Context;
use crate::store::payload::incidents::detail_text;
use crate::store::sql::Tx;

/// Stores `cases` (ids ignored) with their histories and one `incident.created` event each, in the
/// caller's transaction, and returns each stored case with its event, in the order given: ids and
/// sequence numbers rise with that order.
pub(super) async fn insert_group(
    tx: &mut Tx<PgDialect>,
    cases: &[Case],
) -> Result<Vec<(Case, Event)>, StoreError> {
    if cases.is_empty() {
        return Ok(Vec::new());
    }
    let n = i32::try_from(cases.len())
        .map_err(|_| StoreError::Conflict("too many cases in one group".into()))?;
    let drawn: Vec<(i64, i64)> = sqlx::query_as(include_str!("../sql/postgres/group_ids.sql"))
        .bind(EVENTS_LOCK)
        .bind(n)
        .fetch_all(&mut **tx)
        .await
        .context("drawing incident ids and event numbers")?;
    // Each row draws its id and its sequence number together, so ordered by id the sequence numbers
    // rise too; the events lock keeps every other writer off the events sequence meanwhile.
    let mut stored: Vec<Case> = cases.to_vec();
    for (case, (id, _)) in stored.iter_mut().zip(&drawn) {
        case.state.id = IncidentId(*id);
    }
    insert_rows(tx, &stored).await?;
    insert_history(tx, &stored).await?;

    let at = codec::now();
    let events: Vec<Event> = stored
        .iter()
        .zip(&drawn)
        .map(|(case, (_, seq))| Event {
            seq: *seq,
            at,
            change: Change::IncidentCreated(Box::new(IncidentSummary::of(case))),
        })
        .collect();
    sqlx::query(include_str!("../sql/postgres/group_events.sql"))
        .bind(col(&events, |e| e.seq))
        .bind(col(&events, |e| e.at))
        .bind(col(&events, |e| e.change.kind()))
        .bind(col(&events, |e| e.change.payload_text()))
        .execute(&mut **tx)
        .await
        .context("appending incident events")?;
    Ok(stored.into_iter().zip(events).collect())
}

async fn insert_rows(tx: &mut Tx<PgDialect>, cases: &[Case]) -> Result<(), StoreError> {
    let time = |f: fn(&Case) -> Option<DateTime<Utc>>| col(cases, f);
    sqlx::query(include_str!("../sql/postgres/group_incidents.sql"))
        .bind(col(cases, |c| c.state.id.0))
        .bind(col(cases, |c| c.category.as_str()))
        .bind(col(cases, |c| c.priority.as_str()))
        .bind(col(cases, |c| c.source.as_str()))
        .bind(col(cases, |c| c.kind.as_str()))
        .bind(col(cases, |c| c.description.as_str()))
        .bind(col(cases, |c| c.place.lat))
        .bind(col(cases, |c| c.place.lon))
        .bind(col(cases, |c| cell_to_i64(c.place.cell)))
        .bind(col(cases, |c| c.place.grid.0))
        .bind(col(cases, |c| c.place.community.0))
        .bind(col(cases, |c| c.place.street.map(|r| r.0)))
        .bind(col(cases, |c| c.place.district.map(|r| r.0)))
        .bind(col(cases, |c| c.place.outside_m))
        .bind(col(cases, |c| c.state.status.as_str()))
        .bind(col(cases, |c| c.state.level.as_str()))
        .bind(col(cases, |c| c.state.assignee.map(|w| w.0)))
        .bind(col(cases, |c| c.state.handler.map(|w| w.0)))
        .bind(time(|c| c.state.deadline))
        .bind(time(|c| c.escalate_at))
        .bind(col(cases, |c| i64::from(c.state.rework_count)))
        .bind(col(cases, |c| c.state.deferred))
        .bind(col(cases, |c| c.state.merged_into.map(|i| i.0)))
        .bind(col(cases, |c| c.state.resume_to.map(Status::as_str)))
        .bind(col(cases, |c| c.duplicate_of.map(|i| i.0)))
        .bind(col(cases, |c| c.reporter.map(|t| t.0)))
        .bind(col(cases, |c| c.created_at))
        .bind(col(cases, |c| c.updated_at))
        .execute(&mut **tx)
        .await
        .context("inserting incidents")?;
    Ok(())
}

async fn insert_history(tx: &mut Tx<PgDialect>, cases: &[Case]) -> Result<(), StoreError> {
    let rows: Vec<_> = cases
        .iter()
        .flat_map(|c| {
            (0_i64..)
                .zip(&c.history)
                .map(|(p, entry)| (c.state.id.0, p, entry))
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(include_str!("../sql/postgres/group_history.sql"))
        .bind(col(&rows, |r| r.0))
        .bind(col(&rows, |r| r.1))
        .bind(col(&rows, |r| r.2.at))
        .bind(col(&rows, |r| r.2.actor.worker.map(|w| w.0)))
        .bind(col(&rows, |r| r.2.actor.role.as_str()))
        .bind(col(&rows, |r| r.2.action.as_str()))
        .bind(col(&rows, |r| r.2.from.as_str()))
        .bind(col(&rows, |r| r.2.to.as_str()))
        .bind(col(&rows, |r| r.2.note.as_deref()))
        .bind(col(&rows, |r| detail_text(r.2.detail.as_ref())))
        .execute(&mut **tx)
        .await
        .context("appending incident history")?;
    Ok(())
}
