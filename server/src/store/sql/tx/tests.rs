//! How a transaction ends, on a pool of one connection so the next transaction gets the same one unless
//! it was closed: a failed COMMIT (or a transaction `SQLite` rolled back by itself) closes it, an early
//! return rolls back and keeps it. `SQLite` always; PostgreSQL with `GRIDWATCH_TEST_DATABASE_URL`
//! (required under `CI=true`), on temporary tables of the server's own database.

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Executor, Row};

use crate::store::StoreError;
use crate::store::postgres::PgStore;
use crate::store::sql::SqlStore;
use crate::store::sql::conflict::classify;
use crate::store::sqlite::SqliteStore;

/// A `SQLite` store of one connection on a fresh file, with a table of blobs and a marker only that
/// connection sees (a temporary table), and the directory to remove.
async fn sqlite() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("tx.db"))
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("opening the test database");
    let setup = "CREATE TABLE blobs (data BLOB NOT NULL);
        CREATE TABLE parents (id INTEGER PRIMARY KEY);
        CREATE TABLE children (parent INTEGER REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED);
        CREATE TEMP TABLE marker (x INTEGER)";
    sqlx::raw_sql(setup)
        .execute(&pool)
        .await
        .expect("creating the tables");
    (SqlStore::from_pool(pool), dir)
}

/// Whether the store's one connection is still the first (it has the marker table).
async fn same_sqlite_connection(store: &SqliteStore) -> bool {
    let marker = "SELECT count(*) FROM sqlite_temp_master WHERE name = 'marker'";
    let row = store
        .pool
        .fetch_one(marker)
        .await
        .expect("reading the marker");
    row.get::<i64, _>(0) == 1
}

async fn blobs(store: &SqliteStore) -> i64 {
    let row = store.pool.fetch_one("SELECT count(*) FROM blobs").await;
    row.expect("counting blobs").get(0)
}

/// A write on a full disk: `SQLite` refuses the row with `SQLITE_FULL` and rolls the whole transaction
/// back by itself. sqlx's `Transaction` then kept counting it open, and its connection refused every
/// later BEGIN (`attempted to call begin_with at non-zero transaction depth`) until a restart.
#[tokio::test]
async fn sqlite_is_writable_again_after_a_full_disk() {
    let (store, _dir) = sqlite().await;
    let mut tx = store.begin_write("starting a write").await.unwrap();
    // A database that may not grow (the per-connection stand-in for a full disk).
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    let limit = format!("PRAGMA max_page_count = {pages}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(limit))
        .execute(&mut *tx)
        .await
        .unwrap();
    let refused = sqlx::query("INSERT INTO blobs VALUES (zeroblob(1000000))")
        .execute(&mut *tx)
        .await;
    let refused = classify("writing a blob", refused.unwrap_err());
    assert!(matches!(refused, StoreError::Full { .. }), "{refused:?}");
    drop(tx);

    for round in 0..3 {
        let mut tx = store
            .begin_write("starting a write")
            .await
            .unwrap_or_else(|e| {
                panic!("round {round}: the connection is unusable after the full disk: {e}")
            });
        sqlx::query("INSERT INTO blobs VALUES (zeroblob(1000000))")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit("committing a blob").await.unwrap();
    }
    assert_eq!(blobs(&store).await, 3);
    assert!(
        !same_sqlite_connection(&store).await,
        "the connection whose transaction failed went back to the pool"
    );
}

/// A COMMIT that fails (here a deferred reference to no row) closes its connection, even though this
/// failure leaves `SQLite`'s transaction open and a ROLLBACK would have cleaned it.
#[tokio::test]
async fn sqlite_closes_a_connection_whose_commit_failed() {
    let (store, _dir) = sqlite().await;
    let mut tx = store.begin_write("starting a write").await.unwrap();
    let orphan = sqlx::raw_sql("INSERT INTO children VALUES (7)");
    orphan.execute(&mut *tx).await.unwrap();
    let refused = tx.commit("committing a child").await.unwrap_err();
    assert!(matches!(refused, StoreError::Conflict(_)), "{refused:?}");

    assert!(!same_sqlite_connection(&store).await);
    let row = store.pool.fetch_one("SELECT count(*) FROM children").await;
    assert_eq!(row.unwrap().get::<i64, _>(0), 0, "the failed commit wrote");
    let tx = store.begin_write("starting a write").await.unwrap();
    tx.commit("committing nothing").await.unwrap();
}

/// An early return (a refused write): the transaction is rolled back and its connection kept.
#[tokio::test]
async fn sqlite_rolls_back_an_early_return_and_keeps_the_connection() {
    let (store, _dir) = sqlite().await;
    let one = "INSERT INTO blobs VALUES (x'00')";
    let mut tx = store.begin_write("starting a write").await.unwrap();
    sqlx::raw_sql(one).execute(&mut *tx).await.unwrap();
    drop(tx);

    assert_eq!(blobs(&store).await, 0, "the dropped transaction wrote");
    assert!(
        same_sqlite_connection(&store).await,
        "a rollback reconnected"
    );
    let mut tx = store.begin_write("starting a write").await.unwrap();
    sqlx::raw_sql(one).execute(&mut *tx).await.unwrap();
    tx.commit("committing a blob").await.unwrap();
    assert_eq!(blobs(&store).await, 1);
}

/// A PostgreSQL store of one connection on the test server's own database, or `None` (skipped) when
/// no server is configured outside CI.
async fn postgres() -> Option<PgStore> {
    let Ok(url) = std::env::var("GRIDWATCH_TEST_DATABASE_URL") else {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(!ci, "CI=true but GRIDWATCH_TEST_DATABASE_URL is not set");
        eprintln!("SKIPPED: set GRIDWATCH_TEST_DATABASE_URL=postgres://… to run this test");
        return None;
    };
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .expect("connecting to GRIDWATCH_TEST_DATABASE_URL");
    Some(SqlStore::from_pool(pool))
}

/// The server process behind the store's one connection.
async fn backend(store: &PgStore) -> i32 {
    let row = store.pool.fetch_one("SELECT pg_backend_pid()").await;
    row.expect("reading the backend").get(0)
}

/// A COMMIT that fails with `disk_full` (raised at the commit by a deferred trigger, as a full disk
/// would) is `StoreError::Full`, and its connection is closed.
#[tokio::test]
async fn postgres_closes_a_connection_whose_commit_failed_on_a_full_disk() {
    let Some(store) = postgres().await else {
        return;
    };
    let before = backend(&store).await;
    let mut tx = store.begin_write("starting a write").await.unwrap();
    let full = "CREATE TEMP TABLE pending (x int);
        CREATE FUNCTION pg_temp.disk_full() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN RAISE EXCEPTION 'no space left' USING ERRCODE = 'disk_full'; END $$;
        CREATE CONSTRAINT TRIGGER at_commit AFTER INSERT ON pending DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW EXECUTE FUNCTION pg_temp.disk_full();
        INSERT INTO pending VALUES (1)";
    sqlx::raw_sql(full).execute(&mut *tx).await.unwrap();
    let refused = tx.commit("committing a row").await.unwrap_err();
    assert!(matches!(refused, StoreError::Full { .. }), "{refused:?}");

    assert_ne!(backend(&store).await, before, "the connection was kept");
    let tx = store.begin_write("starting a write").await.unwrap();
    tx.commit("committing nothing").await.unwrap();
}

/// An early return after a refused statement (PostgreSQL's 409s): a ROLLBACK, not a new connection.
#[tokio::test]
async fn postgres_rolls_back_an_early_return_and_keeps_the_connection() {
    let Some(store) = postgres().await else {
        return;
    };
    let before = backend(&store).await;
    let mut tx = store.begin_write("starting a write").await.unwrap();
    let table = sqlx::raw_sql("CREATE TEMP TABLE kept (x int)");
    table.execute(&mut *tx).await.unwrap();
    let refused = sqlx::raw_sql("SELECT 1 / 0").execute(&mut *tx).await;
    assert!(refused.is_err());
    drop(tx);

    assert_eq!(backend(&store).await, before, "a rollback reconnected");
    let gone = "SELECT to_regclass('pg_temp.kept') IS NULL";
    let row = store.pool.fetch_one(gone).await.unwrap();
    assert!(row.get::<bool, _>(0), "the dropped transaction was kept");
    let tx = store.begin_write("starting a write").await.unwrap();
    tx.commit("committing nothing").await.unwrap();
}
