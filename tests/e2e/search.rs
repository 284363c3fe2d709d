//! Search (issue 22, item 4) on the real binary, both stores: `GET /api/search` finds a case by a
//! two-character Chinese word inside a longer run ("燃气" in "闻到燃气味道"), by a longer phrase and by
//! several words, by its number (`123`, `#123`), a grid by its code; LIKE wildcards and `FTS5` syntax in
//! the query are plain text; a scoped worker and a reporter never find a case outside their scope;
//! `GET /api/incidents?q=` filters the same way, archived cases included after a restart with a short
//! archive window; bad input is a 4xx problem. Also the dispatch list's order
//! (`/api/incidents/{id}/candidates`) and the worker popup's fields (`/api/workers/{id}`).

use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::{GridPlace, act_ok, grid_place, token};
use crate::harness::{Flavor, Server, TestStore, assert_problem};

#[tokio::test]
async fn search_finds_cases_grids_in_scope_on_sqlite() {
    search(Flavor::Sqlite).await;
}

#[tokio::test]
async fn search_finds_cases_grids_in_scope_on_postgis() {
    search(Flavor::Postgres).await;
}

/// Every byte but ASCII letters and digits percent-encoded, for a query string.
fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn file(server: &Server, token: &str, at: &GridPlace, category: &str, text: &str) -> i64 {
    let body = json!({"lat": at.lat, "lon": at.lon, "category": category, "priority": "normal",
        "description": text, "source": "hotline"});
    let (status, case) = server
        .send_as(token, Method::POST, "/api/incidents", &body)
        .await;
    assert_eq!(status, 201, "{case}");
    case["properties"]["id"].as_i64().unwrap()
}

/// The ids of the cases `/api/search?q=` answers `token`, in order.
async fn found(server: &Server, token: &str, q: &str) -> Vec<i64> {
    let (status, body) = server
        .get_as(token, &format!("/api/search?q={}&limit=50", enc(q)))
        .await;
    assert_eq!(status, 200, "{q}: {body}");
    ids(&body["cases"])
}

/// The ids of the cases `/api/incidents?q=` lists to `token`.
async fn listed(server: &Server, token: &str, q: &str) -> Vec<i64> {
    let (status, body) = server
        .get_as(token, &format!("/api/incidents?q={}&limit=1000", enc(q)))
        .await;
    assert_eq!(status, 200, "{q}: {body}");
    body["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["id"].as_i64().unwrap())
        .collect()
}

/// A grid of another community than `here`'s: out of the scope of `here`'s worker.
async fn other_community(server: &Server, here: &GridPlace) -> GridPlace {
    for n in 1.. {
        let there = grid_place(server, n, 0).await;
        if there.community != here.community {
            return there;
        }
    }
    unreachable!()
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

async fn search(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let mut server = Server::demo(&store);
    let here = grid_place(&server, 0, 0).await;
    let there = other_community(&server, &here).await;
    let admin = server.token().to_owned();
    let commander = token(&server, "commander", None).await;
    let worker = token(&server, "worker", Some(here.primary)).await;
    let reporter = token(&server, "reporter", None).await;

    let gas = file(
        &server,
        &admin,
        &here,
        "emergency",
        "闻到燃气味道 gas smell at the gate",
    )
    .await;
    let gas_there = file(
        &server,
        &admin,
        &there,
        "emergency",
        "燃气管道漏气 pipe leak",
    )
    .await;
    let manhole = file(
        &server,
        &admin,
        &here,
        "city_appearance",
        "井盖缺失 manhole cover missing",
    )
    .await;
    let wild = file(&server, &admin, &here, "other", r"100% sure_it\is").await;
    let own = file(&server, &reporter, &here, "hazard", "燃气表异常").await;

    // A 2-character Chinese word inside a run without spaces, on every case the admin may see.
    let hits = found(&server, &admin, "燃气").await;
    for id in [gas, gas_there, own] {
        assert!(hits.contains(&id), "燃气 must find {id}: {hits:?}");
    }
    assert!(
        !hits.contains(&manhole) && !hits.contains(&wild),
        "{hits:?}"
    );
    assert!(
        hits.windows(2).all(|w| w[0] > w[1]),
        "newest first: {hits:?}"
    );
    // A phrase of 3+ characters (the trigram index), several words, and case ignored.
    assert_eq!(found(&server, &admin, "井盖缺失").await, [manhole]);
    assert_eq!(found(&server, &admin, "Manhole COVER").await, [manhole]);
    assert_eq!(found(&server, &admin, "燃气 gas").await, [gas]);
    assert_eq!(found(&server, &admin, "燃气味道 smell").await, [gas]);
    assert!(found(&server, &admin, "燃气 manhole").await.is_empty());
    // Wildcards and FTS5 syntax are text.
    assert_eq!(found(&server, &admin, "%").await, [wild]);
    assert_eq!(found(&server, &admin, "_").await, [wild]);
    assert_eq!(found(&server, &admin, r"\").await, [wild]);
    assert_eq!(found(&server, &admin, "0% s").await, [wild]);
    for syntax in [
        "\"",
        "\"\"",
        "OR",
        "gas OR pipe",
        "NEAR(gas pipe)",
        "ga*",
        "description:gas",
        "(",
        "'; --",
    ] {
        let hits = found(&server, &admin, syntax).await;
        assert!(
            !hits.contains(&gas_there),
            "{syntax:?} is not syntax: {hits:?}"
        );
    }
    // By number, plain and with '#', first; a number nobody has finds no case.
    for q in [gas.to_string(), format!("#{gas}")] {
        let (status, body) = server.get(&format!("/api/search?q={}", enc(&q))).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["cases"][0]["id"], gas, "{q}: {body}");
        assert_eq!(body["cases"][0]["match"], "number");
        assert_eq!(
            body["cases"][0]["description"],
            "闻到燃气味道 gas smell at the gate"
        );
        assert!(body["cases"][0]["lon"].is_f64());
    }
    assert!(found(&server, &admin, "99999999").await.is_empty());
    // A grid by its code: the exact one first, with where to fly.
    let (_, grid) = server.get(&format!("/api/grids/{}", here.grid)).await;
    let code = grid["properties"]["code"].as_str().unwrap().to_owned();
    let (status, body) = server.get(&format!("/api/search?q={code}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["grids"][0]["id"], here.grid, "{body}");
    assert_eq!(body["grids"][0]["code"], code.as_str());
    assert!(body["grids"][0]["center"][0].is_f64() && body["grids"][0]["bbox"][3].is_f64());
    let (_, body) = server.get(&format!("/api/search?q={}", &code[..12])).await;
    assert!(
        ids(&body["grids"]).contains(&here.grid),
        "a code prefix: {body}"
    );

    // Scope: the worker of `here` finds its grid's gas case, not the other grid's, by text or by
    // number; the reporter only its own case.
    let hits = found(&server, &worker, "燃气").await;
    assert!(
        hits.contains(&gas) && !hits.contains(&gas_there),
        "{hits:?}"
    );
    assert!(
        found(&server, &worker, &gas_there.to_string())
            .await
            .is_empty()
    );
    let (_, body) = server
        .get_as(&worker, &format!("/api/search?q={}", &code[..6]))
        .await;
    let other_code = {
        let (_, g) = server.get(&format!("/api/grids/{}", there.grid)).await;
        g["properties"]["code"].as_str().unwrap().to_owned()
    };
    assert!(
        body["grids"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["code"] != other_code.as_str()),
        "another grid is out of the worker's scope: {body}"
    );
    assert_eq!(found(&server, &reporter, "燃气").await, [own]);
    // The list's q, the same rule.
    let hits = listed(&server, &admin, "燃气").await;
    assert!(hits.contains(&gas) && hits.contains(&gas_there) && !hits.contains(&manhole));
    let hits = listed(&server, &worker, "燃气").await;
    assert!(
        hits.contains(&gas) && !hits.contains(&gas_there),
        "{hits:?}"
    );
    assert_eq!(listed(&server, &admin, "井盖缺失").await, [manhole]);
    assert_eq!(listed(&server, &admin, "%").await, [wild]);

    // Bad input: a 4xx problem, nothing found.
    for path in [
        "/api/search?q=".to_owned(),
        "/api/search?q=%20%20".to_owned(),
        format!("/api/search?q={}", enc(&"字".repeat(101))),
        "/api/search?q=a%00b".to_owned(),
        "/api/search?q=a+b+c+d+e+f+g+h+i".to_owned(),
        "/api/search?q=gas&limit=0".to_owned(),
        "/api/search?q=gas&limit=51".to_owned(),
        "/api/incidents?q=".to_owned(),
        format!("/api/incidents?q={}", enc(&"x".repeat(101))),
    ] {
        assert_problem(&server.get(&path).await, 422, "invalid-input");
    }
    for path in [
        "/api/search",
        "/api/search?q=gas&limit=abc",
        "/api/search?q=gas&limit=-1",
        "/api/search?q=gas&limit=NaN",
        "/api/search?q=gas&extra=1",
    ] {
        assert_problem(&server.get(path).await, 400, "invalid-query");
    }
    assert_eq!(
        server
            .get(&format!("/api/search?q={}", enc(&"字".repeat(100))))
            .await
            .0,
        200
    );

    // Finished cases are found; archived ones too, after a restart with a short archive window.
    for (id, who) in [(manhole, &commander)] {
        act_ok(
            &server,
            who,
            id,
            &json!({"action": "cancel", "reason": "重复 duplicate"}),
        )
        .await;
    }
    assert_eq!(found(&server, &admin, "井盖缺失").await, [manhole]);
    server.terminate(std::time::Duration::from_secs(10)).await;
    drop(server);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let server = Server::start(&["demo", "--archive-after-s", "1"], &store);
    let (_, health) = server.get("/health").await;
    assert_eq!(
        health["cases"]["finished"], 0,
        "the cancelled case is archived: {health}"
    );
    assert_eq!(found(&server, server.token(), "井盖缺失").await, [manhole]);
    assert_eq!(listed(&server, server.token(), "井盖缺失").await, [manhole]);
    assert_eq!(
        listed(&server, server.token(), "manhole missing").await,
        [manhole]
    );
    let hits = listed(&server, server.token(), "燃气").await;
    assert!(hits.contains(&gas) && !hits.contains(&manhole), "{hits:?}");
    drop(server);
    store.finish().await;
}

#[tokio::test]
async fn dispatch_list_and_worker_popup_on_sqlite() {
    let Some(store) = TestStore::new(Flavor::Sqlite).await else {
        return;
    };
    let server = Server::demo(&store);
    let here = grid_place(&server, 0, 0).await;
    let admin = server.token().to_owned();
    let case = file(&server, &admin, &here, "other", "路灯不亮").await;
    let (status, body) = server
        .get(&format!("/api/incidents/{case}/candidates"))
        .await;
    assert_eq!(status, 200, "{body}");
    let list = body["candidates"].as_array().unwrap();
    assert!(!list.is_empty());
    // Sorted: on duty first, then nearest (unknown last), then least loaded.
    let key = |c: &Value| {
        (
            !c["on_duty"].as_bool().unwrap(),
            c["distance_m"].as_f64().unwrap_or(f64::INFINITY),
            c["open_load"].as_u64().unwrap(),
        )
    };
    for pair in list.windows(2) {
        assert!(
            key(&pair[0]) <= key(&pair[1]),
            "{} before {}",
            pair[0],
            pair[1]
        );
    }
    let primary = list.iter().find(|c| c["id"] == here.primary).unwrap();
    assert_eq!(primary["responsible"], true, "{primary}");
    assert!(primary["distance_m"].as_f64().is_some(), "{primary}");
    // A position moves a worker: set one at the case itself, and they are the nearest on duty.
    let (status, body) = server
        .send(
            Method::PUT,
            &format!("/api/workers/{}/position", here.primary),
            &json!({"lat": here.lat, "lon": here.lon}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (_, body) = server
        .get(&format!("/api/incidents/{case}/candidates"))
        .await;
    let first_on = body["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == here.primary)
        .unwrap();
    assert_eq!(first_on["distance_from"], "position");
    assert!(first_on["distance_m"].as_f64().unwrap() < 1.0, "{first_on}");
    // The popup: open cases and last fix.
    let (status, worker) = server.get(&format!("/api/workers/{}", here.primary)).await;
    assert_eq!(status, 200);
    let p = &worker["properties"];
    let open = ids(&p["open_cases"]);
    assert_eq!(p["open_load"], open.len());
    assert!(
        p["last_fix_age_s"]
            .as_i64()
            .is_some_and(|s| (0..600).contains(&s)),
        "{p}"
    );
    let (_, assigned) = server
        .get(&format!("/api/incidents?assignee={}&status=registered,dispatched,accepted,in_progress,resolved&limit=1000", here.primary))
        .await;
    let mut expected: Vec<i64> = assigned["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    expected.sort_unstable();
    assert_eq!(open, expected);
    // Unknown and malformed ids.
    assert_problem(
        &server.get("/api/incidents/99999999/candidates").await,
        404,
        "not-found",
    );
    assert_eq!(server.get("/api/incidents/abc/candidates").await.0, 400);
    drop(server);
    store.finish().await;
}
