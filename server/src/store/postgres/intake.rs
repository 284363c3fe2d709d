//! A group of new cases on PostgreSQL in a fixed number of round trips, whatever the group's size.
//!
//! The intake writer commits every report waiting in one transaction (ARCHITECTURE.md, "group commit").
//! Written one case at a time, a group of `n` cost `3n` statements, each a round trip and two task
//! wake-ups; after a slow commit the group that queued behind it is the largest and paid the most, which
//! is where the latency tail came from. Here a group is always five statements after `BEGIN`:
//!
//! 1. take the events lock and draw the group's case ids (`group_ids.sql`);
//! 2. every case row (`group_incidents.sql`: `INSERT … SELECT FROM UNNEST` of column arrays);
//! 3. every history row of every case (`insert_history.sql`, the same);
//! 4. every `incident.created` event, numbered after the log's last (`group_events.sql`, the same,
//!    `RETURNING seq`).
//!
//! The events are numbered in a statement that starts after the events lock was granted, so its
//! snapshot sees every event committed before: events become visible in sequence order with no gap
//! (several nodes follow the log by seq: `follow.rs`). The ids are known before the rows are written,
//! and the numbers rise with the order given, so nothing depends on the order `RETURNING` hands rows
//! back. One statement text a step, so each is
//! prepared once per connection.

use super::PgDialect;
use crate::domain::event::IncidentSummary;
use crate::domain::{Case, Change, Event, IncidentId};
use crate::store::StoreError;
use crate::store::sql::bulk::{Bulk, Column, history_rows, incident_columns};
use crate::store::sql::codec;
use crate::store::sql::conflict::Context;
use crate::store::sql::driver::Sql;
use crate::store::sql::{Dialect, Tx};

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
    let ids: Vec<i64> = sqlx::query_scalar(include_str!("../sql/postgres/group_ids.sql"))
        .bind(super::EVENTS_LOCK)
        .bind(n)
        .fetch_all(&mut **tx)
        .await
        .context("taking the events lock and drawing incident ids")?;
    let mut stored: Vec<Case> = cases.to_vec();
    for (case, id) in stored.iter_mut().zip(&ids) {
        case.state.id = IncidentId(*id);
    }
    let mut columns = incident_columns(&stored);
    columns.insert(0, Column::Int(ids));
    let sql = Sql::new(include_str!("../sql/postgres/group_incidents.sql"));
    PgDialect::insert_bulk(tx, Bulk::new(sql, columns, "inserting incidents")).await?;
    let mut history = Vec::new();
    for case in &stored {
        history.extend(history_rows(case.id(), 0, &case.history)?);
    }
    PgDialect::insert_bulk(tx, Bulk::history(&history)).await?;

    let at = codec::now();
    let changes: Vec<Change> = stored
        .iter()
        .map(|case| Change::IncidentCreated(Box::new(IncidentSummary::of(case))))
        .collect();
    let kinds: Vec<String> = changes.iter().map(|c| c.kind().to_owned()).collect();
    let payloads: Vec<String> = changes.iter().map(Change::payload_text).collect();
    let mut seqs: Vec<i64> = sqlx::query_scalar(include_str!("../sql/postgres/group_events.sql"))
        .bind(vec![at; changes.len()])
        .bind(kinds)
        .bind(payloads)
        .fetch_all(&mut **tx)
        .await
        .context("appending incident events")?;
    // The numbers rise with the order given; `RETURNING` promises no order of its own.
    seqs.sort_unstable();
    let events: Vec<Event> = changes
        .into_iter()
        .zip(seqs)
        .map(|(change, seq)| Event { seq, at, change })
        .collect();
    tx.note_events(&events);
    Ok(stored.into_iter().zip(events).collect())
}
