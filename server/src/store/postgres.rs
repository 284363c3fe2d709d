//! The production dialect: `PostgreSQL` + `PostGIS` through sqlx, selected by
//! `DATABASE_URL=postgres://…`. [`PgStore`] is the shared store (`sql.rs`) over [`PgDialect`].
//!
//! Geometries go in as `GeoJSON` through `ST_GeomFromGeoJSON` into real `geometry(…, 4326)` columns, so
//! `QGIS` and `GDAL` open the tables directly, and come back through `ST_AsGeoJSON` (the texts in
//! `sql/postgres/`). They are a copy for GIS access: no spatial decision is taken here. Bulk inserts
//! send each table as parallel arrays in one `UNNEST` statement (a group of new cases: `intake.rs`).
//! Every write takes one advisory lock just before appending its first event, so sequence numbers
//! become visible in order and a process tailing `seq > n` never skips one.

mod intake;

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, Postgres};

use super::payload::codec::{cell_to_i64, flag_text, geojson_text};
use super::payload::conflict::Context;
use super::payload::fixes::{attributes_text, flags_text};
use super::sql::{Bulk, Dialect, SqlStore, Tx, statements};
use super::{StoreError, StoreKind, bad_url};
use crate::domain::{Case, Event, Fix};

/// The advisory lock that orders event appends across every gridwatch process on one database.
const EVENTS_LOCK: i64 = 0x6777_5f65_7665_6e74; // "gw_event"
const MAX_CONNECTIONS: u32 = 16;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// Position fixes a statement: bounds one message to a few MB. One statement text whatever the chunk's
/// size, so it is prepared once per connection (a multi-row `VALUES` was planned again for every chunk
/// size and kept the positions writer to about 35,000 fixes/s, BENCHMARKS.md).
const FIXES_PER_INSERT: usize = 10_000;

/// `PostgreSQL`'s texts (`sql/postgres/`) and ways.
#[derive(Debug, Clone, Copy)]
pub struct PgDialect;

/// One column of `items`, for an `UNNEST` of parallel arrays.
fn col<'a, T, U>(items: &'a [T], column: impl Fn(&'a T) -> U) -> Vec<U> {
    items.iter().map(column).collect()
}

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

    /// Four statements whatever the group's size, one events lock for all (`intake.rs`).
    async fn insert_cases(
        tx: &mut Tx<Self>,
        cases: &[Case],
    ) -> Result<Vec<(Case, Event)>, StoreError> {
        intake::insert_group(tx, cases).await
    }

    async fn insert_bulk(tx: &mut Tx<Self>, rows: Bulk<'_>) -> Result<(), StoreError> {
        let (insert, doing) = match rows {
            Bulk::Grids(grids, communities) => {
                let insert = sqlx::query(include_str!("sql/postgres/insert_grids.sql"))
                    .bind(col(grids, |g| g.code.as_str()))
                    .bind(col(grids, |g| g.name.as_str()))
                    .bind(communities)
                    .bind(col(grids, |g| i64::from(g.households)))
                    .bind(col(grids, |g| i64::from(g.building_count)))
                    .bind(col(grids, |g| flag_text(g.flag.as_ref())))
                    .bind(col(grids, |g| geojson_text(&g.boundary)));
                (insert, "importing grids")
            }
            Bulk::Cells(cells, owners, doing) => {
                let insert = sqlx::query(include_str!("sql/postgres/insert_cells.sql"));
                (insert.bind(cells).bind(owners), doing)
            }
            Bulk::Buildings(buildings, grids) => {
                let buildings: Vec<_> = buildings.iter().map(|(b, _)| b).collect();
                let insert = sqlx::query(include_str!("sql/postgres/insert_buildings.sql"))
                    .bind(col(&buildings, |b| b.source_id.as_deref()))
                    .bind(col(&buildings, |b| geojson_text(&b.footprint)))
                    .bind(col(&buildings, |b| b.kind.as_str()))
                    .bind(col(&buildings, |b| b.levels.map(i64::from)))
                    .bind(col(&buildings, |b| i64::from(b.households)))
                    .bind(col(&buildings, |b| cell_to_i64(b.cell)))
                    .bind(grids);
                (insert, "importing buildings")
            }
            Bulk::BaseLines(lines) => {
                let insert = sqlx::query(include_str!("sql/postgres/insert_base_lines.sql"))
                    .bind(col(lines, |l| l.kind.as_str()))
                    .bind(col(lines, |l| l.name.as_deref()))
                    .bind(col(lines, |l| geojson_text(&l.geometry)));
                (insert, "importing base-map lines")
            }
            Bulk::BaseAreas(areas) => {
                let insert = sqlx::query(include_str!("sql/postgres/insert_base_areas.sql"))
                    .bind(col(areas, |a| a.kind.as_str()))
                    .bind(col(areas, |a| a.name.as_deref()))
                    .bind(col(areas, |a| geojson_text(&a.geometry)));
                (insert, "importing base-map areas")
            }
            Bulk::Fixes(fixes, received_at) => return insert_fixes(tx, fixes, received_at).await,
        };
        insert.execute(&mut **tx).await.context(doing)?;
        Ok(())
    }
}

/// Position fixes, [`FIXES_PER_INSERT`] a statement.
async fn insert_fixes(
    conn: &mut PgConnection,
    fixes: &[Fix],
    received_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    for chunk in fixes.chunks(FIXES_PER_INSERT) {
        sqlx::query(include_str!("sql/postgres/insert_fixes.sql"))
            .bind(received_at)
            .bind(col(chunk, |f| f.worker.0))
            .bind(col(chunk, |f| f.at))
            .bind(col(chunk, |f| f.lat))
            .bind(col(chunk, |f| f.lon))
            .bind(col(chunk, |f| f.accuracy_m))
            .bind(col(chunk, |f| f.speed_mps))
            .bind(col(chunk, |f| f.heading_deg))
            .bind(col(chunk, |f| f.altitude_m))
            .bind(col(chunk, |f| f.battery_pct))
            .bind(col(chunk, |f| f.moving))
            .bind(col(chunk, flags_text))
            .bind(col(chunk, attributes_text))
            .execute(&mut *conn)
            .await
            .context("inserting positions")?;
    }
    Ok(())
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
