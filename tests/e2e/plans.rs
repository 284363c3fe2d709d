//! Boundary plans (网格调整) through the real binary, on both stores: validation refuses a gap, an
//! overlap, a foreign cell and a split grid (each a problem+json naming the cells, nothing stored); bad
//! input on every plan endpoint; a one-cell move applied, then rolled back, restores cells, codes and
//! worker assignments exactly; KPIs by grid of closed cases do not change; the open case in the moved
//! cell ends with the new grid's worker and a `boundary_change` history entry; a websocket client gets
//! `boundary.changed` and the tiles it invalidates; the grids tile over the moved cell changes its `ETag`;
//! the resulting grids are checked with the `h3` reference library (`tests/reference/check_plans.py`);
//! `gridwatch partition` prints a plan's figures and stores an automatic draft.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::str::FromStr;

use h3o::CellIndex;
use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::{act_ok, case, report, token};
use crate::harness::{
    Flavor, Server, TestStore, assert_problem, assert_same, reference_python, workspace_root,
};
use crate::live::Ws;
use crate::tiles::{tile_at, tile_bytes};

#[tokio::test]
async fn plans_on_sqlite() {
    plans(Flavor::Sqlite).await;
}

#[tokio::test]
async fn plans_on_postgis() {
    plans(Flavor::Postgres).await;
}

/// A grid of the community as the API lists it: id, code, cells, primary worker.
pub(crate) struct G {
    pub id: i64,
    pub code: String,
    pub cells: Vec<CellIndex>,
    pub primary: Option<i64>,
}

pub(crate) fn grids_of(collection: &Value, community: i64) -> Vec<G> {
    collection["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["properties"])
        .filter(|p| p["community_id"] == community)
        .map(|p| G {
            id: p["id"].as_i64().unwrap(),
            code: p["code"].as_str().unwrap().to_owned(),
            cells: p["cells"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| CellIndex::from_str(c.as_str().unwrap()).unwrap())
                .collect(),
            primary: p["primary_worker_id"].as_i64(),
        })
        .collect()
}

/// The plan body giving every grid its cells, with `change` applied to the list first.
pub(crate) fn body(grids: &[G], change: impl FnOnce(&mut Vec<(String, Vec<String>)>)) -> Value {
    let mut list: Vec<(String, Vec<String>)> = grids
        .iter()
        .map(|g| {
            (
                g.code.clone(),
                g.cells.iter().map(ToString::to_string).collect(),
            )
        })
        .collect();
    change(&mut list);
    json!({"grids": list.into_iter().map(|(code, cells)| json!({"code": code, "cells": cells})).collect::<Vec<_>>()})
}

pub(crate) fn adjacent(a: CellIndex, b: CellIndex) -> bool {
    a.is_neighbor_with(b).unwrap_or(false)
}

async fn plans(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let admin = server.token().to_owned();

    let (status, all) = server.get("/api/grids?cells=true").await;
    assert_eq!(status, 200);
    let community = all["features"][0]["properties"]["community_id"]
        .as_i64()
        .unwrap();
    let grids = grids_of(&all, community);
    let base = format!("/api/communities/{community}/plans");

    // A cell x of grid A that touches grid B, such that A without x stays connected (tried in order:
    // the server's own refusal tells a cut cell, and the reference checks the result).
    let mut choice = None;
    'search: for (a, ga) in grids.iter().enumerate() {
        for (b, gb) in grids.iter().enumerate() {
            if a == b || ga.cells.len() < 3 {
                continue;
            }
            for &x in &ga.cells {
                if gb.cells.iter().any(|&c| adjacent(c, x)) && connected_without(&ga.cells, x) {
                    choice = Some((a, b, x));
                    break 'search;
                }
            }
        }
    }
    let (a, b, x) = choice.expect("two neighbouring grids");
    let (ga, gb) = (&grids[a], &grids[b]);
    let xs = x.to_string();
    let centre = h3o::LatLng::from(x);

    // Cases in cell x: one open (to be re-routed), one closed (keeps grid A).
    let open = report(
        &server,
        &admin,
        centre.lat(),
        centre.lng(),
        "city_appearance",
    )
    .await;
    assert_eq!(open["grid_id"], ga.id, "{open}");
    assert_eq!(open["assignee"].as_i64(), ga.primary);
    let closed = report(&server, &admin, centre.lat(), centre.lng(), "hazard").await;
    let handler = token(&server, "worker", ga.primary).await;
    let closed_id = closed["id"].as_i64().unwrap();
    act_ok(&server, &handler, closed_id, &json!({"action": "accept"})).await;
    act_ok(&server, &handler, closed_id, &json!({"action": "start"})).await;
    act_ok(&server, &handler, closed_id, &json!({"action": "resolve"})).await;
    let done = act_ok(
        &server,
        &admin,
        closed_id,
        &json!({"action": "verify", "passed": true}),
    )
    .await;
    assert_eq!(done["status"], "closed");
    // The bulletin of this month (the server's calendar is UTC+8).
    let month = (chrono::Utc::now() + chrono::TimeDelta::hours(8))
        .format("%Y-%m")
        .to_string();
    let kpi_path = format!("/api/reports/kpi?level=grid&period={month}");
    let (status, kpi_before) = server.get(&kpi_path).await;
    assert_eq!(status, 200, "{kpi_before}");

    // --- Validation: each refusal names the cells or grids, and stores nothing.
    let gap = body(&grids, |l| l[a].1.retain(|c| *c != xs));
    let refused = server.send(Method::POST, &base, &gap).await;
    assert_problem(&refused, 422, "plan-gap");
    assert_eq!(refused.1["problems"][0]["kind"], "gap");
    assert_eq!(refused.1["problems"][0]["cells"], json!([xs]));

    let overlap = body(&grids, |l| l[b].1.push(xs.clone()));
    let refused = server.send(Method::POST, &base, &overlap).await;
    assert_problem(&refused, 422, "plan-overlap");
    assert_eq!(refused.1["problems"][0]["cells"], json!([xs]));
    let mut named = refused.1["problems"][0]["grids"]
        .as_array()
        .unwrap()
        .clone();
    named.sort_by_key(|v| v.as_str().unwrap().to_owned());
    let mut expected = vec![json!(ga.code), json!(gb.code)];
    expected.sort_by_key(|v| v.as_str().unwrap().to_owned());
    assert_eq!(named, expected);

    let foreign_cell = all["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["community_id"] != community)
        .map(|f| f["properties"]["cells"][0].as_str().unwrap().to_owned())
        .unwrap();
    let foreign = body(&grids, |l| l[a].1.push(foreign_cell.clone()));
    let refused = server.send(Method::POST, &base, &foreign).await;
    assert_problem(&refused, 422, "plan-foreign-cell");
    assert_eq!(refused.1["problems"][0]["cells"], json!([foreign_cell]));

    // A cell of A touching no cell of B, given to B: B falls apart.
    let far = ga
        .cells
        .iter()
        .find(|&&c| !gb.cells.iter().any(|&d| adjacent(c, d)) && connected_without(&ga.cells, c))
        .unwrap()
        .to_string();
    let split = body(&grids, |l| {
        l[a].1.retain(|c| *c != far);
        l[b].1.push(far.clone());
    });
    let refused = server.send(Method::POST, &base, &split).await;
    assert_problem(&refused, 422, "plan-split-grid");
    assert!(
        refused.1["problems"][0]["grids"]
            .as_array()
            .unwrap()
            .contains(&json!(gb.code)),
        "{}",
        refused.1
    );
    // The refusal names the cell cut off from B's main piece, for the planner to outline, with a
    // stable `code` and B's pieces, so a page words it in its own language.
    assert_eq!(refused.1["code"], "split_grid");
    assert_eq!(refused.1["cells"], json!([far]), "{}", refused.1);
    assert_eq!(refused.1["problems"][0]["cells"], json!([far]));
    assert_eq!(refused.1["problems"][0]["values"]["parts"][&gb.code], 2);

    // --- Bad input: a clear 4xx each, nothing stored.
    let (status, _, content_type) = server
        .send_raw(Method::POST, &base, b"{\"grids\": [".to_vec())
        .await;
    assert_eq!(
        (status, content_type.as_str()),
        (400, "application/problem+json")
    );
    assert_problem(
        &server.send(Method::POST, &base, &json!({"grids": 5})).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &server
            .send(Method::POST, &base, &json!({"grids": [{"cells": [1, 2]}]}))
            .await,
        422,
        "invalid-input",
    );
    assert_problem(
        &server
            .send(Method::POST, &base, &json!({"grids": [], "auto": true}))
            .await,
        422,
        "invalid-input",
    );
    assert_problem(
        &server
            .send(Method::POST, &base, &json!({"note": "nothing"}))
            .await,
        422,
        "invalid-input",
    );
    let invalid = body(&grids, |l| l[a].1.push("8c2a1072b59ffzz".into()));
    let refused = server.send(Method::POST, &base, &invalid).await;
    assert_problem(&refused, 422, "plan-invalid-cell");
    let coarse = body(&grids, |l| {
        l[a].1
            .push(x.parent(h3o::Resolution::Nine).unwrap().to_string());
    });
    assert_problem(
        &server.send(Method::POST, &base, &coarse).await,
        422,
        "plan-invalid-cell",
    );
    let unknown = body(&grids, |l| l[a].0 = "999999999999999".into());
    assert_problem(
        &server.send(Method::POST, &base, &unknown).await,
        422,
        "plan-unknown-grid",
    );
    let other_code = all["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["community_id"] != community)
        .unwrap()["properties"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let foreign_code = body(&grids, |l| l[a].0.clone_from(&other_code));
    assert_problem(
        &server.send(Method::POST, &base, &foreign_code).await,
        422,
        "plan-unknown-grid",
    );
    let empty = body(&grids, |l| l.push((String::new(), Vec::new())));
    assert_eq!(server.send(Method::POST, &base, &empty).await.0, 422);
    let (status, _, _) = server
        .send_raw(Method::POST, &base, vec![b' '; 2 * 1024 * 1024])
        .await;
    assert_eq!(status, 413);
    assert_problem(
        &server
            .send(Method::POST, "/api/communities/999999/plans", &gap)
            .await,
        404,
        "not-found",
    );
    let street = all["features"][0]["properties"]["street_id"]
        .as_i64()
        .unwrap();
    assert_problem(
        &server
            .send(
                Method::POST,
                &format!("/api/communities/{street}/plans"),
                &gap,
            )
            .await,
        404,
        "not-found",
    );
    assert_problem(
        &server.get(&format!("{base}/424242")).await,
        404,
        "not-found",
    );
    assert_problem(
        &server.get(&format!("{base}/424242/diff")).await,
        404,
        "not-found",
    );
    assert_problem(
        &server
            .send(Method::POST, &format!("{base}/424242/apply"), &json!({}))
            .await,
        404,
        "not-found",
    );
    assert_problem(
        &server.get(&format!("{base}/abc")).await,
        400,
        "invalid-path",
    );
    let commander = token(&server, "commander", None).await;
    let worker = token(&server, "worker", ga.primary).await;
    let planner = token(&server, "planner", None).await;
    assert_problem(
        &server.send_as(&commander, Method::POST, &base, &gap).await,
        403,
        "forbidden",
    );
    assert_problem(&server.get_as(&worker, &base).await, 403, "forbidden");
    // A planner scoped to another community may not plan this one, nor roll it back.
    let elsewhere = all["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["community_id"].as_i64().unwrap())
        .find(|&c| c != community)
        .unwrap();
    let minted = store.cli(&[
        "token",
        "create",
        "--role",
        "planner",
        "--scope",
        &format!("region:{elsewhere}"),
    ]);
    assert!(
        minted.status.success(),
        "{}",
        String::from_utf8_lossy(&minted.stderr)
    );
    let outsider = String::from_utf8(minted.stdout).unwrap().trim().to_owned();
    assert_problem(
        &server.send_as(&outsider, Method::POST, &base, &gap).await,
        403,
        "forbidden",
    );
    assert_problem(
        &server
            .send_as(&outsider, Method::POST, &base, &json!({"auto": true}))
            .await,
        403,
        "forbidden",
    );
    let (status, listed) = server.get_as(&commander, &base).await;
    assert_eq!(
        (status, listed["plans"].as_array().unwrap().len()),
        (200, 0),
        "nothing was stored: {listed}"
    );

    // --- A one-cell move: x from A to B.
    let moved = body(&grids, |l| {
        l[a].1.retain(|c| *c != xs);
        l[b].1.push(xs.clone());
    });
    let (status, plan) = server.send_as(&planner, Method::POST, &base, &moved).await;
    assert_eq!(status, 201, "{plan}");
    assert_eq!(plan["status"], "draft");
    let plan_id = plan["id"].as_i64().unwrap();
    let (status, diff) = server
        .get_as(&commander, &format!("{base}/{plan_id}/diff"))
        .await;
    assert_eq!(status, 200, "{diff}");
    assert_eq!(diff["cells_moved"], 1);
    assert_eq!(
        diff["moves"],
        json!([{"cell": xs, "from": ga.code, "to": gb.code}])
    );
    let ids: BTreeSet<i64> = diff["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        BTreeSet::from([open["id"].as_i64().unwrap()]),
        "only the open case moves: {diff}"
    );
    assert_eq!(diff["incidents"][0]["to_grid"], gb.code);
    let (_, buildings) = server.get(&format!("/api/buildings?grid={}", ga.id)).await;
    let in_x: Vec<&Value> = buildings["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["cell"] == xs)
        .collect();
    assert_eq!(diff["buildings_moved"], in_x.len());
    let households: u64 = in_x
        .iter()
        .map(|f| f["properties"]["households"].as_u64().unwrap())
        .sum();
    assert_eq!(diff["households_moved"], households);

    // Listen: the community's grids, and tiles.
    let mut ws = Ws::connect(&server, &admin).await;
    ws.subscribe(&json!({"communities": [community], "tiles": true}))
        .await;
    let tile = tile_at(centre.lng(), centre.lat(), 15);
    let (etag_before, _) = tile_bytes(&server, "grids", tile).await;

    let (status, applied) = server
        .send_as(
            &planner,
            Method::POST,
            &format!("{base}/{plan_id}/apply"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{applied}");
    let version = applied["version"]["id"].as_i64().unwrap();
    assert_problem(
        &server
            .send(Method::POST, &format!("{base}/{plan_id}/apply"), &json!({}))
            .await,
        409,
        "plan-applied",
    );

    // The tiles are dropped before the event is published: either may come first.
    let (mut event, mut told) = (None, false);
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while (event.is_none() || !told) && tokio::time::Instant::now() < deadline {
        let Ok(m) = tokio::time::timeout_at(deadline, ws.next()).await else {
            break;
        };
        seen.push(format!("{} {} {}", m["type"], m["kind"], m["layer"]));
        if m["type"] == "delta" && m["kind"] == "boundary.changed" {
            event = Some(m);
        } else if m["type"] == "tiles_invalidated" && m["layer"] == "grids" {
            let in_range = |r: &Value| {
                r["z"] == tile.0
                    && r["x"][0].as_u64().unwrap() <= u64::from(tile.1)
                    && u64::from(tile.1) <= r["x"][1].as_u64().unwrap()
                    && r["y"][0].as_u64().unwrap() <= u64::from(tile.2)
                    && u64::from(tile.2) <= r["y"][1].as_u64().unwrap()
            };
            told |= m["tiles"]
                .as_array()
                .unwrap()
                .contains(&json!([tile.0, tile.1, tile.2]))
                || m["ranges"].as_array().unwrap().iter().any(in_range);
        }
    }
    assert!(
        told,
        "no tiles_invalidated for the grids tile {tile:?}; got {seen:?}"
    );
    assert!(event.is_some(), "no boundary.changed delta; got {seen:?}");
    let event = event.unwrap();
    assert_eq!(event["layer"], "grids");
    assert_eq!(event["data"]["community"], community);
    assert_eq!(event["data"]["cells"], json!([xs]));
    assert_eq!(event["data"]["version"], version);
    let (etag_after, _) = tile_bytes(&server, "grids", tile).await;
    assert_ne!(
        etag_before, etag_after,
        "the grids tile over the moved cell changed"
    );

    let (_, after) = server.get("/api/grids?cells=true").await;
    let after_grids = grids_of(&after, community);
    let find = |code: &str| after_grids.iter().find(|g| g.code == code).unwrap();
    assert!(!find(&ga.code).cells.contains(&x) && find(&gb.code).cells.contains(&x));
    assert_eq!(
        (find(&ga.code).id, find(&gb.code).id),
        (ga.id, gb.id),
        "codes and ids stay"
    );
    check_plans(
        &server,
        community,
        &grids,
        &BTreeMap::from([(xs.clone(), gb.code.clone())]),
    );

    // The open case went to B's worker, with a history entry, and keeps grid A: the grid it was
    // registered in is kept for its whole life (issue 3). The closed one kept A too.
    let rerouted = case(&server, open["id"].as_i64().unwrap()).await;
    assert_eq!(rerouted["grid_id"], ga.id);
    assert_eq!(rerouted["assignee"].as_i64(), gb.primary, "{rerouted}");
    let last = rerouted["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["action"], "boundary_change", "{last}");
    assert_eq!(
        (
            last["detail"]["from_grid"].as_str(),
            last["detail"]["to_grid"].as_str()
        ),
        (Some(ga.code.as_str()), Some(gb.code.as_str()))
    );
    assert_eq!(case(&server, closed_id).await["grid_id"], ga.id);
    // The closed case's figures stay with A.
    let (_, kpi_after) = server.get(&kpi_path).await;
    assert_same(
        &closed_figures(&kpi_before),
        &closed_figures(&kpi_after),
        "KPIs of closed cases by grid across a boundary change",
    );

    // --- Rollback to the baseline (the version before the first change) restores everything exactly.
    let (status, versions) = server
        .get_as(
            &commander,
            &format!("/api/communities/{community}/versions"),
        )
        .await;
    assert_eq!(status, 200, "{versions}");
    let rows = versions["versions"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "baseline and the change: {versions}");
    assert_eq!(rows[1]["id"], version);
    let baseline = rows[0]["id"].as_i64().unwrap();
    assert_problem(
        &server
            .send_as(
                &commander,
                Method::POST,
                &format!("/api/communities/{community}/versions/{baseline}/rollback"),
                &json!({}),
            )
            .await,
        403,
        "forbidden",
    );
    assert_problem(
        &server
            .send(
                Method::POST,
                &format!("/api/communities/{community}/versions/424242/rollback"),
                &json!({}),
            )
            .await,
        404,
        "not-found",
    );
    assert_problem(
        &server
            .send_as(
                &outsider,
                Method::POST,
                &format!("/api/communities/{community}/versions/{baseline}/rollback"),
                &json!({}),
            )
            .await,
        403,
        "forbidden",
    );
    assert_problem(
        &server
            .send_as(
                &outsider,
                Method::POST,
                &format!("{base}/{plan_id}/apply"),
                &json!({}),
            )
            .await,
        403,
        "forbidden",
    );
    let (status, rolled) = server
        .send_as(
            &planner,
            Method::POST,
            &format!("/api/communities/{community}/versions/{baseline}/rollback"),
            &json!({"note": "undo"}),
        )
        .await;
    assert_eq!(status, 200, "{rolled}");
    assert_eq!(rolled["plan"]["kind"], "rollback");
    let (_, restored) = server.get("/api/grids?cells=true").await;
    assert_same(
        &all,
        &restored,
        "grids (cells, codes, outlines, households, workers) after rollback",
    );
    let back = case(&server, open["id"].as_i64().unwrap()).await;
    assert_eq!(
        (back["grid_id"].as_i64(), back["assignee"].as_i64()),
        (Some(ga.id), ga.primary)
    );
    let (_, kpi_rolled) = server.get(&kpi_path).await;
    assert_same(&kpi_before, &kpi_rolled, "KPIs by grid after rollback");
    let (_, versions) = server
        .get(&format!("/api/communities/{community}/versions"))
        .await;
    assert_eq!(
        versions["versions"].as_array().unwrap().len(),
        3,
        "history is append-only"
    );

    // --- A draft drawn before another change is stale: applying it would silently undo that change.
    // Two drafts on the same grids: B takes all of A (A is left out, so emptied), and the one-cell move.
    let latest = versions["versions"].as_array().unwrap().last().unwrap()["id"]
        .as_i64()
        .unwrap();
    let merged = body(&grids, |l| {
        let taken = std::mem::take(&mut l[a].1);
        l[b].1.extend(taken);
        l.retain(|(_, cells)| !cells.is_empty());
    });
    let (status, merge) = server.send_as(&planner, Method::POST, &base, &merged).await;
    assert_eq!(
        (status, merge["base_version_id"].as_i64()),
        (201, Some(latest)),
        "{merge}"
    );
    let (status, again) = server.send_as(&planner, Method::POST, &base, &moved).await;
    assert_eq!(status, 201, "{again}");
    let (status, applied) = server
        .send_as(
            &planner,
            Method::POST,
            &format!("{base}/{}/apply", merge["id"]),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{applied}");
    let merge_version = applied["version"]["id"].as_i64().unwrap();
    let (_, merged_grids) = server.get("/api/grids?cells=true").await;
    assert!(
        grids_of(&merged_grids, community)
            .iter()
            .all(|g| g.code != ga.code),
        "an emptied grid is left out of lists"
    );
    let (status, emptied) = server.get(&format!("/api/grids/{}", ga.id)).await;
    assert_eq!(status, 200, "{emptied}");
    assert_eq!(
        (
            emptied["properties"]["code"].as_str(),
            emptied["properties"]["cell_count"].as_u64(),
            emptied["properties"]["households"].as_u64()
        ),
        (Some(ga.code.as_str()), Some(0), Some(0)),
        "{emptied}"
    );
    assert_eq!(
        emptied["properties"]["primary_worker_id"].as_i64(),
        ga.primary,
        "an emptied grid keeps its worker"
    );
    let all_of_a: BTreeMap<String, String> = ga
        .cells
        .iter()
        .map(|c| (c.to_string(), gb.code.clone()))
        .collect();
    check_plans(&server, community, &grids, &all_of_a);
    let refused = server
        .send_as(
            &planner,
            Method::POST,
            &format!("{base}/{}/apply", again["id"]),
            &json!({}),
        )
        .await;
    assert_problem(&refused, 409, "plan-stale");
    assert_eq!(
        (
            refused.1["base_version"].as_i64(),
            refused.1["current_version"].as_i64()
        ),
        (Some(latest), Some(merge_version)),
        "{}",
        refused.1
    );
    assert_eq!(refused.1["problems"][0]["kind"], "stale");
    let (_, unchanged) = server.get("/api/grids?cells=true").await;
    assert_same(
        &merged_grids,
        &unchanged,
        "grids after a refused stale plan",
    );
    // Rolling back brings the emptied grid back: the same id, code, cells, outline and worker.
    let (status, rolled) = server
        .send_as(
            &planner,
            Method::POST,
            &format!("/api/communities/{community}/versions/{baseline}/rollback"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{rolled}");
    let (_, restored) = server.get("/api/grids?cells=true").await;
    assert_same(
        &all,
        &restored,
        "grids after rolling back a change that emptied a grid",
    );

    // --- The planner CLI: figures on a dry run, a draft otherwise.
    let community_arg = community.to_string();
    let output = store.cli(&["partition", "--community", &community_arg, "--dry-run"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("within 100–150 households") && stdout.contains("Polsby–Popper: mean"),
        "{stdout}"
    );
    let (_, listed) = server.get(&base).await;
    let drafts = listed["plans"].as_array().unwrap().len();
    let output = store.cli(&["partition", "--community", &community_arg]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("stored as a draft"),
        "{stdout}"
    );
    let (_, listed) = server.get(&base).await;
    let plans = listed["plans"].as_array().unwrap();
    assert_eq!(plans.len(), drafts + 1);
    assert_eq!(plans.last().unwrap()["kind"], "auto");
    let (status, auto) = server
        .send(Method::POST, &base, &json!({"auto": true}))
        .await;
    assert_eq!(status, 201, "{auto}");
    assert_eq!(auto["kind"], "auto");

    // --- The automatic plan applied: contiguous grids covering exactly the community's cells (checked
    // by the h3 reference library); the CLI's draft, drawn on the same version, is stale after it.
    let (status, applied) = server
        .send_as(
            &planner,
            Method::POST,
            &format!("{base}/{}/apply", auto["id"]),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{applied}");
    check_plans(&server, community, &grids, &BTreeMap::new());
    let cli_draft = plans.last().unwrap()["id"].as_i64().unwrap();
    assert_problem(
        &server
            .send_as(
                &planner,
                Method::POST,
                &format!("{base}/{cli_draft}/apply"),
                &json!({}),
            )
            .await,
        409,
        "plan-stale",
    );

    drop(server);
    store.finish().await;
}

/// Each grid's figures of closed cases (the rows' closed, closed on time, reworked, mean hours to close).
fn closed_figures(kpi: &Value) -> Value {
    kpi["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let f = if row.get("figures").is_some() {
                &row["figures"]
            } else {
                row
            };
            json!([
                row["key"],
                f["closed"],
                f["closed_on_time"],
                f["reworked"],
                f["mean_hours_to_close"]
            ])
        })
        .filter(|r| r[1] != 0)
        .collect()
}

/// Whether `cells` without `x` are still connected through edges (h3o in the test, to pick a move; the
/// result is checked with the h3 reference library).
pub(crate) fn connected_without(cells: &[CellIndex], x: CellIndex) -> bool {
    let rest: BTreeSet<CellIndex> = cells.iter().copied().filter(|&c| c != x).collect();
    let Some(&start) = rest.iter().next() else {
        return false;
    };
    let mut seen = BTreeSet::from([start]);
    let mut todo = vec![start];
    while let Some(c) = todo.pop() {
        for n in c.grid_disk::<Vec<_>>(1) {
            if rest.contains(&n) && seen.insert(n) {
                todo.push(n);
            }
        }
    }
    seen.len() == rest.len()
}

/// Runs `tests/reference/check_plans.py`: contiguity, coverage and the moved cells, by the h3 library.
fn check_plans(server: &Server, community: i64, before: &[G], moved: &BTreeMap<String, String>) {
    let Some(python) = reference_python() else {
        return;
    };
    let cells: Vec<String> = before
        .iter()
        .flat_map(|g| g.cells.iter().map(ToString::to_string))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("expected.json");
    std::fs::write(&path, json!({"cells": cells, "moved": moved}).to_string()).unwrap();
    let output = Command::new(python)
        .arg(workspace_root().join("tests/reference/check_plans.py"))
        .args([
            server.base.as_str(),
            server.token(),
            &community.to_string(),
            &path.display().to_string(),
        ])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{text}");
    assert!(output.status.success(), "reference check failed:\n{text}");
}
