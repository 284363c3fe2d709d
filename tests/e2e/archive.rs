//! Finished cases leave the world (issue 19, point 7) on the real binary, both stores: every reader of
//! history answers exactly as it did while the world held them. The reference is the same server's
//! answers before anything was archived (all from memory); then the server restarts with a short
//! archive window (the startup snapshot leaves the old finished cases out), a case finished since ages
//! out while it runs, and every answer is asked again: the list with its filters, paging and scopes,
//! each case with its history, the KPI report, Open311, a photo's access rule and a case's cameras.
//! A closed case that has left the world is reopened, and comes back.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::cases::{GridPlace, act, act_ok, grid_place, report, token};
use crate::harness::{Flavor, Server, TestStore, assert_problem, assert_same};
use crate::photos::{jpeg, upload};

#[tokio::test]
async fn finished_cases_leave_the_world_and_read_the_same_on_sqlite() {
    archive(Flavor::Sqlite).await;
}

#[tokio::test]
async fn finished_cases_leave_the_world_and_read_the_same_on_postgis() {
    archive(Flavor::Postgres).await;
}

/// How many cases the world holds, and how many of them are finished (`/health`).
async fn held(server: &Server) -> (i64, i64) {
    let (_, health) = server.get("/health").await;
    let cases = &health["cases"];
    (
        cases["held"].as_i64().unwrap(),
        cases["finished"].as_i64().unwrap(),
    )
}

/// Takes a case through the whole loop to `closed`.
async fn close(server: &Server, worker: &str, commander: &str, id: i64) {
    act_ok(server, worker, id, &json!({"action": "accept"})).await;
    act_ok(server, worker, id, &json!({"action": "start"})).await;
    act_ok(
        server,
        worker,
        id,
        &json!({"action": "resolve", "note": "done"}),
    )
    .await;
    let closed = act_ok(
        server,
        commander,
        id,
        &json!({"action": "verify", "passed": true}),
    )
    .await;
    assert_eq!(closed["status"], "closed");
}

/// Every read of history the test compares, by what it asks, as `(who, path)`.
fn reads(tokens: &Tokens, cases: &[i64], here: &GridPlace, photo: &str) -> Vec<(String, String)> {
    let from = (Utc::now() - Duration::days(2)).format("%Y-%m-%d");
    let to = (Utc::now() + Duration::days(2)).format("%Y-%m-%d");
    let b = 0.002;
    let bbox = format!(
        "{},{},{},{}",
        here.lon - b,
        here.lat - b,
        here.lon + b,
        here.lat + b
    );
    let mut reads: Vec<(String, String)> = [
        "/api/incidents?limit=1000".to_owned(),
        "/api/incidents?status=closed,cancelled,merged".to_owned(),
        "/api/incidents?status=closed,dispatched&limit=2&offset=1".to_owned(),
        "/api/incidents?limit=3&offset=2".to_owned(),
        "/api/incidents?limit=3&offset=7".to_owned(),
        format!("/api/incidents?grid={}", here.grid),
        format!("/api/incidents?community={}", here.community),
        format!("/api/incidents?assignee={}", here.primary),
        "/api/incidents?category=city_appearance".to_owned(),
        "/api/incidents?overdue=false".to_owned(),
        "/api/incidents?overdue=true".to_owned(),
        format!("/api/incidents?bbox={bbox}"),
        format!("/api/reports/kpi?level=grid&from={from}&to={to}"),
        format!("/api/reports/kpi?level=worker&from={from}&to={to}"),
        "/open311/v2/requests.json".to_owned(),
        "/open311/v2/requests.json?status=closed".to_owned(),
        format!("/api/photos/{photo}"),
    ]
    .into_iter()
    .map(|path| (tokens.admin.clone(), path))
    .collect();
    for id in cases {
        reads.push((tokens.admin.clone(), format!("/api/incidents/{id}")));
        reads.push((tokens.admin.clone(), format!("/api/incidents/{id}/cameras")));
        reads.push((
            tokens.admin.clone(),
            format!("/open311/v2/requests/{id}.json"),
        ));
    }
    // Scoped readers: the worker of the first grid, another grid's worker, a reporter.
    for token in [&tokens.worker, &tokens.other, &tokens.reporter] {
        reads.push((token.clone(), "/api/incidents?limit=1000".to_owned()));
        reads.push((token.clone(), format!("/api/photos/{photo}")));
        reads.push((token.clone(), format!("/api/incidents/{}", cases[0])));
    }
    reads
}

struct Tokens {
    admin: String,
    commander: String,
    worker: String,
    other: String,
    reporter: String,
}

/// Every read's status and body (a photo's bytes as their length).
async fn answers(server: &Server, reads: &[(String, String)]) -> Vec<(u16, Value)> {
    let mut out = Vec::new();
    for (token, path) in reads {
        let response = server
            .http
            .get(server.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| json!(bytes.len()));
        out.push((status, body));
    }
    out
}

async fn archive(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let mut server = Server::demo(&store);
    let here = grid_place(&server, 0, 0).await;
    let there = grid_place(&server, 1, 0).await;
    let tokens = Tokens {
        admin: server.token().to_owned(),
        commander: token(&server, "commander", None).await,
        worker: token(&server, "worker", Some(here.primary)).await,
        other: token(&server, "worker", Some(there.primary)).await,
        reporter: token(&server, "reporter", None).await,
    };
    let (worker, commander) = (&tokens.worker, &tokens.commander);

    // Ten cases in two grids: four closed (one with a photo), two cancelled, one merged, three open.
    let mut ids = Vec::new();
    for n in 0..10 {
        let place = if n % 3 == 2 { &there } else { &here };
        let category = if n % 2 == 0 {
            "city_appearance"
        } else {
            "public_safety"
        };
        let c = report(&server, &tokens.reporter, place.lat, place.lon, category).await;
        ids.push(c["id"].as_i64().unwrap());
    }
    let photo = {
        let (status, photo) = upload(&server, worker, ids[0], &jpeg(600)).await;
        assert_eq!(status, 201, "{photo}");
        photo["sha256"].as_str().unwrap().to_owned()
    };
    for &id in &[ids[0], ids[1], ids[3], ids[4]] {
        close(&server, worker, commander, id).await;
    }
    for &id in &[ids[2], ids[5]] {
        act_ok(
            &server,
            commander,
            id,
            &json!({"action": "cancel", "reason": "duplicate call"}),
        )
        .await;
    }
    act_ok(
        &server,
        commander,
        ids[6],
        &json!({"action": "merge", "into": ids[7]}),
    )
    .await;
    let filed = server
        .http
        .post(server.url("/open311/v2/requests.json"))
        .form(&[
            ("api_key", tokens.reporter.as_str()),
            ("service_code", "city_appearance"),
            ("lat", here.lat.to_string().as_str()),
            ("long", here.lon.to_string().as_str()),
            ("description", "垃圾满溢 overflowing bin"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(filed.status().as_u16(), 201);
    let filed: Value = filed.json().await.unwrap();
    let open311: i64 = filed[0]["service_request_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    act_ok(
        &server,
        commander,
        open311,
        &json!({"action": "cancel", "reason": "withdrawn"}),
    )
    .await;
    ids.push(open311);

    let reads = reads(&tokens, &ids, &here, &photo);
    let before = answers(&server, &reads).await;
    let (all, finished) = held(&server).await;
    assert_eq!(finished, 8, "four closed, three cancelled, one merged");
    assert!(all >= 11, "{all}");
    // The reference must be worth comparing: the lists hold the finished cases, the photo shows.
    assert_eq!(before[1].1["total"], 8, "{}", before[1].1);
    assert_eq!(before[16].0, 200, "the photo, to the admin");

    // Restart with a one-second window: the finished cases are not loaded.
    server.terminate(std::time::Duration::from_secs(10)).await;
    drop(server);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let server = Server::start(&["demo", "--archive-after-s", "1"], &store);
    assert_eq!(
        held(&server).await,
        (all - finished, 0),
        "the world holds only the unfinished cases"
    );
    let after = answers(&server, &reads).await;
    for ((read, a), b) in reads.iter().zip(&before).zip(&after) {
        assert_eq!(a.0, b.0, "{read:?}: {}", b.1);
        assert_same(&a.1, &b.1, &format!("{read:?}"));
    }

    // A case finished while the server runs ages out within a couple of seconds of its window.
    // Taken before the close: the case's last change is after it, so it may not leave before line + 1 s.
    let line = Utc::now();
    close(&server, worker, &tokens.commander, ids[7]).await;
    assert_eq!(held(&server).await, (all - finished, 1));
    let mut left = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if held(&server).await == (all - finished - 1, 0) {
            left = true;
            break;
        }
    }
    assert!(left, "the closed case was still held 5 s after it closed");
    assert!(
        Utc::now() - line >= Duration::seconds(1),
        "it left before its window"
    );
    let (status, seven) = server.get(&format!("/api/incidents/{}", ids[7])).await;
    assert_eq!(status, 200);
    assert_eq!(seven["properties"]["status"], "closed");
    let (_, closed) = server.get("/api/incidents?status=closed&limit=1000").await;
    assert_eq!(closed["total"], 5, "{closed}");

    // A closed case that left the world is reopened: it comes back, open, with its whole history.
    let reopened = act_ok(
        &server,
        commander,
        ids[0],
        &json!({"action": "reopen", "reason": "the light is out again"}),
    )
    .await;
    assert_eq!(reopened["status"], "dispatched", "{reopened}");
    assert_eq!(held(&server).await, (all - finished, 0));
    let (_, full) = server.get(&format!("/api/incidents/{}", ids[0])).await;
    let history = full["properties"]["history"].as_array().unwrap();
    assert_eq!(history.last().unwrap()["action"], "reopen");
    assert_eq!(full["properties"]["photos"].as_array().unwrap().len(), 1);
    // An archived cancelled case refuses what its status refuses, as before; unknown ids are 404.
    assert_problem(
        &act(&server, commander, ids[2], &json!({"action": "accept"})).await,
        409,
        "illegal-transition",
    );
    assert_problem(&server.get("/api/incidents/999999").await, 404, "not-found");
    assert_eq!(server.get("/open311/v2/requests/999999.json").await.0, 404);
    drop(server);
    store.finish().await;
}
