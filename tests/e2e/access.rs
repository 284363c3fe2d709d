//! Roles and scopes: a worker token sees only its own grids; tokens minted by the CLI work at once.

use reqwest::Method;
use serde_json::json;

use crate::harness::{Flavor, Server, TestStore, assert_problem};

#[tokio::test]
async fn a_worker_token_sees_only_its_grids_on_sqlite() {
    worker_sees_only_its_grids(Flavor::Sqlite).await;
}

#[tokio::test]
async fn a_worker_token_sees_only_its_grids_on_postgis() {
    worker_sees_only_its_grids(Flavor::Postgres).await;
}

async fn worker_sees_only_its_grids(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let (_, grids) = server.get("/api/grids").await;
    let grids = grids["features"].as_array().unwrap();
    let mine = &grids[0]["properties"];
    let other = &grids[1]["properties"];
    let (my_grid, other_grid) = (mine["id"].as_i64().unwrap(), other["id"].as_i64().unwrap());
    let me = mine["primary_worker_id"].as_i64().unwrap();
    let them = other["primary_worker_id"].as_i64().unwrap();

    let (status, minted) = server
        .send(
            Method::POST,
            "/api/tokens",
            &json!({"role": "worker", "worker_id": me, "label": "phone"}),
        )
        .await;
    assert_eq!(status, 201, "{minted}");
    let token = minted["token"].as_str().unwrap();

    // Its own grid: readable, and only its own buildings come back.
    let (status, buildings) = server
        .get_as(token, &format!("/api/buildings?grid={my_grid}"))
        .await;
    assert_eq!(status, 200);
    let own = buildings["features"].as_array().unwrap();
    assert!(!own.is_empty());
    assert!(own.iter().all(|b| b["properties"]["grid_id"] == my_grid));
    let (_, all) = server.get_as(token, "/api/buildings").await;
    assert_eq!(
        all["features"].as_array().unwrap().len(),
        own.len(),
        "unfiltered list is limited to its grid"
    );
    let (_, visible) = server.get_as(token, "/api/grids").await;
    let visible: Vec<_> = visible["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_i64().unwrap())
        .collect();
    assert_eq!(visible, vec![my_grid]);

    // Another grid's buildings and workers: 403.
    assert_problem(
        &server
            .get_as(token, &format!("/api/buildings?grid={other_grid}"))
            .await,
        403,
        "forbidden",
    );
    assert_problem(
        &server
            .get_as(token, &format!("/api/workers?grid={other_grid}"))
            .await,
        403,
        "forbidden",
    );
    assert_problem(
        &server.get_as(token, &format!("/api/workers/{them}")).await,
        403,
        "forbidden",
    );
    assert_problem(
        &server
            .get_as(token, &format!("/api/grids/{other_grid}"))
            .await,
        403,
        "forbidden",
    );
    let (_, other_buildings) = server
        .get(&format!("/api/buildings?grid={other_grid}"))
        .await;
    let other_building = other_buildings["features"][0]["id"].as_i64().unwrap();
    assert_problem(
        &server
            .get_as(token, &format!("/api/buildings/{other_building}"))
            .await,
        403,
        "forbidden",
    );
    // It may go on and off duty itself, but not manage others or mint tokens.
    let (status, _) = server
        .send_as(
            token,
            Method::PUT,
            &format!("/api/workers/{me}/duty"),
            &json!({"duty": "off_duty"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_problem(
        &server
            .send_as(
                token,
                Method::PUT,
                &format!("/api/workers/{them}/duty"),
                &json!({"duty": "off_duty"}),
            )
            .await,
        403,
        "forbidden",
    );
    assert_problem(
        &server
            .send_as(
                token,
                Method::POST,
                "/api/tokens",
                &json!({"role": "admin"}),
            )
            .await,
        403,
        "forbidden",
    );

    // A reporter files and follows its own reports (Open311) and reads nothing of the map.
    let reporter = store.cli(&["token", "create", "--role", "reporter"]);
    assert!(reporter.status.success());
    let reporter = String::from_utf8(reporter.stdout).unwrap();
    // Minted by the CLI while the server runs: accepted at once.
    let (status, _) = server.get_as(reporter.trim(), "/api/me").await;
    assert_eq!(status, 200);
    assert_problem(
        &server
            .get_as(reporter.trim(), "/api/locate?lat=36.19&lon=113.11")
            .await,
        403,
        "forbidden",
    );
    assert_problem(
        &server.get_as(reporter.trim(), "/api/buildings").await,
        403,
        "forbidden",
    );

    // A commander scoped to one community sees that community's grids only.
    let community = mine["community_id"].as_i64().unwrap();
    let commander = store.cli(&[
        "token",
        "create",
        "--role",
        "commander",
        "--scope",
        &format!("region:{community}"),
    ]);
    let commander = String::from_utf8(commander.stdout).unwrap();
    let (_, scoped) = server.get_as(commander.trim(), "/api/grids").await;
    let scoped = scoped["features"].as_array().unwrap();
    assert!(!scoped.is_empty() && scoped.len() < grids.len());
    assert!(
        scoped
            .iter()
            .all(|g| g["properties"]["community_id"] == community)
    );
    let bad = store.cli(&[
        "token",
        "create",
        "--role",
        "commander",
        "--scope",
        "region:987654",
    ]);
    assert!(
        !bad.status.success(),
        "a scope on an unknown region is refused"
    );
    drop(server);
    store.finish().await;
}

/// `GET /api/me`: each role's answer, written out by hand from the endpoints' role checks.
#[tokio::test]
async fn me_says_who_the_caller_is_and_what_it_may_do() {
    let Some(store) = TestStore::new(Flavor::Sqlite).await else {
        return;
    };
    let server = Server::demo(&store);
    let (_, grids) = server.get("/api/grids").await;
    let grid = &grids["features"][0]["properties"];
    let worker = grid["primary_worker_id"].as_i64().unwrap();
    let grid_id = grid["id"].as_i64().unwrap();

    let (status, admin) = server.get("/api/me").await;
    assert_eq!(status, 200, "{admin}");
    assert_eq!(admin["role"], "admin");
    // The deployment's zone, for pages to show times in: the default calendar's UTC+8.
    assert_eq!(admin["tz_offset_minutes"], 480);
    assert_eq!(
        admin["may"],
        json!({"act_on_cases": true, "read_kpi": true, "change_boundaries": true, "mint_tokens": true,
            "read_alarms": true, "acknowledge_alarms": true,
            "read_warnings": true, "replay_map": true})
    );
    let cases = [
        (
            "commander",
            None,
            vec![],
            json!({"act_on_cases": true, "read_kpi": true, "change_boundaries": false, "mint_tokens": false,
                "read_alarms": true, "acknowledge_alarms": true,
            "read_warnings": true, "replay_map": true}),
        ),
        (
            "planner",
            None,
            vec![],
            json!({"act_on_cases": false, "read_kpi": false, "change_boundaries": true, "mint_tokens": false,
                "read_alarms": false, "acknowledge_alarms": false,
                "read_warnings": false, "replay_map": false}),
        ),
        (
            "worker",
            Some(worker),
            vec![format!("grid:{grid_id}")],
            json!({"act_on_cases": true, "read_kpi": false, "change_boundaries": false, "mint_tokens": false,
                "read_alarms": false, "acknowledge_alarms": false,
                "read_warnings": false, "replay_map": false}),
        ),
        (
            "reporter",
            None,
            vec![],
            json!({"act_on_cases": false, "read_kpi": false, "change_boundaries": false, "mint_tokens": false,
                "read_alarms": false, "acknowledge_alarms": false,
                "read_warnings": false, "replay_map": false}),
        ),
    ];
    for (role, worker_id, scopes, may) in cases {
        let (status, minted) = server
            .send(
                Method::POST,
                "/api/tokens",
                &json!({"role": role, "worker_id": worker_id, "scopes": scopes, "label": role}),
            )
            .await;
        assert_eq!(status, 201, "{minted}");
        let (status, me) = server
            .get_as(minted["token"].as_str().unwrap(), "/api/me")
            .await;
        assert_eq!(status, 200, "{me}");
        assert_eq!(me["role"], role);
        assert_eq!(me["token_id"], minted["id"]);
        assert_eq!(me["worker_id"], json!(worker_id));
        assert_eq!(me["scopes"], json!(scopes));
        assert_eq!(me["may"], may, "{role}");
    }
    assert_problem(
        &server.get_as("gw_not_a_token", "/api/me").await,
        401,
        "unauthorized",
    );
}
