//! Position fixes on PostgreSQL: each chunk of a group commit is one `INSERT … SELECT FROM UNNEST` of
//! column arrays, and a worker's track by time.
//!
//! One statement text whatever the chunk's size, so it is prepared once per connection and reused; a
//! multi-row `VALUES` with 16 binds a row was a new statement for every chunk size, parsed and planned
//! again each time, and kept the positions writer to about 35,000 fixes/s (BENCHMARKS.md).

use chrono::{DateTime, Utc};

use super::PgStore;
use crate::domain::{Fix, WorkerId};
use crate::store::StoreError;
use crate::store::payload::conflict::Context;
use crate::store::payload::fixes::{FIX_COLUMNS, FixRow, attributes_text, flags_text};

/// Rows per statement: bounds one message to a few MB.
const ROWS_PER_INSERT: usize = 10_000;

const INSERT: &str = "INSERT INTO positions (worker_id, at, received_at, lat, lon, location, accuracy_m, speed_mps, \
     heading_deg, altitude_m, battery_pct, moving, flags, attributes) \
     SELECT w, a, $1, la, lo, ST_SetSRID(ST_MakePoint(lo, la), 4326), acc, spd, hd, alt, bat, mv, fl::jsonb, att::jsonb \
     FROM UNNEST($2::bigint[], $3::timestamptz[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], \
     $8::float8[], $9::float8[], $10::float8[], $11::bool[], $12::text[], $13::text[]) \
     AS t(w, a, la, lo, acc, spd, hd, alt, bat, mv, fl, att)";

pub(super) async fn insert(
    store: &PgStore,
    fixes: &[Fix],
    received_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    if fixes.is_empty() {
        return Ok(());
    }
    let mut tx = store.begin_write("starting a positions insert").await?;
    for chunk in fixes.chunks(ROWS_PER_INSERT) {
        let column = |f: fn(&Fix) -> Option<f64>| chunk.iter().map(f).collect::<Vec<Option<f64>>>();
        sqlx::query(INSERT)
            .bind(received_at)
            .bind(chunk.iter().map(|f| f.worker.0).collect::<Vec<i64>>())
            .bind(chunk.iter().map(|f| f.at).collect::<Vec<DateTime<Utc>>>())
            .bind(chunk.iter().map(|f| f.lat).collect::<Vec<f64>>())
            .bind(chunk.iter().map(|f| f.lon).collect::<Vec<f64>>())
            .bind(column(|f| f.accuracy_m))
            .bind(column(|f| f.speed_mps))
            .bind(column(|f| f.heading_deg))
            .bind(column(|f| f.altitude_m))
            .bind(column(|f| f.battery_pct))
            .bind(
                chunk
                    .iter()
                    .map(|f| f.moving)
                    .collect::<Vec<Option<bool>>>(),
            )
            .bind(chunk.iter().map(flags_text).collect::<Vec<String>>())
            .bind(chunk.iter().map(attributes_text).collect::<Vec<String>>())
            .execute(&mut *tx)
            .await
            .context("inserting positions")?;
    }
    tx.commit().await.context("committing positions")?;
    Ok(())
}

pub(super) async fn track(
    store: &PgStore,
    worker: WorkerId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Fix>, StoreError> {
    let columns = FIX_COLUMNS.replace(
        "flags, attributes",
        "flags::text AS flags, attributes::text AS attributes",
    );
    let sql = format!(
        "SELECT {columns} FROM positions WHERE worker_id = $1 AND at >= $2 AND at < $3 ORDER BY at, id LIMIT $4"
    );
    let rows: Vec<FixRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(worker.0)
        .bind(from)
        .bind(to)
        .bind(i64::from(limit))
        .fetch_all(&store.pool)
        .await
        .context("loading a track")?;
    rows.into_iter().map(FixRow::into_fix).collect()
}
