//! Starting the real binary on a fresh store and talking to it.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// How long a server may take to import a city and start listening (debug build).
const START_TIMEOUT: Duration = Duration::from_mins(5);

/// Which store a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Sqlite,
    Postgres,
}

pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A fresh PostgreSQL database for one test, dropped by `finish`.
pub struct PgDb {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDb {
    /// `None` (with a notice) when no PostGIS is configured outside CI; a failure under CI.
    pub async fn create() -> Option<Self> {
        let Ok(admin_url) = std::env::var("GRIDWATCH_TEST_DATABASE_URL") else {
            assert!(
                !ci(),
                "CI=true but GRIDWATCH_TEST_DATABASE_URL is not set: the PostGIS run cannot be skipped"
            );
            eprintln!(
                "SKIPPED: set GRIDWATCH_TEST_DATABASE_URL=postgres://… to run this test on PostGIS"
            );
            return None;
        };
        let name = format!("gw_e2e_{}", rand::random::<u32>());
        let pool = sqlx::PgPool::connect(&admin_url)
            .await
            .expect("connect to GRIDWATCH_TEST_DATABASE_URL");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&pool)
            .await
            .expect("create test database");
        pool.close().await;
        let base = admin_url.split('?').next().unwrap();
        let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
        Some(Self {
            admin_url,
            name,
            url,
        })
    }

    pub async fn finish(self) {
        let pool = sqlx::PgPool::connect(&self.admin_url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&pool)
        .await
        .unwrap();
    }
}

/// A store for a test: a temporary directory, or a fresh PostgreSQL database.
pub struct TestStore {
    pub args: Vec<String>,
    _dir: tempfile::TempDir,
    pg: Option<PgDb>,
}

impl TestStore {
    pub async fn new(flavor: Flavor) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        match flavor {
            Flavor::Sqlite => Some(Self {
                args: vec![
                    "--data-dir".into(),
                    dir.path().join("data").display().to_string(),
                ],
                _dir: dir,
                pg: None,
            }),
            Flavor::Postgres => {
                let pg = PgDb::create().await?;
                Some(Self {
                    args: vec!["--database-url".into(), pg.url.clone()],
                    _dir: dir,
                    pg: Some(pg),
                })
            }
        }
    }

    /// Runs a `gridwatch` subcommand against this store and waits for it.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_gridwatch"))
            .args(args)
            .args(&self.args)
            .current_dir(workspace_root())
            .output()
            .unwrap()
    }

    /// Runs one statement on this store's database, as someone holding its keys would.
    pub async fn execute(&self, sql: &str) -> Result<u64, sqlx::Error> {
        let text = || sqlx::AssertSqlSafe(sql.to_owned());
        match &self.pg {
            None => {
                let pool = sqlx::SqlitePool::connect(&self.sqlite_url()).await?;
                let done = sqlx::query(text())
                    .execute(&pool)
                    .await
                    .map(|r| r.rows_affected());
                pool.close().await;
                done
            }
            Some(pg) => {
                let pool = sqlx::PgPool::connect(&pg.url).await?;
                let done = sqlx::query(text())
                    .execute(&pool)
                    .await
                    .map(|r| r.rows_affected());
                pool.close().await;
                done
            }
        }
    }

    /// The one number a `SELECT COUNT(*) …` on this store's database answers.
    pub async fn count(&self, sql: &str) -> i64 {
        let text = || sqlx::AssertSqlSafe(sql.to_owned());
        match &self.pg {
            None => {
                let pool = sqlx::SqlitePool::connect(&self.sqlite_url()).await.unwrap();
                let n: i64 = sqlx::query_scalar(text()).fetch_one(&pool).await.unwrap();
                pool.close().await;
                n
            }
            Some(pg) => {
                let pool = sqlx::PgPool::connect(&pg.url).await.unwrap();
                let n: i64 = sqlx::query_scalar(text()).fetch_one(&pool).await.unwrap();
                pool.close().await;
                n
            }
        }
    }

    fn sqlite_url(&self) -> String {
        format!("sqlite://{}/gridwatch.db", self.args[1])
    }

    pub async fn finish(self) {
        if let Some(pg) = self.pg {
            pg.finish().await;
        }
    }
}

/// A running `gridwatch` process.
pub struct Server {
    child: Child,
    pub base: String,
    /// The admin token `demo` printed, if it ran as `demo`.
    pub admin: Option<String>,
    pub http: reqwest::Client,
}

impl Server {
    /// Starts `gridwatch demo` (dongjie) on `store`, on a free port.
    pub fn demo(store: &TestStore) -> Self {
        Self::start(&["demo"], store)
    }

    /// Starts `gridwatch <args> --addr 127.0.0.1:0 <store args>` and waits until it listens.
    pub fn start(args: &[&str], store: &TestStore) -> Self {
        Self::start_in(Command::new(env!("CARGO_BIN_EXE_gridwatch")), args, store)
    }

    /// `start` with the server's open-file limit set to `files` (soft and hard, by util-linux's
    /// `prlimit`), as on a host with a small `ulimit -n`.
    pub fn start_with_open_files(args: &[&str], store: &TestStore, files: u64) -> Self {
        let mut command = Command::new("prlimit");
        command
            .arg(format!("--nofile={files}:{files}"))
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_gridwatch"));
        Self::start_in(command, args, store)
    }

    /// Runs `command` (the binary, or a wrapper naming it) with `args`, on a free port.
    ///
    /// The tests drive one server from 127.0.0.1 far faster than any client would, so the rate limits
    /// are off unless a test names them (a flag wins over these variables; `hardening.rs` tests them).
    /// `demo` runs without its simulation, so a test sees only its own changes, unless `args` say
    /// `--simulation` (`simulation.rs`).
    pub fn start_in(mut command: Command, args: &[&str], store: &TestStore) -> Self {
        let still = args.first() == Some(&"demo") && !args.contains(&"--simulation");
        let mut child = command
            .args(args)
            .args(still.then_some("--no-simulation"))
            .args(["--addr", "127.0.0.1:0"])
            .args(&store.args)
            .envs([
                ("GRIDWATCH_RATE_OPEN311", "off"),
                ("GRIDWATCH_RATE_PHOTOS", "off"),
                ("GRIDWATCH_RATE_POSITIONS", "off"),
                ("GRIDWATCH_WS_CONTROL_RATE", "off"),
            ])
            .current_dir(workspace_root())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut base = None;
        let mut admin = None;
        let wants_token = args.first() == Some(&"demo");
        while base.is_none() || (wants_token && admin.is_none()) {
            let line = rx
                .recv_timeout(START_TIMEOUT)
                .expect("the server did not report its address in time");
            if let Some(rest) = line.strip_prefix("gridwatch is up at ") {
                base = Some(
                    rest.split_whitespace()
                        .next()
                        .unwrap()
                        .trim_end_matches('/')
                        .to_owned(),
                );
            } else if let Some(token) = line.strip_prefix("admin token: ") {
                admin = Some(token.trim().to_owned());
            }
        }
        // No pooled connections: a request refused before its body was read (413) closes its
        // connection, and a pooled client could pick that dead connection for the next request.
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        Self {
            child,
            base: base.unwrap(),
            admin,
            http,
        }
    }

    pub fn token(&self) -> &str {
        self.admin.as_deref().expect("started as demo")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET with the admin token; returns the status and the JSON body (Null if not JSON).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.get_as(self.token(), path).await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        split(response).await
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
        self.send_as(self.token(), method, path, body).await
    }

    pub async fn send_as(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> (u16, Value) {
        let response = self
            .http
            .request(method, self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        split(response).await
    }

    /// Sends raw bytes as `application/json`.
    ///
    /// A body over the limit is refused (413) before the server reads it, and the server then closes the
    /// connection; when that close beats the last bytes of the upload, the client sees a broken pipe
    /// instead of the answer. Such a request is sent again (at most five times) to read the answer.
    pub async fn send_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
    ) -> (u16, Value, String) {
        let mut attempts = 0;
        let response = loop {
            let sent = self
                .http
                .request(method.clone(), self.url(path))
                .bearer_auth(self.token())
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(response) => break response,
                Err(e) if e.is_request() && attempts < 5 => attempts += 1,
                Err(e) => panic!("{method} {path}: {e}"),
            }
        };
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let (status, json) = split(response).await;
        (status, json, content_type)
    }

    /// SIGKILL: no shutdown hook runs, as in a crash.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, as a service manager stops the server; the exit status if the process ended within
    /// `within`, else `None` (the process is then killed).
    pub async fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        // `kill(1)` rather than a libc call: the workspace forbids unsafe code.
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM failed");
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            // Other tasks of the test (clients still sending, websockets reading) keep running.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.kill();
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn split(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Asserts a problem+json body with the given status and `type` slug.
#[track_caller]
pub fn assert_problem(got: &(u16, Value), status: u16, slug: &str) {
    assert_eq!(got.0, status, "status; body: {}", got.1);
    assert_eq!(
        got.1["type"],
        format!("/problems/{slug}"),
        "problem type; body: {}",
        got.1
    );
    assert_eq!(got.1["status"], status, "problem status member");
    assert!(
        got.1["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "problem detail"
    );
}

/// The Python interpreter with the reference libraries, or `None` (skip) outside CI.
pub fn reference_python() -> Option<String> {
    let python = std::env::var("GRIDWATCH_PYTHON").unwrap_or_else(|_| {
        let venv = workspace_root().join(".venv/bin/python");
        if venv.exists() {
            venv.display().to_string()
        } else {
            "python3".into()
        }
    });
    let ok = Command::new(&python)
        .args(["-c", "import h3, shapely"])
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(python);
    }
    assert!(
        !ci(),
        "CI=true but {python} cannot import h3 and shapely (see tests/reference/requirements.txt)"
    );
    eprintln!(
        "SKIPPED: the reference check needs python with h3 and shapely (pip install -r tests/reference/requirements.txt)"
    );
    None
}

/// Runs `tests/reference/check_city.py` against a server; panics with its output on failure.
pub fn check_city(server: &Server, extra: &[&str]) {
    let Some(python) = reference_python() else {
        return;
    };
    let output = Command::new(python)
        .arg(workspace_root().join("tests/reference/check_city.py"))
        .args([server.base.as_str(), server.token()])
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(
        output.status.success(),
        "reference check failed:\n{stdout}\n{stderr}"
    );
}

/// The first place two JSON values differ, as a path and both sides (kept short for test output).
pub fn first_difference(a: &Value, b: &Value) -> Option<String> {
    fn walk(a: &Value, b: &Value, path: &mut String) -> Option<String> {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for key in x.keys().chain(y.keys()) {
                    let len = path.len();
                    path.push('.');
                    path.push_str(key);
                    let found = match (x.get(key), y.get(key)) {
                        (Some(p), Some(q)) => walk(p, q, path),
                        (p, q) => Some(format!("{path}: {p:?} vs {q:?}")),
                    };
                    if found.is_some() {
                        return found;
                    }
                    path.truncate(len);
                }
                None
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                x.iter().zip(y).enumerate().find_map(|(i, (p, q))| {
                    let len = path.len();
                    let _ = write!(path, "[{i}]");
                    let found = walk(p, q, path);
                    path.truncate(len);
                    found
                })
            }
            _ if a == b => None,
            _ => {
                let short = |v: &Value| v.to_string().chars().take(200).collect::<String>();
                Some(format!("{path}: {} vs {}", short(a), short(b)))
            }
        }
    }
    walk(a, b, &mut String::new())
}

/// Asserts two JSON values are equal, reporting only where they first differ.
#[track_caller]
pub fn assert_same(a: &Value, b: &Value, what: &str) {
    if let Some(diff) = first_difference(a, b) {
        panic!("{what}: differs at {diff}");
    }
}
