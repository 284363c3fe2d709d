//! Position fixes on SQLite: multi-row inserts in one transaction, and a worker's track by time.

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite};

use super::SqliteStore;
use crate::domain::{Fix, WorkerId};
use crate::store::StoreError;
use crate::store::payload::conflict::Context;
use crate::store::payload::fixes::{FIX_COLUMNS, FixRow, attributes_text, flags_text};

/// Rows per INSERT: 15 binds a row stays under SQLite's 32,766 bound parameters.
const ROWS_PER_INSERT: usize = 2000;

pub(super) async fn insert(
    store: &SqliteStore,
    fixes: &[Fix],
    received_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    if fixes.is_empty() {
        return Ok(());
    }
    let mut tx = store.begin_write("starting a positions insert").await?;
    for chunk in fixes.chunks(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO positions (worker_id, at, received_at, lat, lon, accuracy_m, speed_mps, heading_deg, \
             altitude_m, battery_pct, moving, flags, attributes) ",
        );
        insert.push_values(chunk, |mut row, fix| {
            row.push_bind(fix.worker.0)
                .push_bind(fix.at)
                .push_bind(received_at)
                .push_bind(fix.lat)
                .push_bind(fix.lon)
                .push_bind(fix.accuracy_m)
                .push_bind(fix.speed_mps)
                .push_bind(fix.heading_deg)
                .push_bind(fix.altitude_m)
                .push_bind(fix.battery_pct)
                .push_bind(fix.moving)
                .push_bind(flags_text(fix))
                .push_bind(attributes_text(fix));
        });
        insert
            .build()
            .execute(&mut *tx)
            .await
            .context("inserting positions")?;
    }
    tx.commit().await.context("committing positions")?;
    Ok(())
}

pub(super) async fn track(
    store: &SqliteStore,
    worker: WorkerId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Fix>, StoreError> {
    let sql = format!(
        "SELECT {FIX_COLUMNS} FROM positions WHERE worker_id = ? AND at >= ? AND at < ? ORDER BY at, id LIMIT ?"
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
