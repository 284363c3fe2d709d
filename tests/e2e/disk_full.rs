//! A full disk (issue 19). Writes on a full disk are refused with 507 problem+json and nothing
//! acknowledged is lost; once there is room again every write succeeds, without a restart, the world
//! agrees with what was acknowledged, and so does the store. (Before issue 19 `SQLite`'s first failed
//! COMMIT left its pooled connection refusing every later write — `attempted to call begin_with at
//! non-zero transaction depth` — until a restart, and each connection that met the full disk joined it.)
//!
//! On `SQLite` the disk is real ([`Disk::Tmpfs`]): the data directory is a small tmpfs in a mount
//! namespace of its own (`unshare --mount`, as root), held by a process that only waits, the server
//! runs inside it (`nsenter`), and a filler file takes its last free byte; the test reaches the tmpfs
//! through `/proc/<pid>/root`. Without `unshare` and `mount` (no root) the test is skipped with a
//! notice, except under `CI=true`. On PostgreSQL a full disk would stop the shared test server, so a
//! deferred trigger raises its error at COMMIT instead ([`Disk::Refusing`]).

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, PgConnection, SqliteConnection};

use crate::cases::{GridPlace, grid_place, last_seq};
use crate::harness::{Flavor, Server, TestStore, assert_problem, ci, workspace_root};

/// The data directory's size: the demo city's store (about 20 MB) and room to write.
const TMPFS: &str = "64m";
/// Fixes a position batch: enough rows that the store's free pages run out within a few batches.
const FIXES_PER_BATCH: u32 = 2_000;
/// Fixes of the most the test reads back in one track.
const MOST_FIXES: usize = 100_000;
/// Rounds (a position batch and an incident each) on the full disk before giving up on refusals.
const MOST_ROUNDS_WHEN_FULL: usize = 100;
/// Refusals of each kind to see, so that more than one pooled connection meets the full disk.
const REFUSALS_EACH: usize = 4;
/// Tries (100 ms apart) for the first write once there is room again: a bound, not a measure.
const RECOVERY_TRIES: usize = 50;

#[tokio::test]
async fn a_full_disk_is_refused_with_507_and_writable_again_on_sqlite() {
    full_disk(Flavor::Sqlite).await;
}

#[tokio::test]
async fn a_full_disk_is_refused_with_507_and_writable_again_on_postgis() {
    full_disk(Flavor::Postgres).await;
}

async fn full_disk(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let Some(disk) = Disk::new(&store) else {
        return;
    };
    let mut server = Server::start_in(disk.command(), &["demo"], &store);
    disk.ready().await;
    let place = grid_place(&server, 0, 0).await;
    let before = incident_total(&server).await;
    let mut writes = Writes {
        start: (Utc::now() - TimeDelta::days(6)).trunc_subsecs(0),
        ..Writes::default()
    };

    // Room: writes of both kinds are acknowledged.
    assert_eq!(writes.batch(&server, place.primary).await, 200);
    assert_eq!(writes.create(&server, &place).await, 201);

    // The disk fills: the store may still write into pages it holds, then refuses with 507.
    disk.fill().await;
    let mut rounds = 0;
    while writes.refused_batches < REFUSALS_EACH || writes.refused_creates < REFUSALS_EACH {
        rounds += 1;
        assert!(
            rounds <= MOST_ROUNDS_WHEN_FULL,
            "{rounds} rounds on a full disk and still not refused: {} batches, {} creates",
            writes.refused_batches,
            writes.refused_creates
        );
        writes.batch(&server, place.primary).await;
        writes.create(&server, &place).await;
    }
    eprintln!(
        "{flavor:?} full after {rounds} rounds; acknowledged {} incidents, {} fixes",
        writes.cases.len(),
        writes.fixes.len()
    );

    // Room again, in the same process: writes succeed (the first within a bound), then every one.
    disk.free().await;
    let mut tries = 0;
    while writes.create(&server, &place).await != 201 {
        tries += 1;
        assert!(
            tries < RECOVERY_TRIES,
            "writes still refused {tries} tries after the disk had room again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..3 {
        assert_eq!(writes.batch(&server, place.primary).await, 200);
        for _ in 0..4 {
            assert_eq!(writes.create(&server, &place).await, 201);
        }
    }

    // Nothing acknowledged lost, nothing refused stored.
    let after = incident_total(&server).await;
    assert_eq!(
        after,
        before + writes.cases.len(),
        "incidents: {before} before, {} acknowledged since",
        writes.cases.len()
    );
    for case in &writes.cases {
        let id = case["id"].as_i64().unwrap();
        let (status, stored) = server.get(&format!("/api/incidents/{id}")).await;
        assert_eq!(status, 200, "acknowledged incident {id} was lost: {stored}");
        assert_eq!(stored["properties"]["description"], case["description"]);
    }
    let track = track(&server, place.primary, writes.start).await;
    let lost: Vec<_> = writes.fixes.difference(&track).collect();
    assert!(lost.is_empty(), "{} acknowledged fixes lost", lost.len());
    let kept: Vec<_> = writes.refused_fixes.intersection(&track).collect();
    assert!(kept.is_empty(), "{} refused fixes stored", kept.len());

    // The store itself, once the server has stopped: intact, and holding what the server served.
    let seq = last_seq(&server).await;
    let exit = server.terminate(Duration::from_secs(30)).await;
    assert!(exit.is_some_and(|s| s.success()), "{exit:?}");
    let (incidents, stored_seq) = disk.stored().await;
    assert_eq!(incidents, after, "incidents in the store");
    assert_eq!(stored_seq, seq, "the store's last event");
    drop(disk);
    store.finish().await;
}

/// How the test fills the store's disk.
enum Disk {
    /// A tmpfs of [`TMPFS`] mounted on the `SQLite` data directory `dir` in a mount namespace of its
    /// own, held by a process that only waits (and gives up after 20 minutes, should the test die
    /// without ending it).
    Tmpfs { holder: Child, dir: PathBuf },
    /// PostgreSQL's `disk_full` (SQLSTATE 53100), raised at COMMIT by a deferred trigger on the tables
    /// the writes fill while the table `disk` says so: the error, and the moment, of a full disk.
    Refusing { url: String },
}

impl Disk {
    /// `None` (with a notice) when this process may not mount a tmpfs, outside CI; a failure under CI.
    fn new(store: &TestStore) -> Option<Self> {
        let (option, place) = (store.args[0].as_str(), store.args[1].clone());
        if option == "--database-url" {
            return Some(Self::Refusing { url: place });
        }
        assert_eq!(option, "--data-dir");
        let dir = PathBuf::from(place);
        let script = r#"mkdir -p "$1" && mount -t tmpfs -o size="$2" gridwatch-disk "$1" && echo mounted && exec sleep 1200"#;
        let spawned = Command::new("unshare")
            .args(["--mount", "--", "sh", "-c", script, "sh"])
            .arg(&dir)
            .arg(TMPFS)
            .stdout(Stdio::piped())
            .spawn();
        let failed = match spawned {
            Ok(mut holder) => {
                let mut line = String::new();
                let stdout = holder.stdout.take().unwrap();
                BufReader::new(stdout).read_line(&mut line).unwrap();
                if line.trim() == "mounted" {
                    return Some(Self::Tmpfs { holder, dir });
                }
                holder.wait().unwrap().to_string()
            }
            Err(e) => e.to_string(),
        };
        assert!(
            !ci(),
            "CI=true but `unshare --mount` and `mount -t tmpfs` failed ({failed}; run as root): the full-disk test cannot be skipped"
        );
        eprintln!(
            "SKIPPED: a full disk needs `unshare --mount` and `mount -t tmpfs` (root): {failed}"
        );
        None
    }

    /// The server's command: on the tmpfs, run inside the namespace (`nsenter` execs it, so the pid is
    /// the server's).
    fn command(&self) -> Command {
        let binary = env!("CARGO_BIN_EXE_gridwatch");
        let Self::Tmpfs { holder, .. } = self else {
            return Command::new(binary);
        };
        let mut command = Command::new("nsenter");
        command
            .arg(format!("--target={}", holder.id()))
            .arg("--mount")
            // Entering a mount namespace moves to its root; the server runs from the workspace.
            .arg(format!("--wd={}", workspace_root().display()))
            .arg("--")
            .arg(binary);
        command
    }

    /// `name` in the data directory, as the namespace sees it: on the tmpfs.
    fn path(holder: &Child, dir: &Path, name: &str) -> PathBuf {
        let root = PathBuf::from(format!("/proc/{}/root", holder.id()));
        root.join(dir.strip_prefix("/").unwrap()).join(name)
    }

    /// Once the server has made its tables: PostgreSQL's trigger, not yet refusing.
    async fn ready(&self) {
        let Self::Refusing { url } = self else {
            return;
        };
        let trigger = "CREATE TABLE disk (is_full boolean NOT NULL);
            INSERT INTO disk VALUES (false);
            CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
                IF (SELECT is_full FROM disk) THEN
                    RAISE EXCEPTION 'could not extend file: No space left on device'
                        USING ERRCODE = 'disk_full';
                END IF;
                RETURN NULL;
            END $$;
            CREATE CONSTRAINT TRIGGER disk_full AFTER INSERT ON incidents
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION disk_full();
            CREATE CONSTRAINT TRIGGER disk_full AFTER INSERT ON positions
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION disk_full();";
        run(url, trigger).await;
    }

    async fn fill(&self) {
        match self {
            Self::Tmpfs { holder, dir } => fill(&Self::path(holder, dir, "filler")),
            Self::Refusing { url } => run(url, "UPDATE disk SET is_full = true").await,
        }
    }

    async fn free(&self) {
        match self {
            Self::Tmpfs { holder, dir } => {
                std::fs::remove_file(Self::path(holder, dir, "filler")).unwrap();
            }
            Self::Refusing { url } => run(url, "UPDATE disk SET is_full = false").await,
        }
    }

    /// The incidents and the last event in the store, once the server has stopped; `SQLite`'s
    /// `integrity_check` must find it intact. `SQLite` is read from a copy: it resolves the `/proc`
    /// link to a path in this namespace, so it cannot open the file there.
    async fn stored(&self) -> (usize, i64) {
        let counts = "SELECT (SELECT count(*) FROM incidents), (SELECT max(seq) FROM events)";
        let (incidents, seq): (i64, i64) = match self {
            Self::Tmpfs { holder, dir } => {
                let copy = tempfile::tempdir().unwrap();
                for file in ["gridwatch.db", "gridwatch.db-wal"] {
                    let path = Self::path(holder, dir, file);
                    if path.exists() {
                        std::fs::copy(path, copy.path().join(file)).unwrap();
                    }
                }
                let options =
                    SqliteConnectOptions::new().filename(copy.path().join("gridwatch.db"));
                let mut db = SqliteConnection::connect_with(&options).await.unwrap();
                let check: String = sqlx::query_scalar("PRAGMA integrity_check")
                    .fetch_one(&mut db)
                    .await
                    .unwrap();
                assert_eq!(check, "ok");
                let counts = sqlx::query_as(counts).fetch_one(&mut db).await.unwrap();
                db.close().await.unwrap();
                counts
            }
            Self::Refusing { url } => {
                let mut db = PgConnection::connect(url).await.unwrap();
                let counts = sqlx::query_as(counts).fetch_one(&mut db).await.unwrap();
                db.close().await.unwrap();
                counts
            }
        };
        (usize::try_from(incidents).unwrap(), seq)
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        if let Self::Tmpfs { holder, .. } = self {
            let _ = holder.kill();
            let _ = holder.wait();
        }
    }
}

/// Runs `sql` on the PostgreSQL database at `url`.
async fn run(url: &str, sql: &'static str) {
    let mut db = PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(sql).execute(&mut db).await.unwrap();
    db.close().await.unwrap();
}

/// Writes zeros to `path` until its file system has no byte left.
fn fill(path: &Path) {
    let mut file = File::create(path).unwrap();
    let zeros = vec![0_u8; 1 << 20];
    for chunk in [1 << 20, 1 << 12, 1] {
        loop {
            match file.write_all(&zeros[..chunk]) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::StorageFull => break,
                Err(e) => panic!("filling {}: {e}", path.display()),
            }
        }
    }
}

/// What the writes of the test were answered.
#[derive(Default)]
struct Writes {
    /// The first fix's time; each fix is 100 ms after the one before (a week's fixes are accepted).
    start: DateTime<Utc>,
    /// Fixes sent so far.
    sent: u32,
    /// The properties of every incident acknowledged (201).
    cases: Vec<Value>,
    /// The time (µs) of every fix acknowledged (200), and of every fix refused.
    fixes: BTreeSet<i64>,
    refused_fixes: BTreeSet<i64>,
    refused_batches: usize,
    refused_creates: usize,
}

impl Writes {
    /// Posts a batch of fixes of `worker`; a refusal must be 507 problem+json. The status.
    async fn batch(&mut self, server: &Server, worker: i64) -> u16 {
        let mut fixes = Vec::new();
        let mut times = BTreeSet::new();
        for _ in 0..FIXES_PER_BATCH {
            let at = self.start + TimeDelta::milliseconds(100 * i64::from(self.sent));
            // A metre a second, north.
            let lat = 36.19 + 0.000_001 * f64::from(self.sent);
            fixes.push(
                json!({"worker_id": worker, "lat": lat, "lon": 113.11, "at": at.to_rfc3339()}),
            );
            times.insert(at.timestamp_micros());
            self.sent += 1;
        }
        let body = serde_json::to_vec(&fixes).unwrap();
        let answer = server.send_raw(Method::POST, "/api/positions", body).await;
        if answer.0 == 200 {
            assert_eq!(answer.1["accepted"], FIXES_PER_BATCH, "{}", answer.1);
            self.fixes.extend(times);
        } else {
            refused(&answer, "a position batch");
            self.refused_fixes.extend(times);
            self.refused_batches += 1;
        }
        answer.0
    }

    /// Reports an incident at `place`; a refusal must be 507 problem+json. The status.
    async fn create(&mut self, server: &Server, place: &GridPlace) -> u16 {
        let n = self.cases.len() + self.refused_creates;
        let body = json!({"lat": place.lat, "lon": place.lon, "category": "city_appearance",
            "priority": "normal", "description": format!("full disk {n}"), "source": "hotline"});
        let body = serde_json::to_vec(&body).unwrap();
        let answer = server.send_raw(Method::POST, "/api/incidents", body).await;
        if answer.0 == 201 {
            self.cases.push(answer.1["properties"].clone());
        } else {
            refused(&answer, "an incident");
            self.refused_creates += 1;
        }
        answer.0
    }
}

/// A write refused for the full disk: 507 `insufficient-storage` as problem+json.
#[track_caller]
fn refused((status, body, content_type): &(u16, Value, String), what: &str) {
    assert_eq!(
        content_type, "application/problem+json",
        "{what} refused with {status}: {body}"
    );
    assert_problem(&(*status, body.clone()), 507, "insufficient-storage");
}

async fn incident_total(server: &Server) -> usize {
    let (status, page) = server.get("/api/incidents?limit=1").await;
    assert_eq!(status, 200, "{page}");
    usize::try_from(page["total"].as_u64().unwrap()).unwrap()
}

/// The times (µs) of `worker`'s stored fixes from `from` on.
async fn track(server: &Server, worker: i64, from: DateTime<Utc>) -> BTreeSet<i64> {
    let from = from.to_rfc3339().replace('+', "%2B");
    let path = format!("/api/workers/{worker}/track?from={from}&limit={MOST_FIXES}");
    let (status, track) = server.get(&path).await;
    assert_eq!(status, 200, "{track}");
    let fixes = track["features"].as_array().unwrap();
    assert!(
        fixes.len() < MOST_FIXES,
        "the track is cut at {MOST_FIXES} fixes"
    );
    fixes
        .iter()
        .map(|f| {
            let at = f["properties"]["at"].as_str().unwrap();
            DateTime::parse_from_rfc3339(at).unwrap().timestamp_micros()
        })
        .collect()
}
