//! The embedded dialect: one `SQLite` file through sqlx, so `gridwatch demo` and `serve` need no
//! database server. [`SqliteStore`] is the shared store (`sql.rs`) over [`SqliteDialect`].
//!
//! Durability: WAL journal with `synchronous=FULL`, so a write acknowledged to a client has been synced
//! to disk and survives SIGKILL and power loss. Every write begins `IMMEDIATE`
//! (`sql/sqlite/begin_write.sql`), taking the write lock up front: concurrent writers queue on the busy
//! timeout instead of failing a lock upgrade, and event sequence numbers commit in order with no lock
//! of their own. Geometries are `GeoJSON` text; no spatial logic lives here. Bulk inserts (an import,
//! position fixes, a community's cells) are multi-row `VALUES` of at most [`MAX_BINDS`] values a
//! statement; a group of new cases goes one case after another (one commit, one sync, for all).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::query_builder::Separated;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite};

use super::payload::codec::{cell_to_i64, flag_text, geojson_text};
use super::payload::conflict::Context;
use super::payload::fixes::{attributes_text, flags_text};
use super::sql::{Bulk, Dialect, SqlStore, Tx, statements};
use super::{StoreError, StoreKind, bad_url};
use crate::domain::Fix;

/// The database file [`SqliteStore::open_dir`] keeps inside its directory.
pub const FILE_NAME: &str = "gridwatch.db";

/// How long a writer waits for another's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// Readers run in parallel under WAL; writers queue on the lock.
const MAX_CONNECTIONS: u32 = 8;
/// Bound values a multi-row INSERT may carry; `SQLite` accepts at most 32 766.
const MAX_BINDS: usize = 32_000;

/// The `SQLite` store. One pool per process.
pub type SqliteStore = SqlStore<SqliteDialect>;

/// `SQLite`'s texts (`sql/sqlite/`) and ways.
#[derive(Debug, Clone, Copy)]
pub struct SqliteDialect;

impl SqliteStore {
    /// Opens (creating if needed) the database named by a `sqlite:` URL and runs the migrations.
    /// `sqlite::memory:` gives a private in-memory database that lives as long as the store.
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url).map_err(|e| bad_url(url, e))?;
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        Self::open_with(options, in_memory).await
    }

    /// Opens (creating the directory and file if needed) `gridwatch.db` inside `dir`.
    pub async fn open_dir(dir: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new().filename(dir.join(FILE_NAME));
        Self::open_with(options, false).await
    }

    async fn open_with(options: SqliteConnectOptions, in_memory: bool) -> Result<Self, StoreError> {
        if !in_memory
            && let Some(dir) = options.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| StoreError::Database {
                    context: "creating the data directory",
                    source: sqlx::Error::Io(e),
                })?;
        }
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        // An in-memory database lives only while a connection holds it: keep exactly one, forever.
        let pool = if in_memory {
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(MAX_CONNECTIONS)
        };
        let pool = pool
            .connect_with(options)
            .await
            .context("opening the SQLite database")?;
        sqlx::migrate!("../migrations/sqlite").run(&pool).await?;
        Ok(Self::from_pool(pool))
    }
}

impl Dialect for SqliteDialect {
    type Db = Sqlite;
    const KIND: StoreKind = StoreKind::Sqlite;
    const SQL: statements::Statements<Self> = statements::SQLITE;

    async fn insert_bulk(tx: &mut Tx<Self>, rows: Bulk<'_>) -> Result<(), StoreError> {
        match rows {
            Bulk::Grids(grids, communities) => {
                let rows: Vec<_> = grids.iter().zip(communities).collect();
                let sql = include_str!("sql/sqlite/insert_grids.sql");
                insert_values(
                    tx,
                    sql,
                    &rows,
                    7,
                    "importing grids",
                    |mut row, (grid, community)| {
                        row.push_bind(&grid.code)
                            .push_bind(&grid.name)
                            .push_bind(**community)
                            .push_bind(i64::from(grid.households))
                            .push_bind(i64::from(grid.building_count))
                            .push_bind(flag_text(grid.flag.as_ref()))
                            .push_bind(geojson_text(&grid.boundary));
                    },
                )
                .await
            }
            Bulk::Cells(cells, owners, doing) => {
                let rows: Vec<_> = cells.iter().zip(owners).collect();
                let sql = include_str!("sql/sqlite/insert_cells.sql");
                insert_values(tx, sql, &rows, 2, doing, |mut row, (cell, grid)| {
                    row.push_bind(**cell).push_bind(**grid);
                })
                .await
            }
            Bulk::Buildings(buildings, grids) => {
                let rows: Vec<_> = buildings.iter().map(|(b, _)| b).zip(grids).collect();
                let sql = include_str!("sql/sqlite/insert_buildings.sql");
                insert_values(
                    tx,
                    sql,
                    &rows,
                    7,
                    "importing buildings",
                    |mut row, (b, grid)| {
                        row.push_bind(&b.source_id)
                            .push_bind(geojson_text(&b.footprint))
                            .push_bind(&b.kind)
                            .push_bind(b.levels.map(i64::from))
                            .push_bind(i64::from(b.households))
                            .push_bind(cell_to_i64(b.cell))
                            .push_bind(**grid);
                    },
                )
                .await
            }
            Bulk::BaseLines(lines) => {
                let sql = include_str!("sql/sqlite/insert_base_lines.sql");
                insert_values(
                    tx,
                    sql,
                    lines,
                    3,
                    "importing base-map lines",
                    |mut row, line| {
                        let geometry = geojson_text(&line.geometry);
                        row.push_bind(&line.kind)
                            .push_bind(&line.name)
                            .push_bind(geometry);
                    },
                )
                .await
            }
            Bulk::BaseAreas(areas) => {
                let sql = include_str!("sql/sqlite/insert_base_areas.sql");
                insert_values(
                    tx,
                    sql,
                    areas,
                    3,
                    "importing base-map areas",
                    |mut row, area| {
                        let geometry = geojson_text(&area.geometry);
                        row.push_bind(&area.kind)
                            .push_bind(&area.name)
                            .push_bind(geometry);
                    },
                )
                .await
            }
            Bulk::Fixes(fixes, received_at) => {
                let sql = include_str!("sql/sqlite/insert_fixes.sql");
                insert_values(tx, sql, fixes, 13, "inserting positions", |row, fix| {
                    push_fix(row, fix, received_at);
                })
                .await
            }
        }
    }
}

fn push_fix(mut row: Separated<'_, Sqlite, &'static str>, fix: &Fix, received_at: DateTime<Utc>) {
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
}

/// Inserts `rows` as `prefix` (a `sql/sqlite/` text) and multi-row `VALUES`, `width` values a row,
/// at most [`MAX_BINDS`] values a statement; `push` binds one row's values. The one SQL built at run
/// time: the number of rows in the `VALUES` list is the chunk's.
async fn insert_values<T>(
    conn: &mut SqliteConnection,
    prefix: &'static str,
    rows: &[T],
    width: usize,
    doing: &'static str,
    mut push: impl FnMut(Separated<'_, Sqlite, &'static str>, &T) + Send,
) -> Result<(), StoreError> {
    for chunk in rows.chunks(MAX_BINDS / width) {
        let mut insert = QueryBuilder::new(prefix);
        insert.push_values(chunk, &mut push);
        insert.build().execute(&mut *conn).await.context(doing)?;
    }
    Ok(())
}
