//! The closed loop of DOMAIN.md through the real binary: every path, and the refusals.

use serde_json::{Value, json};

use crate::cases::{act, act_ok, actions, case, grid_place, last_seq, report, token};
use crate::harness::{Flavor, Server, TestStore, assert_problem};

#[tokio::test]
async fn every_workflow_path_on_sqlite() {
    every_path(Flavor::Sqlite).await;
}

#[tokio::test]
async fn every_workflow_path_on_postgis() {
    every_path(Flavor::Postgres).await;
}

async fn every_path(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let here = grid_place(&server, 0, 0).await;
    let other = grid_place(&server, 1, 0).await;
    let handler = token(&server, "worker", Some(here.primary)).await;
    let second = token(&server, "worker", Some(other.primary)).await;
    let commander = token(&server, "commander", None).await;
    // A commander who is also the handler: supervision must still be separate from handling.
    let commander_handler = token(&server, "commander", Some(here.primary)).await;
    let reporter = token(&server, "reporter", None).await;

    // --- Straight through: report → dispatch (automatic) → accept → start → resolve → verify → closed.
    let c = report(&server, &reporter, here.lat, here.lon, "city_appearance").await;
    let id = c["id"].as_i64().unwrap();
    assert_eq!(c["status"], "dispatched");
    assert_eq!(c["source"], "hotline");
    assert_eq!(c["grid_id"], here.grid);
    assert_eq!(c["community_id"], here.community);
    assert_eq!(c["assignee"], here.primary);
    assert_eq!(c["route"]["kind"], "grid_primary");
    assert_eq!(c["level"], "grid");
    assert!(c["deadline"].is_string(), "{c}");
    assert_eq!(actions(&c), ["register", "dispatch"]);
    // What each caller is offered (`your_actions`), against the "who may act" table of DOMAIN.md.
    assert_eq!(
        c["your_actions"],
        json!([]),
        "the reporter may take no action"
    );
    assert_eq!(
        offered(&server, &handler, id).await,
        json!(["accept", "send_back"])
    );
    assert_eq!(
        offered(&server, &commander, id).await,
        json!(["reassign", "defer", "cancel", "merge", "escalate", "extend"])
    );
    // Another grid's worker may not touch it.
    assert_problem(
        &act(&server, &second, id, &json!({"action": "accept"})).await,
        403,
        "forbidden",
    );
    act_ok(&server, &handler, id, &json!({"action": "accept"})).await;
    act_ok(&server, &handler, id, &json!({"action": "start"})).await;
    let resolved = act_ok(
        &server,
        &handler,
        id,
        &json!({"action": "resolve", "note": "换了灯泡 bulb replaced"}),
    )
    .await;
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["handler"], here.primary);
    // The handler may not verify: not as a worker, and not as a commander either.
    assert_problem(
        &act(
            &server,
            &handler,
            id,
            &json!({"action": "verify", "passed": true}),
        )
        .await,
        403,
        "forbidden",
    );
    assert_problem(
        &act(
            &server,
            &commander_handler,
            id,
            &json!({"action": "verify", "passed": true}),
        )
        .await,
        403,
        "self-verification",
    );
    assert_eq!(offered(&server, &commander, id).await, json!(["verify"]));
    assert_eq!(
        offered(&server, &commander_handler, id).await,
        json!([]),
        "not offered to verify their own case"
    );
    assert_eq!(offered(&server, &handler, id).await, json!([]));
    let closed = act_ok(
        &server,
        &commander,
        id,
        &json!({"action": "verify", "passed": true}),
    )
    .await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["your_actions"], json!(["reopen"]));
    let full = case(&server, id).await;
    assert_eq!(
        actions(&full),
        [
            "register", "dispatch", "accept", "start", "resolve", "verify"
        ]
    );
    let history = full["history"].as_array().unwrap();
    assert_eq!(history[4]["note"], "换了灯泡 bulb replaced");
    assert_eq!(history[4]["actor"]["worker"], here.primary);
    assert_eq!(
        (history[5]["from"].as_str(), history[5]["to"].as_str()),
        (Some("resolved"), Some("closed"))
    );
    assert!(
        history
            .windows(2)
            .all(|w| w[0]["at"].as_str() <= w[1]["at"].as_str()),
        "history in time order"
    );

    // --- Send back (退回) and re-dispatch to someone else.
    let c = report(&server, &reporter, here.lat, here.lon, "construction").await;
    let id = c["id"].as_i64().unwrap();
    assert_problem(
        &act(&server, &handler, id, &json!({"action": "send_back"})).await,
        422,
        "invalid-input",
    );
    let back = act_ok(
        &server,
        &handler,
        id,
        &json!({"action": "send_back", "note": "不属于本网格 not ours"}),
    )
    .await;
    assert_eq!(back["status"], "registered");
    assert_eq!(back["assignee"], Value::Null);
    let again = act_ok(
        &server,
        &commander,
        id,
        &json!({"action": "dispatch", "to": other.primary}),
    )
    .await;
    assert_eq!(again["assignee"], other.primary);
    assert_problem(
        &act(&server, &handler, id, &json!({"action": "accept"})).await,
        403,
        "forbidden",
    );
    act_ok(&server, &second, id, &json!({"action": "accept"})).await;
    // Reassigned after acceptance: the new assignee must accept again; the old one may no longer act.
    let moved = act_ok(
        &server,
        &commander,
        id,
        &json!({"action": "reassign", "to": here.primary}),
    )
    .await;
    assert_eq!(
        (moved["status"].as_str(), moved["assignee"].as_i64()),
        (Some("dispatched"), Some(here.primary))
    );
    assert_problem(
        &act(&server, &second, id, &json!({"action": "accept"})).await,
        403,
        "forbidden",
    );
    act_ok(&server, &handler, id, &json!({"action": "accept"})).await;
    // A commander hands it up by hand; at district level there is nowhere further to go.
    let up = act_ok(
        &server,
        &commander,
        id,
        &json!({"action": "escalate", "reason": "需要街道协调 needs the street"}),
    )
    .await;
    assert_eq!(up["level"], "community");
    act_ok(&server, &commander, id, &json!({"action": "escalate"})).await;
    act_ok(&server, &commander, id, &json!({"action": "escalate"})).await;
    assert_problem(
        &act(&server, &commander, id, &json!({"action": "escalate"})).await,
        409,
        "already-at-top",
    );
    assert_eq!(
        actions(&case(&server, id).await),
        [
            "register",
            "dispatch",
            "send_back",
            "dispatch",
            "accept",
            "reassign",
            "accept",
            "escalate",
            "escalate",
            "escalate"
        ]
    );

    // --- Rework (返工): verification fails, the case goes back to its handler, then passes.
    let c = report(&server, &reporter, here.lat, here.lon, "hazard").await;
    let id = c["id"].as_i64().unwrap();
    for step in [
        json!({"action": "accept"}),
        json!({"action": "start"}),
        json!({"action": "resolve"}),
    ] {
        act_ok(&server, &handler, id, &step).await;
    }
    let failed = act_ok(
        &server,
        &commander,
        id,
        &json!({"action": "verify", "passed": false}),
    )
    .await;
    assert_eq!(failed["status"], "in_progress");
    assert_eq!(failed["assignee"], here.primary);
    assert_eq!(failed["rework_count"], 1);
    act_ok(
        &server,
        &handler,
        id,
        &json!({"action": "resolve", "note": "redone"}),
    )
    .await;
    let closed = act_ok(
        &server,
        &commander,
        id,
        &json!({"action": "verify", "passed": true}),
    )
    .await;
    assert_eq!(
        (closed["status"].as_str(), closed["rework_count"].as_i64()),
        (Some("closed"), Some(1))
    );
    // Reopen goes back to the handler.
    let reopened = act_ok(
        &server,
        &commander,
        id,
        &json!({"action": "reopen", "reason": "complaint again"}),
    )
    .await;
    assert_eq!(
        (reopened["status"].as_str(), reopened["assignee"].as_i64()),
        (Some("dispatched"), Some(here.primary))
    );

    // --- Extension (延期): a later deadline with a reason; never earlier, never without a reason.
    let c = report(&server, &reporter, here.lat, here.lon, "advertising").await;
    let id = c["id"].as_i64().unwrap();
    let deadline = chrono::DateTime::parse_from_rfc3339(c["deadline"].as_str().unwrap()).unwrap();
    let earlier = (deadline - chrono::Duration::hours(1)).to_rfc3339();
    let later = (deadline + chrono::Duration::days(3)).with_timezone(&chrono::Utc);
    assert_problem(
        &act(
            &server,
            &commander,
            id,
            &json!({"action": "extend", "until": earlier, "reason": "x"}),
        )
        .await,
        422,
        "invalid-input",
    );
    assert_problem(
        &act(
            &server,
            &commander,
            id,
            &json!({"action": "extend", "until": later}),
        )
        .await,
        422,
        "invalid-input",
    );
    let extended = act_ok(
        &server,
        &commander,
        id,
        &json!({"action": "extend", "until": later, "reason": "等待配件 waiting for parts"}),
    )
    .await;
    let got = chrono::DateTime::parse_from_rfc3339(extended["deadline"].as_str().unwrap()).unwrap();
    assert_eq!(got, later);
    assert_eq!(
        extended["escalate_at"], extended["deadline"],
        "supervision follows the new deadline"
    );
    assert_eq!(
        extended["status"], "dispatched",
        "an extension does not change the status"
    );

    // --- Deferral (缓办): parked with a reason; only resume or cancel are possible meanwhile.
    assert_problem(
        &act(&server, &commander, id, &json!({"action": "defer"})).await,
        422,
        "invalid-input",
    );
    let parked = act_ok(
        &server,
        &commander,
        id,
        &json!({"action": "defer", "reason": "业主出国 owner abroad"}),
    )
    .await;
    assert_eq!(
        (parked["status"].as_str(), parked["deferred"].as_bool()),
        (Some("deferred"), Some(true))
    );
    assert_eq!(
        parked["escalate_at"],
        Value::Null,
        "a parked case is not chased"
    );
    let refused = act(&server, &handler, id, &json!({"action": "accept"})).await;
    assert_problem(&refused, 409, "illegal-transition");
    assert_eq!(refused.1["current_state"], "deferred");
    assert_eq!(refused.1["allowed_actions"], json!(["resume", "cancel"]));
    let resumed = act_ok(&server, &commander, id, &json!({"action": "resume"})).await;
    assert_eq!(
        (resumed["status"].as_str(), resumed["deferred"].as_bool()),
        (Some("dispatched"), Some(false))
    );

    // --- Duplicates: the same category close by is linked, then merged in.
    let first = report(&server, &reporter, here.lat, here.lon, "street_order").await;
    let first_id = first["id"].as_i64().unwrap();
    assert_eq!(first["duplicate_of"], Value::Null);
    let near = report(
        &server,
        &reporter,
        here.lat + 0.0001,
        here.lon,
        "street_order",
    )
    .await; // ~11 m north
    let near_id = near["id"].as_i64().unwrap();
    assert_eq!(near["duplicate_of"], first_id);
    let different = report(&server, &reporter, here.lat, here.lon, "dispute").await;
    assert_eq!(
        different["duplicate_of"],
        Value::Null,
        "another category is not a duplicate"
    );
    assert_problem(
        &act(
            &server,
            &commander,
            near_id,
            &json!({"action": "merge", "into": near_id}),
        )
        .await,
        422,
        "invalid-input",
    );
    let merged = act_ok(
        &server,
        &commander,
        near_id,
        &json!({"action": "merge", "into": first_id}),
    )
    .await;
    assert_eq!(
        (merged["status"].as_str(), merged["merged_into"].as_i64()),
        (Some("merged"), Some(first_id))
    );
    let absorbing = case(&server, first_id).await;
    assert_eq!(
        actions(&absorbing).last().map(String::as_str),
        Some("absorb")
    );
    assert_eq!(
        absorbing["status"], "dispatched",
        "the surviving case carries on"
    );
    let dead_end = act(
        &server,
        &commander,
        near_id,
        &json!({"action": "cancel", "reason": "x"}),
    )
    .await;
    assert_problem(&dead_end, 409, "illegal-transition");
    assert_eq!(dead_end.1["allowed_actions"], json!([]));

    // --- Refusals change nothing.
    let before = last_seq(&server).await;
    let snapshot = case(&server, first_id).await;
    let illegal = act(
        &server,
        &commander,
        first_id,
        &json!({"action": "verify", "passed": true}),
    )
    .await;
    assert_problem(&illegal, 409, "illegal-transition");
    assert_eq!(illegal.1["current_state"], "dispatched");
    assert!(
        illegal.1["allowed_actions"]
            .as_array()
            .unwrap()
            .contains(&json!("accept"))
    );
    assert_problem(
        &act(&server, &commander, first_id, &json!({"action": "fly"})).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &act(
            &server,
            &commander,
            first_id,
            &json!({"action": "dispatch", "to": 999_999}),
        )
        .await,
        422,
        "invalid-input",
    );
    assert_problem(
        &act(&server, &commander, 999_999, &json!({"action": "accept"})).await,
        404,
        "not-found",
    );
    assert_problem(
        &act(
            &server,
            &reporter,
            first_id,
            &json!({"action": "cancel", "reason": "x"}),
        )
        .await,
        403,
        "forbidden",
    );
    assert_problem(
        &act(
            &server,
            &commander,
            first_id,
            &json!({"action": "merge", "into": id - 100_000}),
        )
        .await,
        422,
        "invalid-input",
    );
    assert_eq!(
        last_seq(&server).await,
        before,
        "no refused action wrote an event"
    );
    assert_eq!(
        case(&server, first_id).await,
        snapshot,
        "no refused action changed the case"
    );

    // --- Lists: filters and scopes.
    let (status, mine) = server
        .get_as(
            &handler,
            &format!("/api/incidents?assignee={}", here.primary),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        mine["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["properties"]["assignee"] == here.primary)
    );
    let (_, deferred) = server
        .get(&format!("/api/incidents?grid={}&status=closed", here.grid))
        .await;
    assert_eq!(
        deferred["total"], 1,
        "one case of this grid is closed now (the first; the rework case was reopened)"
    );
    let (_, own) = server.get_as(&reporter, "/api/incidents?limit=1000").await;
    assert_eq!(
        own["total"], 7,
        "a reporter sees the seven cases it reported, nothing else"
    );

    // --- A merged case leaves the duplicate check: a report halfway between the two (as near to
    // each) is linked to the surviving case, not to the newer, merged one.
    let between = report(
        &server,
        &reporter,
        here.lat + 0.00005,
        here.lon,
        "street_order",
    )
    .await;
    assert_eq!(between["duplicate_of"], first_id);
    // Once the surviving case is cancelled too, nothing open is near.
    act_ok(
        &server,
        &commander,
        first_id,
        &json!({"action": "cancel", "reason": "handled by the property company"}),
    )
    .await;
    let after = report(
        &server,
        &reporter,
        here.lat + 0.00005,
        here.lon + 0.00001,
        "street_order",
    )
    .await;
    assert_eq!(
        after["duplicate_of"], between["id"],
        "the only open case near is the report before"
    );
    // ~67 m north of the last report: beyond the 50 m radius, however near the box around it reaches.
    let beyond = report(
        &server,
        &reporter,
        here.lat + 0.00065,
        here.lon + 0.00001,
        "street_order",
    )
    .await;
    assert_eq!(beyond["duplicate_of"], Value::Null);
    store.finish().await;
}

/// The actions case `id` offers the holder of `token` (`your_actions` of `GET /api/incidents/{id}`).
async fn offered(server: &Server, token: &str, id: i64) -> Value {
    let (status, case) = server.get_as(token, &format!("/api/incidents/{id}")).await;
    assert_eq!(status, 200, "{case}");
    case["properties"]["your_actions"].clone()
}
