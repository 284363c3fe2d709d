//! Positions between nodes (issue 20, point 3): fixes stored through one node reach the websocket
//! clients of the others through a real NATS server, on subjects keyed by the coarse H3 cell (checked
//! against the reference `h3` library), each node subscribed only to what its clients watch (read from
//! the NATS server's own monitoring page); every node's world learns every worker's latest position;
//! NATS restarted under load delays positions and loses no event.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::{grid_place, last_seq, report, token};
use crate::harness::{Flavor, Server, TestStore, ci, reference_python};
use crate::live::Ws;
use crate::positions::near;

/// How long a position or a subscription may take to get where it goes.
const WAIT: Duration = Duration::from_secs(15);
/// Long enough for a fix another node has received to be on its clients' sockets.
const SETTLE: Duration = Duration::from_millis(500);

/// A NATS server of the test's own, on free ports, killed when dropped.
pub struct Nats {
    child: Child,
    port: u16,
    monitor: u16,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Nats {
    /// Starts `nats-server`; `None` (skip) when it is not installed, outside CI.
    pub fn start() -> Option<Self> {
        let binary = Self::binary();
        if binary.is_none() {
            assert!(
                !ci(),
                "CI=true but nats-server is not installed (.ci/run installs it)"
            );
            eprintln!("SKIPPED: the relay tests need nats-server (apt-get install nats-server)");
            return None;
        }
        let (port, monitor) = (free_port(), free_port());
        let child = Self::spawn(port, monitor);
        Some(Self {
            child,
            port,
            monitor,
        })
    }

    fn binary() -> Option<&'static str> {
        ["/usr/sbin/nats-server", "/usr/bin/nats-server"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
    }

    fn spawn(port: u16, monitor: u16) -> Child {
        let child = Command::new(Self::binary().unwrap())
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .args(["-m", &monitor.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "nats-server did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL) and, after `away`, starts it again on the same port.
    pub async fn restart(&mut self, away: Duration) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        tokio::time::sleep(away).await;
        self.child = Self::spawn(self.port, self.monitor);
    }

    /// The subjects the client named `name` is subscribed to, as the server's monitoring page lists
    /// them (`/connz?subs=1`), sorted.
    pub async fn subjects_of(&self, name: &str) -> Vec<String> {
        let url = format!("http://127.0.0.1:{}/connz?subs=1&limit=1024", self.monitor);
        let connz: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        let mut subjects: Vec<String> = connz["connections"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["name"] == name)
            .flat_map(|c| {
                c["subscriptions_list"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|s| s.as_str().unwrap().to_owned())
            .collect();
        subjects.sort();
        subjects
    }

    /// Waits until `name`'s subjects are what `want` accepts; the last seen.
    pub async fn until_subjects(
        &self,
        name: &str,
        want: impl Fn(&[String]) -> bool,
    ) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let subjects = self.subjects_of(name).await;
            if want(&subjects) {
                return subjects;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name} is subscribed to {subjects:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a node on `store` with the relay to `nats`.
fn node(command: &str, name: &str, nats: &Nats, store: &TestStore) -> Server {
    let url = nats.url();
    Server::start(&[command, "--nats-url", &url, "--node-id", name], store)
}

/// Waits until `server`'s `/ready` says it is connected to NATS.
async fn connected(server: &Server) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, ready) = server.get("/ready").await;
        if status == 200 && ready["nats"] == "connected" {
            return ready;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} never connected to NATS: {status} {ready}",
            server.base
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One fix of `worker` at a point, taken `ago` seconds before now.
fn fix(worker: i64, lat: f64, lon: f64, ago: i64) -> Value {
    let at = chrono::Utc::now() - chrono::TimeDelta::seconds(ago);
    json!({"positions": [{"worker_id": worker, "lat": lat, "lon": lon, "at": at.to_rfc3339()}]})
}

async fn post_fix(server: &Server, body: &Value) {
    let (status, answer) = server.send(Method::POST, "/api/positions", body).await;
    assert_eq!(status, 200, "{answer}");
}

/// The next `position` message of `worker` on `ws`.
async fn position_of(ws: &mut Ws, worker: i64) -> Value {
    ws.until(|m| m["type"] == "position" && m["worker"] == worker)
        .await
        .pop()
        .unwrap()
}

/// Whether a message is the `position` of `worker` at latitude `lat`.
fn at(worker: i64, lat: f64) -> impl Fn(&Value) -> bool {
    move |m| {
        m["type"] == "position"
            && m["worker"] == worker
            && m["lat"].as_f64().is_some_and(|l| (l - lat).abs() < 1e-9)
    }
}

/// The coarse cell the hub files a point under: the resolution-7 parent of its resolution-9 cell,
/// from the reference `h3` library.
fn reference_cell(python: &str, lat: f64, lon: f64) -> String {
    let out = Command::new(python)
        .args([
            "-c",
            &format!("import h3; print(h3.cell_to_parent(h3.latlng_to_cell({lat}, {lon}, 9), 7))"),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn positions_reach_other_nodes_clients_by_cell_through_nats_on_postgis() {
    let Some(store) = TestStore::new(Flavor::Postgres).await else {
        return;
    };
    let Some(nats) = Nats::start() else { return };
    let Some(python) = reference_python() else {
        return;
    };
    let a = node("demo", "node-a", &nats, &store);
    let admin = a.token().to_owned();
    let mut b = node("serve", "node-b", &nats, &store);
    b.admin = Some(admin.clone());
    let mut c = node("serve", "node-c", &nats, &store);
    c.admin = Some(admin.clone());
    for (server, name) in [(&a, "node-a"), (&b, "node-b"), (&c, "node-c")] {
        let ready = connected(server).await;
        assert_eq!(ready["node"], name, "{ready}");
        let (_, health) = server.get("/health").await;
        assert_eq!(health["node"], name, "{health}");
    }

    let here = grid_place(&a, 0, 0).await;
    let other = grid_place(&a, 5, 0).await;
    assert_ne!(here.primary, other.primary);
    // About 11 km north: another coarse cell, far outside the city.
    let (far_lat, far_lon) = (here.lat + 0.1, here.lon);
    let commander = token(&a, "commander", None).await;

    // --- Nobody watches on B or C yet: each takes only the latest positions.
    let only_moved = |s: &[String]| s == ["gridwatch.moved"];
    nats.until_subjects("node-b", only_moved).await;
    nats.until_subjects("node-c", only_moved).await;

    // --- B's client watches a box around `here`; C's watches everything.
    let mut boxed = Ws::connect(&b, &commander).await;
    let d = 0.002;
    boxed
        .subscribe(&json!({"bbox": [here.lon - d, here.lat - d, here.lon + d, here.lat + d]}))
        .await;
    let mut everything = Ws::connect(&c, &commander).await;
    everything.subscribe(&json!({})).await;
    let corner_cells: Vec<String> = [(-d, -d), (d, d), (-d, d), (d, -d)]
        .iter()
        .map(|(dy, dx)| reference_cell(&python, here.lat + dy, here.lon + dx))
        .collect();
    let on_b = nats.until_subjects("node-b", |s| s.len() > 1).await;
    for cell in &corner_cells {
        assert!(
            on_b.contains(&format!("gridwatch.pos.{cell}.*")),
            "B watches the box's cell {cell}: {on_b:?}"
        );
    }
    assert!(
        on_b.iter()
            .all(|s| s == "gridwatch.moved" || s.ends_with(".*")),
        "B subscribes by cell only: {on_b:?}"
    );
    assert!(
        on_b.len() <= 5,
        "a 400 m box is a few coarse cells: {on_b:?}"
    );
    nats.until_subjects("node-c", |s| s == ["gridwatch.moved", "gridwatch.pos.>"])
        .await;

    // --- A fix through A goes out on its cell's subject (checked against h3) and reaches both clients.
    let listener = async_nats::connect(nats.url()).await.unwrap();
    let mut tap = listener.subscribe("gridwatch.pos.>").await.unwrap();
    listener.flush().await.unwrap();
    post_fix(&a, &fix(here.primary, here.lat, here.lon, 30)).await;
    let message = tokio::time::timeout(WAIT, tap.next())
        .await
        .expect("A published the fix")
        .unwrap();
    let cell = reference_cell(&python, here.lat, here.lon);
    assert_eq!(
        message.subject.as_str(),
        format!("gridwatch.pos.{cell}.{}", here.primary)
    );
    let on_box = position_of(&mut boxed, here.primary).await;
    let on_all = position_of(&mut everything, here.primary).await;
    for got in [&on_box, &on_all] {
        assert!(
            (got["lat"].as_f64().unwrap() - here.lat).abs() < 1e-9,
            "{got}"
        );
        assert!(
            (got["lon"].as_f64().unwrap() - here.lon).abs() < 1e-9,
            "{got}"
        );
    }

    // --- A fix 11 km away reaches C's client, not B's (nor does B subscribe to its cell); then a fix
    // in the box shows B's client had nothing in between.
    post_fix(&a, &fix(other.primary, far_lat, far_lon, 20)).await;
    let far = position_of(&mut everything, other.primary).await;
    assert!(
        (far["lat"].as_f64().unwrap() - far_lat).abs() < 1e-9,
        "{far}"
    );
    tokio::time::sleep(SETTLE).await;
    post_fix(&a, &fix(here.primary, here.lat + 0.0005, here.lon, 10)).await;
    let between = boxed.until(at(here.primary, here.lat + 0.0005)).await;
    assert!(
        between.iter().all(|m| m["worker"] != other.primary),
        "B's box client got a fix 11 km away: {between:?}"
    );
    let far_cell = reference_cell(&python, far_lat, far_lon);
    assert!(
        !nats
            .subjects_of("node-b")
            .await
            .contains(&format!("gridwatch.pos.{far_cell}.*")),
        "B subscribed to a cell nobody on it watches"
    );

    // --- Every node's world knows both workers' latest positions: B's too, though none of its
    // clients watches the far one (it came with the latest positions, once a second).
    for server in [&b, &c] {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !(near(server, other.primary, far_lat, far_lon).await
            && near(server, here.primary, here.lat + 0.0005, here.lon).await)
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} does not know where the workers are",
                server.base
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // --- An older fix arriving late (an offline buffer) is stored but moves no node's map back.
    // (An outbox sends the positions it holds in worker order, so the fix that shows nothing came in
    // between is posted once anything that did come would have been sent.)
    post_fix(&a, &fix(other.primary, here.lat, here.lon, 600)).await;
    tokio::time::sleep(SETTLE).await;

    post_fix(&a, &fix(here.primary, here.lat + 0.0010, here.lon, 5)).await;
    let after = everything.until(at(here.primary, here.lat + 0.0010)).await;

    assert!(
        after.iter().all(|m| m["worker"] != other.primary),
        "C's client was sent a fix older than the one it had: {after:?}"
    );
    assert!(near(&c, other.primary, far_lat, far_lon).await);

    // --- The box client leaves: B drops its cells.
    drop(boxed);
    nats.until_subjects("node-b", only_moved).await;

    // --- Case events still travel by the log, not NATS: a case through A reaches C's client once.
    let from = last_seq(&c).await;
    let created = report(&a, &admin, here.lat, here.lon, "city_appearance").await;
    let id = created["id"].as_i64().unwrap();
    let live = everything
        .until(|m| m["type"] == "delta" && m["kind"] == "incident.created" && m["id"] == id)
        .await;
    let seqs: Vec<i64> = live
        .iter()
        .filter(|m| m["type"] == "delta")
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [from + 1], "{live:?}");
    store.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn nats_restarted_under_load_delays_positions_and_loses_no_event_on_postgis() {
    let Some(store) = TestStore::new(Flavor::Postgres).await else {
        return;
    };
    let Some(mut nats) = Nats::start() else {
        return;
    };
    let a = node("demo", "node-a", &nats, &store);
    let admin = a.token().to_owned();
    let mut b = node("serve", "node-b", &nats, &store);
    b.admin = Some(admin.clone());
    connected(&a).await;
    connected(&b).await;
    let here = grid_place(&a, 0, 0).await;
    let mut watcher = Ws::connect(&b, &admin).await;
    watcher.subscribe(&json!({})).await;
    nats.until_subjects("node-b", |s| s.contains(&"gridwatch.pos.>".to_owned()))
        .await;
    let from = last_seq(&b).await;
    let count_fixes = format!(
        "SELECT count(*) FROM positions WHERE worker_id = {}",
        here.primary
    );
    let fixes_before = store.count(&count_fixes).await;

    // Cases and fixes through A, with NATS killed for two seconds halfway.
    let mut ids = Vec::new();
    for round in 0..30_i64 {
        if round == 10 {
            nats.restart(Duration::from_secs(2)).await;
        }
        let created = report(&a, &admin, here.lat, here.lon, "city_appearance").await;
        ids.push(created["id"].as_i64().unwrap());
        let lat = here.lat + 0.00001 * f64::from(u32::try_from(round).unwrap());
        post_fix(&a, &fix(here.primary, lat, here.lon, 60 - round)).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Every case reached B's client once, in sequence order, NATS or not.
    let final_id = *ids.last().unwrap();
    let live = watcher
        .until(|m| m["type"] == "delta" && m["kind"] == "incident.created" && m["id"] == final_id)
        .await;
    let seqs: Vec<i64> = live
        .iter()
        .filter(|m| m["type"] == "delta")
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    let want: Vec<i64> = (from + 1..=from + i64::try_from(ids.len()).unwrap()).collect();
    assert_eq!(seqs, want, "B's client: every event once, in order");
    let created: Vec<i64> = live
        .iter()
        .filter(|m| m["type"] == "delta")
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(created, ids);

    // Both nodes are connected again, and a fix through A reaches B's client.
    connected(&a).await;
    connected(&b).await;
    nats.until_subjects("node-b", |s| s.contains(&"gridwatch.pos.>".to_owned()))
        .await;
    let (lat, lon) = (here.lat + 0.001, here.lon);
    post_fix(&a, &fix(here.primary, lat, lon, 0)).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let got = position_of(&mut watcher, here.primary).await;
        if (got["lat"].as_f64().unwrap() - lat).abs() < 1e-9 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no fix after NATS came back"
        );
    }
    // Every fix acknowledged was stored, NATS or not.
    assert_eq!(store.count(&count_fixes).await - fixes_before, 31);
    store.finish().await;
}
