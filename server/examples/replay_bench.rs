//! How long `GET /api/replay/state` takes to rebuild the map at a past moment on a log of 90 days and a
//! million events (issue 21): the store-side work, `replay::state::then` (the last event by `T`, its
//! keyframe, the events after it, the positions then), at random moments, on a fresh store.
//!
//! The log is synthetic and deterministic: 1,000,000 `incident.*` events evenly over the 90 days before
//! the run, each case registered, dispatched, accepted, started and closed 400 cases apart, so about
//! 1,600 cases are open at any moment (a street office's busy quarter). They are appended by SQL, then
//! folded into keyframes by the keyframe writer's own `fold`, from an empty first keyframe.
//!
//! ```sh
//! cargo run --release -p gridwatch --example replay_bench                      # SQLite in a temp dir
//! cargo run --release -p gridwatch --example replay_bench -- postgres://postgres@127.0.0.1:5432/replay_bench
//! ```
//! (the PostgreSQL database is dropped and created again.) Prints the fold time, the keyframes, and
//! the median, p90 and max of 200 lookups at seeded random moments.

use std::time::Instant;

use chrono::{TimeDelta, Utc};
use gridwatch::replay::{Frame, Keyframe, keyframes, state};
use rand::{Rng, SeedableRng};

const EVENTS: i64 = 1_000_000;
const LOOKUPS: usize = 200;

/// The summary every event carries, with `%ID%`, `%STATUS%` and `%AT%` to fill in.
const SUMMARY: &str = r#"{"id":%ID%,"status":"%STATUS%","level":"grid","category":"city_appearance","priority":"normal","source":"hotline","kind":"on_the_spot","lat":36.19,"lon":113.1,"cell":"8940931980fffff","grid":3,"community":2,"street":1,"district":null,"assignee":5,"handler":null,"deadline":null,"escalate_at":null,"rework_count":0,"deferred":false,"duplicate_of":null,"merged_into":null,"created_at":"2026-09-01T08:00:00Z","updated_at":"2026-09-01T08:00:00Z","last":null}"#;

#[tokio::main]
async fn main() {
    let url = std::env::args().nth(1);
    let dir = tempfile::tempdir().expect("a temp dir");
    let url = match url {
        Some(url) => {
            recreate(&url).await;
            url
        }
        None => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("replay.db").display()
        ),
    };
    let store = gridwatch::store::open(&url).await.expect("the store opens");
    let start = Utc::now() - TimeDelta::days(90);
    let appended = Instant::now();
    append(&url, start).await;
    println!(
        "appended {EVENTS} events over 90 days in {:.1} s",
        appended.elapsed().as_secs_f64()
    );

    let first = Frame::default();
    store
        .insert_keyframe(&Keyframe {
            seq: 0,
            at: start,
            state: first.encode(),
        })
        .await
        .expect("the first keyframe");
    let folding = Instant::now();
    let mut frame = first;
    keyframes::fold(store.as_ref(), &mut frame)
        .await
        .expect("folds");
    let last = store
        .keyframe_at(i64::MAX)
        .await
        .expect("reads")
        .expect("a keyframe");
    println!(
        "folded into keyframes in {:.1} s; the last at seq {} holds {} open cases, {} KiB gzipped",
        folding.elapsed().as_secs_f64(),
        last.seq,
        frame.incidents.len(),
        last.state.len() / 1024
    );

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
    let mut took = Vec::with_capacity(LOOKUPS);
    for _ in 0..LOOKUPS {
        let at = start + TimeDelta::seconds(rng.random_range(60..90 * 86_400));
        let began = Instant::now();
        let then = state::then(store.as_ref(), at).await.expect("a state");
        took.push(began.elapsed().as_secs_f64() * 1000.0);
        assert!(then.frame.seq > 0);
    }
    took.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        let last = u32::try_from(took.len() - 1).expect("a few hundred");
        // An index of at most a few hundred: rounding a small non-negative float.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let i = (f64::from(last) * q).round() as usize;
        took[i]
    };
    println!(
        "state at T, {LOOKUPS} random moments: median {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        pick(0.5),
        pick(0.9),
        took[took.len() - 1]
    );
}

/// Drops and creates the PostgreSQL database `url` names.
async fn recreate(url: &str) {
    let (server, name) = url.rsplit_once('/').expect("a database name");
    let admin = sqlx::PgPool::connect(&format!("{server}/postgres"))
        .await
        .expect("the server");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin)
    .await
    .expect("the database answers");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("the database answers");
}

/// Appends the synthetic log in one statement per 100,000 events.
async fn append(url: &str, start: chrono::DateTime<Utc>) {
    let step_us = 90 * 86_400 * 1_000_000 / EVENTS;
    let summary = SUMMARY.replace('\'', "''");
    let status = "CASE i % 5 WHEN 0 THEN 'registered' WHEN 1 THEN 'dispatched' WHEN 2 THEN 'accepted' \
        WHEN 3 THEN 'in_progress' ELSE 'closed' END";
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url)
            .await
            .expect("the database answers");
        for from in (0..EVENTS).step_by(100_000) {
            let sql = format!(
                "INSERT INTO events (seq, at, kind, payload)
                 SELECT i + 1, $1::timestamptz + make_interval(secs => i * {step_us} / 1e6),
                   CASE WHEN i % 5 = 0 THEN 'incident.created' ELSE 'incident.updated' END,
                   (CASE WHEN i % 5 = 0 THEN s ELSE '{{\"incidents\":[' || s || ']}}' END)::jsonb
                 FROM (SELECT i, replace(replace('{summary}', '%ID%', (i / 5 - 400 * (i % 5) + 2000)::text),
                     '%STATUS%', {status}) AS s
                   FROM generate_series({from}::bigint, {from} + 99999) AS i) AS g"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(start)
                .execute(&pool)
                .await
                .expect("the database answers");
        }
    } else {
        let pool = sqlx::SqlitePool::connect(url)
            .await
            .expect("the database answers");
        let start_text = start.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        for from in (0..EVENTS).step_by(100_000) {
            let to = from + 99_999;
            let sql = format!(
                "WITH RECURSIVE n(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM n WHERE i < {to}),
                 g AS (SELECT i, replace(replace('{summary}', '%ID%', i / 5 - 400 * (i % 5) + 2000),
                     '%STATUS%', {status}) AS s FROM n)
                 INSERT INTO events (seq, at, kind, payload)
                 SELECT i + 1, strftime('%Y-%m-%dT%H:%M:%f', '{start_text}', '+' || (i * {step_us} / 1000000.0) || ' seconds') || '+00:00',
                   CASE WHEN i % 5 = 0 THEN 'incident.created' ELSE 'incident.updated' END,
                   CASE WHEN i % 5 = 0 THEN s ELSE '{{\"incidents\":[' || s || ']}}' END
                 FROM g"
            );
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&pool)
                .await
                .expect("the database answers");
        }
    }
}
