//! `gridwatch demo`'s simulation (issue 22, item 7): on by default, the demo city comes alive within
//! seconds — cases from several sources, one walked to closed by the worker who handled it and verified
//! by someone else, patrollers' dots moving, cameras — all read back through the API like any client's
//! changes, written to the audit trail, and the server still stops cleanly. `--no-simulation` (what the
//! harness passes by default) keeps the city still.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{Flavor, Server, TestStore};

/// A generous bound on waiting for the city to show each sign of life (the first case closes within
/// about 20 s of the start on an idle machine).
const PATIENCE: Duration = Duration::from_mins(2);

/// What the simulation has shown so far.
#[derive(Debug, Default)]
struct Seen {
    sources: BTreeSet<String>,
    /// A closed case whose handler (accept, start, resolve) is not who verified it.
    closed_by_two: Option<(i64, Value, Value)>,
    /// A patroller with two different fixes in their track.
    moving: Option<i64>,
}

impl Seen {
    fn done(&self) -> bool {
        self.sources.len() > 1 && self.closed_by_two.is_some() && self.moving.is_some()
    }
}

async fn look(server: &Server, seen: &mut Seen) {
    let (status, cases) = server.get("/api/incidents?limit=1000").await;
    assert_eq!(status, 200, "{cases}");
    for case in cases["features"].as_array().unwrap() {
        let p = &case["properties"];
        seen.sources
            .insert(p["source"].as_str().unwrap().to_owned());
        if p["status"] == "closed" && seen.closed_by_two.is_none() {
            let id = p["id"].as_i64().unwrap();
            let (status, full) = server.get(&format!("/api/incidents/{id}")).await;
            assert_eq!(status, 200, "{full}");
            let history = full["properties"]["history"].as_array().unwrap();
            let by = |action: &str| {
                history
                    .iter()
                    .rfind(|e| e["action"] == action)
                    .map(|e| e["actor"].clone())
            };
            let (Some(accept), Some(start), Some(resolve), Some(verify)) =
                (by("accept"), by("start"), by("resolve"), by("verify"))
            else {
                continue;
            };
            assert_eq!(
                accept, resolve,
                "case {id}: one handler accepts and resolves"
            );
            assert_eq!(start, resolve, "case {id}: one handler starts and resolves");
            assert!(resolve["worker"].is_i64(), "case {id}: {resolve}");
            assert_eq!(resolve["role"], "worker", "case {id}");
            assert_ne!(verify, resolve, "case {id}: the handler verified it");
            assert!(
                ["commander", "admin"].contains(&verify["role"].as_str().unwrap()),
                "case {id}: {verify}"
            );
            seen.closed_by_two = Some((id, resolve, verify));
        }
    }
    if seen.moving.is_none() {
        let (status, patrols) = server.get("/api/patrols?active=true").await;
        assert_eq!(status, 200, "{patrols}");
        for patrol in patrols.as_array().unwrap() {
            let worker = patrol["worker"].as_i64().unwrap();
            let (status, track) = server.get(&format!("/api/workers/{worker}/track")).await;
            assert_eq!(status, 200, "{track}");
            let places: BTreeSet<String> = track["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["geometry"]["coordinates"].to_string())
                .collect();
            if places.len() > 1 {
                seen.moving = Some(worker);
                break;
            }
        }
    }
}

async fn living(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let mut server = Server::start(&["demo", "--simulation", "--simulation-seed", "7"], &store);

    let deadline = std::time::Instant::now() + PATIENCE;
    let mut seen = Seen::default();
    while !seen.done() && std::time::Instant::now() < deadline {
        look(&server, &mut seen).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        seen.sources.len() > 1,
        "cases from more than one source: {:?}",
        seen.sources
    );
    assert!(
        seen.closed_by_two.is_some(),
        "a case walked to closed by two people"
    );
    assert!(seen.moving.is_some(), "a patroller's position moving");

    // The demo city had no cameras: the simulation set some up.
    let (status, cameras) = server.get("/api/cameras").await;
    assert_eq!(status, 200, "{cameras}");
    assert!(
        !cameras["features"].as_array().unwrap().is_empty(),
        "{cameras}"
    );

    // It stops with the server, which still shuts down cleanly.
    let exit = server.terminate(Duration::from_secs(20)).await;
    assert!(exit.is_some_and(|s| s.success()), "exit: {exit:?}");

    // Its changes are in the audit trail, named as the simulation's, and the chain holds.
    let listed = store.cli(&["audit", "list"]);
    assert!(listed.status.success(), "{listed:?}");
    let csv = String::from_utf8(listed.stdout).unwrap();
    for action in ["incident.created", "incident.updated"] {
        assert!(
            csv.lines()
                .any(|l| l.contains("simulation · ") && l.contains(action)),
            "no {action} row of the simulation's in:\n{}",
            csv.lines().take(20).collect::<Vec<_>>().join("\n")
        );
    }
    let verified = store.cli(&["audit", "verify"]);
    assert!(verified.status.success(), "{verified:?}");
    store.finish().await;
}

#[tokio::test]
async fn the_demo_city_lives_on_sqlite() {
    living(Flavor::Sqlite).await;
}

#[tokio::test]
async fn the_demo_city_lives_on_postgis() {
    living(Flavor::Postgres).await;
}

/// The harness's default: `demo --no-simulation`, which changes nothing by itself.
#[tokio::test]
async fn without_the_simulation_the_demo_stays_still() {
    let Some(store) = TestStore::new(Flavor::Sqlite).await else {
        return;
    };
    let server = Server::demo(&store);
    // Longer than the simulation's first few reports take (1 s, 2.5 s, 4 s …).
    tokio::time::sleep(Duration::from_secs(8)).await;
    let (status, cases) = server.get("/api/incidents").await;
    assert_eq!(status, 200);
    assert_eq!(cases["total"], 0, "{cases}");
    let (_, cameras) = server.get("/api/cameras").await;
    assert_eq!(cameras["features"], serde_json::json!([]), "{cameras}");
    let (_, patrols) = server.get("/api/patrols?active=true").await;
    assert_eq!(patrols, serde_json::json!([]));
    drop(server);
    store.finish().await;
}
