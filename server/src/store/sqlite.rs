//! The embedded dialect: one `SQLite` file through sqlx, so `gridwatch demo` and `serve` need no
//! database server. [`SqliteStore`] is the shared store (`sql.rs`) over [`SqliteDialect`].
//!
//! Durability: WAL journal with `synchronous=FULL`, so a write acknowledged to a client has been synced
//! to disk and survives SIGKILL and power loss. Every write begins `IMMEDIATE`
//! (`sql/sqlite/begin_write.sql`), taking the write lock up front: concurrent writers queue on the busy
//! timeout instead of failing a lock upgrade, and event sequence numbers commit in order with no lock
//! of their own. Geometries are `GeoJSON` text; no spatial logic lives here. Bulk inserts (`bulk.rs`:
//! an import, fixes, cells, history, duties) are multi-row `VALUES` of at most [`MAX_BINDS`] values a
//! statement; a group of new cases goes one case after another (one commit, one sync, for all).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::query_builder::Separated;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite};

use super::sql::bulk::{Bulk, Column};
use super::sql::conflict::Context;
use super::sql::{Dialect, SqlStore, Tx, statements};
use super::{StoreError, StoreKind, bad_url};

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

    /// Multi-row `VALUES` after the statement's column list, at most [`MAX_BINDS`] values a
    /// statement. The one SQL built at run time: the number of rows in the list is the chunk's.
    async fn insert_bulk(tx: &mut Tx<Self>, bulk: Bulk<Self>) -> Result<(), StoreError> {
        let per_insert = MAX_BINDS / bulk.columns.len();
        for start in (0..bulk.rows).step_by(per_insert) {
            let mut insert = QueryBuilder::new(bulk.sql.text());
            let rows = start..bulk.rows.min(start + per_insert);
            insert.push_values(rows, |mut row, i| {
                for column in &bulk.columns {
                    push(&mut row, column, i);
                }
            });
            insert
                .build()
                .execute(&mut **tx)
                .await
                .context(bulk.doing)?;
        }
        Ok(())
    }
}

/// Binds row `i`'s value of `column`.
fn push(row: &mut Separated<'_, Sqlite, &'static str>, column: &Column, i: usize) {
    match column {
        Column::Int(values) => row.push_bind(values[i]),
        Column::OptInt(values) => row.push_bind(values[i]),
        Column::Float(values) => row.push_bind(values[i]),
        Column::OptFloat(values) => row.push_bind(values[i]),
        Column::Bool(values) => row.push_bind(values[i]),
        Column::OptBool(values) => row.push_bind(values[i]),
        Column::Text(values) => row.push_bind(&values[i]),
        Column::OptText(values) => row.push_bind(&values[i]),
        Column::Time(values) => row.push_bind(values[i]),
        Column::OptTime(values) => row.push_bind(values[i]),
        Column::Same(value) => row.push_bind(*value),
    };
}
