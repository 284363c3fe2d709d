//! The store test suite: every test runs once on a fresh `SQLite` file and once on a fresh `PostGIS`
//! database (from `GRIDWATCH_TEST_DATABASE_URL`; see `store_suite/fixture.rs`).
//!
//! Run: `GRIDWATCH_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!       cargo test -p gridwatch --test store_suite`

/// Declares each `async fn(Arc<dyn Store>)` as two tests, `name::sqlite` and `name::postgres`.
macro_rules! store_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread")]
            async fn sqlite() {
                crate::fixture::run_store(crate::fixture::Backend::Sqlite, super::$name).await;
            }
            #[tokio::test(flavor = "multi_thread")]
            async fn postgres() {
                crate::fixture::run_store(crate::fixture::Backend::Postgres, super::$name).await;
            }
        }
    )*};
}

/// Declares each `async fn(Target)` (tests that reopen the store) as two tests.
macro_rules! target_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread")]
            async fn sqlite() {
                crate::fixture::run(crate::fixture::Backend::Sqlite, super::$name).await;
            }
            #[tokio::test(flavor = "multi_thread")]
            async fn postgres() {
                crate::fixture::run(crate::fixture::Backend::Postgres, super::$name).await;
            }
        }
    )*};
}

#[path = "store_suite/archive.rs"]
mod archive;
#[path = "store_suite/audit.rs"]
mod audit;
#[path = "store_suite/boundary.rs"]
mod boundary;
#[path = "store_suite/cameras.rs"]
mod cameras;
#[path = "store_suite/city.rs"]
mod city;
#[path = "store_suite/data.rs"]
mod data;
#[path = "store_suite/events_v1.rs"]
mod events_v1;
#[path = "store_suite/fixture.rs"]
mod fixture;
#[path = "store_suite/incidents.rs"]
mod incidents;
#[path = "store_suite/log.rs"]
mod log;
#[path = "store_suite/patrols.rs"]
mod patrols;
#[path = "store_suite/people.rs"]
mod people;
#[path = "store_suite/postgis.rs"]
mod postgis;
#[path = "store_suite/tracks.rs"]
mod tracks;

use std::collections::HashMap;
use std::sync::Arc;

use fixture::Backend;
use gridwatch::domain::{DutyStatus, GridDuty, GridId, RegionId, Responsibility, WorkerKind};
use gridwatch::store::{NewWorker, Snapshot, Store, StoreError, StoreKind};

// ---------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------

/// Asserts two snapshots hold the same world.
fn assert_same(a: &Snapshot, b: &Snapshot) {
    assert_eq!(a.resolution, b.resolution, "resolution");
    assert_eq!(a.regions, b.regions, "regions");
    assert_eq!(a.grids, b.grids, "grids");
    assert_eq!(a.buildings, b.buildings, "buildings");
    assert_eq!(a.base_lines, b.base_lines, "base lines");
    assert_eq!(a.base_areas, b.base_areas, "base areas");
    assert_eq!(a.workers, b.workers, "workers");
    assert_eq!(a.last_seq, b.last_seq, "last_seq");
}

fn grid_ids(snapshot: &Snapshot) -> HashMap<String, GridId> {
    snapshot
        .grids
        .iter()
        .map(|g| (g.code.clone(), g.id))
        .collect()
}

fn region_ids(snapshot: &Snapshot) -> HashMap<String, RegionId> {
    snapshot
        .regions
        .iter()
        .map(|r| (r.code.clone(), r.id))
        .collect()
}

fn assert_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) -> String {
    match result {
        Err(StoreError::Conflict(message)) => {
            let lower = message.to_lowercase();
            for sql in [
                "insert ",
                "select ",
                "update ",
                "constraint failed",
                "violates",
                "pkey",
                "_key",
            ] {
                assert!(
                    !lower.contains(sql),
                    "{what}: conflict message leaks SQL: {message}"
                );
            }
            message
        }
        other => panic!("{what}: expected a conflict, got {other:?}"),
    }
}

/// Imports the small city and returns the snapshot after it.
async fn imported(store: &Arc<dyn Store>) -> Snapshot {
    store.import_city(&data::city()).await.expect("import");
    store.snapshot(None).await.expect("snapshot")
}

fn new_worker(name: &str, device: Option<&str>, grids: Vec<GridDuty>) -> NewWorker {
    NewWorker {
        name: name.to_owned(),
        kind: WorkerKind::GridWorker,
        duty: DutyStatus::OnDuty,
        phone: Some("13800000000".to_owned()),
        device_hash: device.map(gridwatch::domain::worker::device_hash),
        grids,
    }
}

fn duty(grid_id: GridId, responsibility: Responsibility) -> GridDuty {
    GridDuty {
        grid_id,
        responsibility,
    }
}

/// Checks a snapshot against the city it was imported from: every field, geometry exactly.

// ---------------------------------------------------------------------------------------------------
// One backend only
// ---------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn postgis_tables_hold_valid_geometry_an_independent_reference_agrees_with() {
    fixture::run(Backend::Postgres, postgis::check_tables).await;
}

#[tokio::test]
async fn sqlite_open_dir_creates_a_durable_database() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data_dir = dir.path().join("data").join("nested");
    let store = gridwatch::store::sqlite::SqliteStore::open_dir(&data_dir)
        .await
        .expect("open");
    assert_eq!(store.kind(), StoreKind::Sqlite);
    store.import_city(&data::city()).await.expect("import");
    let file = data_dir.join(gridwatch::store::sqlite::FILE_NAME);
    assert!(file.is_file());
    // The WAL journal mode is kept in the file itself, so a second connection sees it.
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
        "sqlite://{}",
        file.display()
    ))
    .await
    .expect("second connection");
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .expect("pragma");
    assert_eq!(mode, "wal");
    drop(store);
    let again = gridwatch::store::sqlite::SqliteStore::open_dir(&data_dir)
        .await
        .expect("reopen");
    assert_eq!(again.snapshot(None).await.expect("snapshot").grids.len(), 3);
}

#[tokio::test]
async fn in_memory_sqlite_works() {
    let store = gridwatch::store::open("sqlite::memory:")
        .await
        .expect("open");
    store.import_city(&data::city()).await.expect("import");
    assert_eq!(store.snapshot(None).await.expect("snapshot").grids.len(), 3);
}

#[tokio::test]
async fn bad_urls_are_refused_without_their_password() {
    for url in ["mysql://u:secret@h/db", "postgres://u:secret@h:notaport/db"] {
        match gridwatch::store::open(url).await {
            Err(StoreError::Url(message)) => assert!(!message.contains("secret"), "{message}"),
            Err(other) => panic!("{url}: expected a URL error, got {other}"),
            Ok(_) => panic!("{url}: opened"),
        }
    }
}
