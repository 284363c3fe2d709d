//! The production dialect: `PostgreSQL` + `PostGIS` through sqlx, selected by
//! `DATABASE_URL=postgres://…`. [`PgStore`] is the shared store (`sql.rs`) over [`PgDialect`].
//!
//! Geometries go in as `GeoJSON` through `ST_GeomFromGeoJSON` into real `geometry(…, 4326)` columns, so
//! `QGIS` and `GDAL` open the tables directly, and come back through `ST_AsGeoJSON` (the texts in
//! `sql/postgres/`). They are a copy for GIS access: no spatial decision is taken here. Bulk inserts
//! (`bulk.rs`) send each column as an array to one `UNNEST` statement (a group of cases: `intake.rs`).
//! Every write takes one advisory lock just before appending its first event and numbers its events
//! after the log's last, read in a later statement (so its snapshot sees every append before the lock):
//! sequence numbers have no gaps and become visible in order, so a process tailing `seq > n` never
//! skips one. A trigger announces each append on `LISTEN gridwatch_events` (`follow.rs`).

mod intake;

use std::time::Duration;

use sqlx::Postgres;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};

use super::sql::bulk::{Bulk, Column};
use super::sql::conflict::Context;
use super::sql::{Dialect, SqlStore, Tx, statements};
use super::{StoreError, StoreKind, bad_url};
use crate::domain::{Case, Event};
use crate::follow::Hint;

/// The advisory lock that orders event appends across every gridwatch process on one database
/// (`gw_event`). SQL that appends events from outside names it in decimal, 7455532597517839988:
/// `tests/e2e/nodes.rs` and `server/benches/city_startup.sh`.
const EVENTS_LOCK: i64 = 0x6777_5f65_7665_6e74;
/// Where the `events_notify` trigger (migration 0016) announces appended events.
const EVENTS_CHANNEL: &str = "gridwatch_events";
const MAX_CONNECTIONS: u32 = 16;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// Rows a bulk insert sends in one statement (position fixes, an import's rows): bounds one message
/// to a few MB. One statement text whatever the chunk's size, so it is prepared once per connection
/// (a multi-row `VALUES` was planned again for every chunk size and kept the positions writer to
/// about 35,000 fixes/s, BENCHMARKS.md).
const ROWS_PER_INSERT: usize = 10_000;

/// `PostgreSQL`'s texts (`sql/postgres/`) and ways.
#[derive(Debug, Clone, Copy)]
pub struct PgDialect;

impl Dialect for PgDialect {
    type Db = Postgres;
    const KIND: StoreKind = StoreKind::Postgres;
    const SQL: statements::Statements<Self> = statements::POSTGRES;

    /// Waits for the events lock; held until the transaction ends. Taken at the end of a write, so it
    /// is held only from the first append to the commit.
    async fn lock_events(tx: &mut Tx<Self>) -> Result<(), StoreError> {
        sqlx::query(include_str!("sql/postgres/lock_events.sql"))
            .bind(EVENTS_LOCK)
            .execute(&mut **tx)
            .await
            .context("waiting for the events lock")?;
        Ok(())
    }

    /// `pg_current_xact_id()`: one more round trip a write, so a lost COMMIT answer can be settled.
    async fn transaction_id(tx: &mut Tx<Self>) -> Result<Option<i64>, StoreError> {
        let id: i64 = sqlx::query_scalar(include_str!("sql/postgres/transaction_id.sql"))
            .fetch_one(&mut **tx)
            .await
            .context("reading the transaction's id")?;
        Ok(Some(id))
    }

    /// `pg_xact_status`: `committed`, `aborted`, `in progress`, or nothing for a transaction too old
    /// to remember (never one just sent).
    async fn commit_status(pool: &sqlx::PgPool, id: i64) -> Result<Option<bool>, StoreError> {
        let status: Option<String> =
            sqlx::query_scalar(include_str!("sql/postgres/commit_status.sql"))
                .bind(id)
                .fetch_one(pool)
                .await
                .context("asking what became of a transaction")?;
        Ok(match status.as_deref() {
            Some("committed") => Some(true),
            Some("aborted") => Some(false),
            _ => None,
        })
    }

    /// `LISTEN gridwatch_events` on a connection of its own: the `events_notify` trigger (migration
    /// 0016) sends the last seq of every statement that appends events, when it commits.
    async fn listen_for_events(pool: &sqlx::PgPool, hint: &Hint) -> Result<(), StoreError> {
        let doing = "listening for appended events";
        let mut listener = PgListener::connect_with(pool).await.context(doing)?;
        listener.listen(EVENTS_CHANNEL).await.context(doing)?;
        // Appends made while nobody listened were not heard: the follower reads the log once now.
        hint.appended(None);
        loop {
            let notification = listener.recv().await.context(doing)?;
            hint.appended(notification.payload().parse().ok());
        }
    }

    /// `pg_try_advisory_lock` on a connection of its own, taken out of the pool: the lock is the
    /// session's, so it lasts while that connection does, and PostgreSQL lets it go when the
    /// connection ends (the process died, or the lease was dropped).
    async fn try_lease(
        pool: &sqlx::PgPool,
        key: i64,
    ) -> Result<Option<Box<dyn crate::lease::Lease>>, StoreError> {
        let doing = "taking a lease";
        let mut conn = pool.acquire().await.context(doing)?.detach();
        let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut conn)
            .await
            .context(doing)?;
        if taken {
            Ok(Some(Box::new(PgLease(conn))))
        } else {
            let _ = sqlx::Connection::close(conn).await;
            Ok(None)
        }
    }

    /// Four statements whatever the group's size, one events lock for all (`intake.rs`).
    async fn insert_cases(
        tx: &mut Tx<Self>,
        cases: &[Case],
    ) -> Result<Vec<(Case, Event)>, StoreError> {
        intake::insert_group(tx, cases).await
    }

    /// Each column as one array, [`ROWS_PER_INSERT`] rows a statement.
    async fn insert_bulk(tx: &mut Tx<Self>, bulk: Bulk<Self>) -> Result<(), StoreError> {
        for start in (0..bulk.rows).step_by(ROWS_PER_INSERT) {
            let rows = start..bulk.rows.min(start + ROWS_PER_INSERT);
            let mut insert = sqlx::query(bulk.sql.text());
            for column in &bulk.columns {
                let rows = rows.clone();
                insert = match column {
                    Column::Int(values) => insert.bind(&values[rows]),
                    Column::OptInt(values) => insert.bind(&values[rows]),
                    Column::Float(values) => insert.bind(&values[rows]),
                    Column::OptFloat(values) => insert.bind(&values[rows]),
                    Column::Bool(values) => insert.bind(&values[rows]),
                    Column::OptBool(values) => insert.bind(&values[rows]),
                    Column::Text(values) => insert.bind(&values[rows]),
                    Column::OptText(values) => insert.bind(&values[rows]),
                    Column::Time(values) => insert.bind(&values[rows]),
                    Column::OptTime(values) => insert.bind(&values[rows]),
                    Column::Same(value) => insert.bind(value),
                };
            }
            insert.execute(&mut **tx).await.context(bulk.doing)?;
        }
        Ok(())
    }
}

/// A lease held as a session advisory lock on its own connection (`Dialect::try_lease`).
struct PgLease(sqlx::PgConnection);

#[async_trait::async_trait]
impl crate::lease::Lease for PgLease {
    /// Asks the lease's connection to answer every `CHECK_EVERY`; lost when it does not in time.
    async fn lost(&mut self) {
        loop {
            tokio::time::sleep(crate::lease::CHECK_EVERY).await;
            let asked = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&mut self.0);
            match tokio::time::timeout(crate::lease::CHECK_WITHIN, asked).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => {
                    tracing::warn!(%error, "a lease's connection failed");
                    return;
                }
                Err(_) => {
                    tracing::warn!("a lease's connection did not answer in time");
                    return;
                }
            }
        }
    }
}

/// The `PostgreSQL` + `PostGIS` store. One pool per process.
pub type PgStore = SqlStore<PgDialect>;

impl PgStore {
    /// Connects with one pool and runs the migrations (the first creates the `postgis` extension).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url.parse().map_err(|e| bad_url(url, e))?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.application_name("gridwatch"))
            .await
            .context("connecting to PostgreSQL")?;
        sqlx::migrate!("../migrations/postgres").run(&pool).await?;
        Ok(Self::from_pool(pool))
    }
}
