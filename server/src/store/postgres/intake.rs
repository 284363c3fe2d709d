//! A group of new cases on PostgreSQL in a fixed number of round trips, whatever the group's size.
//!
//! The intake writer commits every report waiting in one transaction (ARCHITECTURE.md, "group commit").
//! Written one case at a time, a group of `n` cost `3n` statements, each a round trip and two task
//! wake-ups; after a slow commit the group that queued behind it is the largest and paid the most, which
//! is where the latency tail came from. Here a group is always four statements after `BEGIN`:
//!
//! 1. take the events lock and draw the group's case ids and event sequence numbers (one `SELECT`);
//! 2. every case row (`INSERT … SELECT FROM UNNEST` of column arrays);
//! 3. every history row of every case (the same);
//! 4. every `incident.created` event (the same).
//!
//! The ids and sequence numbers are drawn from the tables' own sequences while the events lock is held,
//! so events still become visible in sequence order, and the ids are known before the rows are written:
//! nothing depends on the order `RETURNING` hands rows back. One statement text a step, so each is
//! prepared once per connection.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::EVENTS_LOCK;
use crate::domain::event::IncidentSummary;
use crate::domain::incident::Status;
use crate::domain::{Case, Change, Event, IncidentId};
use crate::store::StoreError;
use crate::store::payload::codec::{self, cell_to_i64};
use crate::store::payload::conflict::Context;
use crate::store::payload::incidents::detail_text;

/// Takes the events lock (held to the end of the transaction), then draws `$2` case ids and `$2` event
/// sequence numbers. The lock's one-row subquery is joined before any row is projected, so every
/// `nextval` runs after the lock is held.
const DRAW_IDS: &str = "SELECT nextval(pg_get_serial_sequence('incidents', 'id')) AS id, \
     nextval(pg_get_serial_sequence('events', 'seq')) AS seq \
     FROM (SELECT pg_advisory_xact_lock($1)) AS locked, generate_series(1, $2) AS n \
     ORDER BY 1";

const INSERT_CASES: &str = "INSERT INTO incidents (id, category_code, priority, source, kind, description, lat, lon, \
     cell, location, grid_id, community_id, street_id, district_id, outside_m, status, level, assignee_id, handler_id, \
     deadline, escalate_at, rework_count, deferred, merged_into, resume_to, duplicate_of, reporter_token_id, \
     created_at, updated_at) OVERRIDING SYSTEM VALUE \
     SELECT id, cat, pri, src, knd, descr, la, lo, cl, ST_SetSRID(ST_MakePoint(lo, la), 4326), g, cm, st, dis, om, \
     stat, lvl, asg, hdl, dl, esc, rw, df, mi, rt, dup, rep, ca, ua \
     FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], \
     $8::float8[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::float8[], \
     $15::text[], $16::text[], $17::bigint[], $18::bigint[], $19::timestamptz[], $20::timestamptz[], \
     $21::bigint[], $22::bool[], $23::bigint[], $24::text[], $25::bigint[], $26::bigint[], $27::timestamptz[], \
     $28::timestamptz[]) \
     AS t(id, cat, pri, src, knd, descr, la, lo, cl, g, cm, st, dis, om, stat, lvl, asg, hdl, dl, esc, rw, df, mi, \
     rt, dup, rep, ca, ua)";

const INSERT_HISTORY: &str = "INSERT INTO incident_history (incident_id, position, at, actor_worker_id, actor_role, \
     action, from_status, to_status, note, detail) \
     SELECT i, p, a, w, r, act, fs, ts, n, d::jsonb \
     FROM UNNEST($1::bigint[], $2::bigint[], $3::timestamptz[], $4::bigint[], $5::text[], $6::text[], \
     $7::text[], $8::text[], $9::text[], $10::text[]) AS t(i, p, a, w, r, act, fs, ts, n, d)";

const INSERT_EVENTS: &str = "INSERT INTO events (seq, at, kind, payload) \
     SELECT s, a, k, p::jsonb FROM UNNEST($1::bigint[], $2::timestamptz[], $3::text[], $4::text[]) AS t(s, a, k, p)";

/// Stores `cases` (ids ignored) with their histories and one `incident.created` event each, in the
/// caller's transaction, and returns each stored case with its event, in the order given: ids and
/// sequence numbers rise with that order.
pub(super) async fn insert_group(
    conn: &mut PgConnection,
    cases: &[Case],
) -> Result<Vec<(Case, Event)>, StoreError> {
    if cases.is_empty() {
        return Ok(Vec::new());
    }
    let n = i32::try_from(cases.len())
        .map_err(|_| StoreError::Conflict("too many cases in one group".into()))?;
    let drawn: Vec<(i64, i64)> = sqlx::query_as(DRAW_IDS)
        .bind(EVENTS_LOCK)
        .bind(n)
        .fetch_all(&mut *conn)
        .await
        .context("drawing incident ids and event numbers")?;
    // Each row draws its id and its sequence number together, so ordered by id the sequence numbers
    // rise too; the events lock keeps every other writer off the events sequence meanwhile.
    let mut stored: Vec<Case> = cases.to_vec();
    for (case, (id, _)) in stored.iter_mut().zip(&drawn) {
        case.state.id = IncidentId(*id);
    }
    insert_rows(conn, &stored).await?;
    insert_histories(conn, &stored).await?;

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
    sqlx::query(INSERT_EVENTS)
        .bind(events.iter().map(|e| e.seq).collect::<Vec<i64>>())
        .bind(events.iter().map(|e| e.at).collect::<Vec<DateTime<Utc>>>())
        .bind(
            events
                .iter()
                .map(|e| e.change.kind())
                .collect::<Vec<&str>>(),
        )
        .bind(
            events
                .iter()
                .map(|e| e.change.payload_text())
                .collect::<Vec<String>>(),
        )
        .execute(&mut *conn)
        .await
        .context("appending incident events")?;
    Ok(stored.into_iter().zip(events).collect())
}

async fn insert_rows(conn: &mut PgConnection, cases: &[Case]) -> Result<(), StoreError> {
    let col = |f: fn(&Case) -> Option<i64>| cases.iter().map(f).collect::<Vec<Option<i64>>>();
    let text = |f: fn(&Case) -> &str| {
        cases
            .iter()
            .map(|c| f(c).to_owned())
            .collect::<Vec<String>>()
    };
    let time = |f: fn(&Case) -> Option<DateTime<Utc>>| {
        cases.iter().map(f).collect::<Vec<Option<DateTime<Utc>>>>()
    };
    sqlx::query(INSERT_CASES)
        .bind(cases.iter().map(|c| c.state.id.0).collect::<Vec<i64>>())
        .bind(text(|c| &c.category))
        .bind(text(|c| c.priority.as_str()))
        .bind(text(|c| c.source.as_str()))
        .bind(text(|c| c.kind.as_str()))
        .bind(text(|c| &c.description))
        .bind(cases.iter().map(|c| c.place.lat).collect::<Vec<f64>>())
        .bind(cases.iter().map(|c| c.place.lon).collect::<Vec<f64>>())
        .bind(
            cases
                .iter()
                .map(|c| cell_to_i64(c.place.cell))
                .collect::<Vec<i64>>(),
        )
        .bind(cases.iter().map(|c| c.place.grid.0).collect::<Vec<i64>>())
        .bind(
            cases
                .iter()
                .map(|c| c.place.community.0)
                .collect::<Vec<i64>>(),
        )
        .bind(col(|c| c.place.street.map(|r| r.0)))
        .bind(col(|c| c.place.district.map(|r| r.0)))
        .bind(
            cases
                .iter()
                .map(|c| c.place.outside_m)
                .collect::<Vec<Option<f64>>>(),
        )
        .bind(text(|c| c.state.status.as_str()))
        .bind(text(|c| c.state.level.as_str()))
        .bind(col(|c| c.state.assignee.map(|w| w.0)))
        .bind(col(|c| c.state.handler.map(|w| w.0)))
        .bind(time(|c| c.state.deadline))
        .bind(time(|c| c.escalate_at))
        .bind(
            cases
                .iter()
                .map(|c| i64::from(c.state.rework_count))
                .collect::<Vec<i64>>(),
        )
        .bind(
            cases
                .iter()
                .map(|c| c.state.deferred)
                .collect::<Vec<bool>>(),
        )
        .bind(col(|c| c.state.merged_into.map(|i| i.0)))
        .bind(
            cases
                .iter()
                .map(|c| c.state.resume_to.map(|s| Status::as_str(s).to_owned()))
                .collect::<Vec<_>>(),
        )
        .bind(col(|c| c.duplicate_of.map(|i| i.0)))
        .bind(col(|c| c.reporter.map(|t| t.0)))
        .bind(
            cases
                .iter()
                .map(|c| c.created_at)
                .collect::<Vec<DateTime<Utc>>>(),
        )
        .bind(
            cases
                .iter()
                .map(|c| c.updated_at)
                .collect::<Vec<DateTime<Utc>>>(),
        )
        .execute(&mut *conn)
        .await
        .context("inserting incidents")?;
    Ok(())
}

async fn insert_histories(conn: &mut PgConnection, cases: &[Case]) -> Result<(), StoreError> {
    let rows: Vec<(i64, i64, &crate::domain::incident::HistoryEntry)> = cases
        .iter()
        .flat_map(|c| {
            (0_i64..)
                .zip(&c.history)
                .map(move |(position, entry)| (c.state.id.0, position, entry))
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(INSERT_HISTORY)
        .bind(rows.iter().map(|r| r.0).collect::<Vec<i64>>())
        .bind(rows.iter().map(|r| r.1).collect::<Vec<i64>>())
        .bind(rows.iter().map(|r| r.2.at).collect::<Vec<DateTime<Utc>>>())
        .bind(
            rows.iter()
                .map(|r| r.2.actor.worker.map(|w| w.0))
                .collect::<Vec<Option<i64>>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.2.actor.role.as_str().to_owned())
                .collect::<Vec<String>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.2.action.clone())
                .collect::<Vec<String>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.2.from.as_str().to_owned())
                .collect::<Vec<String>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.2.to.as_str().to_owned())
                .collect::<Vec<String>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.2.note.clone())
                .collect::<Vec<Option<String>>>(),
        )
        .bind(
            rows.iter()
                .map(|r| detail_text(r.2.detail.as_ref()))
                .collect::<Vec<Option<String>>>(),
        )
        .execute(&mut *conn)
        .await
        .context("appending incident history")?;
    Ok(())
}
