//! A group of new cases on PostgreSQL in a fixed number of round trips, whatever the group's size.
//!
//! The intake writer commits every report waiting in one transaction (ARCHITECTURE.md, "group commit").
//! Written one case at a time, a group of `n` cost `3n` statements, each a round trip and two task
//! wake-ups; after a slow commit the group that queued behind it is the largest and paid the most, which
//! is where the latency tail came from. Here a group is always five statements after `BEGIN`:
//!
//! 1. take the events lock (`lock_events.sql`), then, in a statement of its own whose snapshot sees every
//!    event committed before the lock was taken, draw the group's case ids and the event sequence
//!    numbers that follow the log's last (`group_ids.sql`);
//! 2. every case row (`group_incidents.sql`: `INSERT … SELECT FROM UNNEST` of column arrays);
//! 3. every history row of every case (`insert_history.sql`, the same);
//! 4. every `incident.created` event (`group_events.sql`, the same).
//!
//! The ids and sequence numbers are drawn while the events lock is held, so events become visible in
//! sequence order with no gap (several nodes follow the log by seq: `follow.rs`), and the ids are known before the rows are written:
//! nothing depends on the order `RETURNING` hands rows back. One statement text a step, so each is
//! prepared once per connection.

use super::PgDialect;
use crate::domain::event::IncidentSummary;
use crate::domain::{Case, Change, Event, IncidentId};
use crate::store::StoreError;
use crate::store::sql::bulk::{Bulk, Column, col, history_rows, incident_columns};
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
    PgDialect::lock_events(tx).await?;
    let drawn: Vec<(i64, i64)> = sqlx::query_as(include_str!("../sql/postgres/group_ids.sql"))
        .bind(n)
        .fetch_all(&mut **tx)
        .await
        .context("drawing incident ids and event numbers")?;
    // Ids and sequence numbers rise together; the events lock keeps every other writer off the log
    // until this transaction ends.
    let mut stored: Vec<Case> = cases.to_vec();
    for (case, (id, _)) in stored.iter_mut().zip(&drawn) {
        case.state.id = IncidentId(*id);
    }
    let mut columns = incident_columns(&stored);
    columns.insert(0, Column::Int(col(&drawn, |(id, _)| *id)));
    let sql = Sql::new(include_str!("../sql/postgres/group_incidents.sql"));
    PgDialect::insert_bulk(tx, Bulk::new(sql, columns, "inserting incidents")).await?;
    let mut history = Vec::new();
    for case in &stored {
        history.extend(history_rows(case.id(), 0, &case.history)?);
    }
    PgDialect::insert_bulk(tx, Bulk::history(&history)).await?;

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
    let columns = vec![
        Column::Int(col(&events, |e| e.seq)),
        Column::Time(col(&events, |e| e.at)),
        Column::Text(col(&events, |e| e.change.kind().into())),
        Column::Text(col(&events, |e| e.change.payload_text().into())),
    ];
    let sql = Sql::new(include_str!("../sql/postgres/group_events.sql"));
    PgDialect::insert_bulk(tx, Bulk::new(sql, columns, "appending incident events")).await?;
    tx.note_events(&events);
    Ok(stored.into_iter().zip(events).collect())
}
