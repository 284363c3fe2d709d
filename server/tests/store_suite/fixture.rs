//! Where a store suite test runs: a fresh `SQLite` file in a temporary directory, or a fresh `PostGIS`
//! database created for the one test and dropped after it.
//!
//! `PostGIS` comes from `GRIDWATCH_TEST_DATABASE_URL` (a server URL whose user may create databases).
//! Without it a `PostGIS` run is skipped with a notice, except under `CI=true`, where it fails.

use std::future::Future;
use std::sync::Arc;

use gridwatch::store::{self, Store};
use sqlx::postgres::{PgConnection, PgPool};
use sqlx::{AssertSqlSafe, Connection};
use tempfile::TempDir;

pub const DATABASE_URL_VAR: &str = "GRIDWATCH_TEST_DATABASE_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh database for one test. Clone it to open the store again, as after a restart.
#[derive(Debug, Clone)]
pub struct Target {
    pub backend: Backend,
    pub url: String,
}

impl Target {
    /// Opens the store through `gridwatch::store::open`, running migrations.
    pub async fn open(&self) -> Arc<dyn Store> {
        match store::open(&self.url).await {
            Ok(store) => store,
            Err(e) => panic!("opening the {:?} store: {e}", self.backend),
        }
    }

    /// Plain SQL access to the test database, for checks against the real tables.
    pub async fn pg(&self) -> PgPool {
        assert_eq!(
            self.backend,
            Backend::Postgres,
            "SQL checks are for PostGIS"
        );
        PgPool::connect(&self.url)
            .await
            .expect("connecting to the test database")
    }
}

/// What to remove when the test is over.
enum Guard {
    Sqlite(TempDir),
    Postgres { admin_url: String, name: String },
}

/// Runs `test` against a fresh store of `backend`.
pub async fn run_store<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    run(backend, move |target: Target| async move {
        test(target.open().await).await;
    })
    .await;
}

/// Runs `test` with a fresh database of `backend`; the database is removed afterwards, even on panic.
pub async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Target) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some((target, guard)) = prepare(backend).await else {
        return;
    };
    let outcome = tokio::spawn(test(target)).await;
    cleanup(guard).await;
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("test task failed: {e}"),
        }
    }
}

async fn prepare(backend: Backend) -> Option<(Target, Guard)> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let url = format!("sqlite://{}", dir.path().join("gridwatch.db").display());
            Some((Target { backend, url }, Guard::Sqlite(dir)))
        }
        Backend::Postgres => {
            let admin_url = postgres_url()?;
            let name = format!("gw_{:016x}", rand::random::<u64>());
            let mut admin = PgConnection::connect(&admin_url)
                .await
                .expect("connecting to PostgreSQL");
            sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await
                .expect("creating the test database");
            admin.close().await.expect("closing the admin connection");
            let url = with_database(&admin_url, &name);
            Some((Target { backend, url }, Guard::Postgres { admin_url, name }))
        }
    }
}

async fn cleanup(guard: Guard) {
    match guard {
        Guard::Sqlite(dir) => drop(dir),
        Guard::Postgres { admin_url, name } => {
            let mut admin = PgConnection::connect(&admin_url)
                .await
                .expect("connecting to PostgreSQL");
            sqlx::raw_sql(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await
            .expect("dropping the test database");
        }
    }
}

/// The `PostGIS` server to test against, or `None` (with a notice) when there is none outside CI.
fn postgres_url() -> Option<String> {
    if let Ok(url) = std::env::var(DATABASE_URL_VAR)
        && !url.is_empty()
    {
        return Some(url);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{DATABASE_URL_VAR} is not set: CI must run the store suite against PostGIS \
         (e.g. postgres://postgres@127.0.0.1:5432/postgres)"
    );
    eprintln!("skipped: set {DATABASE_URL_VAR} to run the store suite against PostGIS");
    None
}

/// `url` with its database name replaced by `name`, keeping any `?query`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

#[test]
fn database_name_is_replaced() {
    assert_eq!(
        with_database("postgres://u@h:5432/postgres", "x"),
        "postgres://u@h:5432/x"
    );
    assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
}
