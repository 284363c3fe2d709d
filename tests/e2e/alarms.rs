//! Alarms (issue 21): an urgent case or an escalation raises an alarm, listed by `GET /api/alarms` and
//! sent on the `alarms` layer of `/ws`; acknowledging it is an event every screen in scope sees, a
//! second acknowledgement is a 409, scope holds, bad input changes nothing, a restart keeps the open
//! alarms, and on two nodes an acknowledgement on one shows on the other.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::{act_ok, grid_place, last_seq, token};
use crate::harness::{Flavor, Server, TestStore, assert_problem};
use crate::live::Ws;

/// Reports an urgent case at a point; its id.
async fn urgent_case(server: &Server, token: &str, lat: f64, lon: f64) -> i64 {
    let body = json!({"lat": lat, "lon": lon, "category": "city_appearance", "priority": "urgent",
        "description": "燃气味 smell of gas", "source": "hotline"});
    let (status, case) = server
        .send_as(token, Method::POST, "/api/incidents", &body)
        .await;
    assert_eq!(status, 201, "{case}");
    case["properties"]["id"]
        .as_i64()
        .or_else(|| case["id"].as_i64())
        .unwrap()
}

/// The alarm of case `case` in the admin's list of every alarm, if any.
async fn alarm_of(server: &Server, case: i64) -> Option<Value> {
    let (status, list) = server.get("/api/alarms?state=all").await;
    assert_eq!(status, 200, "{list}");
    list["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["case"] == case)
        .cloned()
}

/// Reports an urgent case and returns the id of the alarm it raised (for the authorization matrix).
pub async fn urgent_alarm(server: &Server, token: &str, lat: f64, lon: f64) -> String {
    let case = urgent_case(server, token, lat, lon).await;
    let alarm = alarm_of(server, case)
        .await
        .expect("an urgent case raises an alarm");
    alarm["id"].as_str().unwrap().to_owned()
}

/// The ids listed by `GET /api/alarms?state=…` for `token`.
async fn listed(server: &Server, token: &str, state: &str) -> Vec<String> {
    let (status, list) = server
        .get_as(token, &format!("/api/alarms?state={state}"))
        .await;
    assert_eq!(status, 200, "{list}");
    let alarms = list["alarms"].as_array().unwrap();
    assert_eq!(list["count"], alarms.len());
    alarms
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Whether a message is the `alarms` delta of alarm `id` from an event of `kind`.
fn alarm_delta(kind: &'static str, id: String) -> impl Fn(&Value) -> bool {
    move |m| m["type"] == "delta" && m["layer"] == "alarms" && m["kind"] == kind && m["id"] == id
}

async fn acknowledge(server: &Server, token: &str, id: &str) -> (u16, Value) {
    server
        .send_as(
            token,
            Method::POST,
            &format!("/api/alarms/{id}/acknowledge"),
            &json!({}),
        )
        .await
}

/// Sends a ping and asserts the next message is its pong: nothing else was queued before it.
async fn nothing_queued(ws: &mut Ws) {
    ws.send(&json!({"type": "ping"})).await;
    let next = ws.next().await;
    assert_eq!(next["type"], "pong", "{next}");
}

async fn alarms_on_one_node(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let mut server = Server::demo(&store);
    let admin = server.token().to_owned();
    let a = grid_place(&server, 0, 0).await;
    let b = grid_place(&server, 1, 0).await;
    assert_ne!(a.grid, b.grid);
    let commander = token(&server, "commander", None).await;
    let (status, minted) = server
        .send(
            Method::POST,
            "/api/tokens",
            &json!({"role": "commander", "scopes": [format!("grid:{}", a.grid)], "label": "网格A指挥"}),
        )
        .await;
    assert_eq!(status, 201, "{minted}");
    let scoped = minted["token"].as_str().unwrap().to_owned();

    // Two command-centre screens looking far from both grids, and one scoped to grid A: alarms come
    // from the whole scope, whatever the viewport.
    let far = json!({"layers": ["incidents", "alarms"], "bbox": [0.0, 0.0, 0.1, 0.1]});
    let mut one = Ws::connect(&server, &commander).await;
    one.subscribe(&far).await;
    let mut two = Ws::connect(&server, &admin).await;
    two.subscribe(&far).await;
    let mut grid_a = Ws::connect(&server, &scoped).await;
    grid_a.subscribe(&json!({"layers": ["alarms"]})).await;
    // A screen that did not name the layer gets no alarm.
    let mut plain = Ws::connect(&server, &admin).await;
    plain
        .subscribe(&json!({"bbox": [0.0, 0.0, 0.1, 0.1]}))
        .await;
    // A worker may not ask for alarms.
    let worker = token(&server, "worker", Some(a.primary)).await;
    let mut phone = Ws::connect(&server, &worker).await;
    phone
        .send(&json!({"type": "subscribe", "layers": ["alarms"]}))
        .await;
    let refused = phone.next().await;
    assert_eq!(
        (refused["type"].clone(), refused["status"].clone()),
        (json!("error"), json!(403)),
        "{refused}"
    );

    // --- An urgent case in grid B raises an alarm: listed, and a delta on both screens.
    let case = urgent_case(&server, &admin, b.lat, b.lon).await;
    let alarm = alarm_of(&server, case).await.expect("an alarm");
    let id = alarm["id"].as_str().unwrap().to_owned();
    let seq = alarm["seq"].as_i64().unwrap();
    assert_eq!(id, format!("{seq}.{case}"));
    assert_eq!(alarm["kind"], "urgent");
    assert_eq!(alarm["grid"], b.grid);
    assert_eq!(alarm["community"], b.community);
    assert_eq!(alarm["acknowledged"], Value::Null);
    for ws in [&mut one, &mut two] {
        let got = ws.until(alarm_delta("incident.created", id.clone())).await;
        let delta = got.last().unwrap();
        assert_eq!(delta["seq"], seq);
        assert_eq!(
            delta["data"], alarm,
            "the delta carries the alarm as listed"
        );
    }
    assert_eq!(listed(&server, &admin, "open").await[0], id, "newest first");
    assert_eq!(
        listed(&server, &commander, "open").await,
        listed(&server, &admin, "open").await
    );
    // The scoped screen and the list of grid A's commander do not see grid B's alarm.
    nothing_queued(&mut grid_a).await;
    nothing_queued(&mut plain).await;
    assert!(!listed(&server, &scoped, "all").await.contains(&id));
    assert_problem(&acknowledge(&server, &scoped, &id).await, 403, "forbidden");
    assert_problem(&acknowledge(&server, &worker, &id).await, 403, "forbidden");
    let (status, _) = server.get_as(&worker, "/api/alarms").await;
    assert_eq!(status, 403, "a worker does not read alarms");

    // A normal case raises nothing; a person's escalation of it raises `escalated`.
    let before = listed(&server, &admin, "all").await;
    let normal = crate::cases::report(&server, &admin, a.lat, a.lon, "city_appearance").await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(listed(&server, &admin, "all").await, before);
    act_ok(
        &server,
        &commander,
        normal,
        &json!({"action": "escalate", "reason": "需要协调"}),
    )
    .await;
    let escalated = alarm_of(&server, normal)
        .await
        .expect("an escalation alarm");
    assert_eq!(escalated["kind"], "escalated");
    let escalated_id = escalated["id"].as_str().unwrap().to_owned();
    let got = grid_a
        .until(alarm_delta("incident.updated", escalated_id.clone()))
        .await;
    assert_eq!(
        got.len(),
        1,
        "grid A's screen gets its own grid's alarm: {got:?}"
    );

    // --- One screen acknowledges: the other is told, and the alarm moves to acknowledged.
    let (status, acked) = acknowledge(&server, &commander, &id).await;
    assert_eq!(status, 200, "{acked}");
    assert_eq!(acked["id"], id.as_str());
    assert_eq!(acked["acknowledged"]["by"]["role"], "commander");
    assert_eq!(
        acked["acknowledged"]["by"]["name"], "commander",
        "the token's label"
    );
    let ack_seq = acked["acknowledged"]["seq"].as_i64().unwrap();
    for ws in [&mut two, &mut one] {
        let got = ws
            .until(alarm_delta("alarm.acknowledged", id.clone()))
            .await;
        let delta = got.last().unwrap();
        assert_eq!(delta["seq"], ack_seq);
        assert_eq!(delta["data"], acked);
    }
    nothing_queued(&mut grid_a).await;
    assert!(!listed(&server, &admin, "open").await.contains(&id));
    assert!(listed(&server, &admin, "acknowledged").await.contains(&id));
    assert!(listed(&server, &admin, "all").await.contains(&id));
    let (status, health) = server.get("/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["last_seq"], ack_seq, "one event");

    // A second acknowledgement: 409, saying by whom and when; nothing stored.
    let again = acknowledge(&server, &admin, &id).await;
    assert_problem(&again, 409, "already-acknowledged");
    assert_eq!(again.1["by"], acked["acknowledged"]["by"]);
    assert_eq!(again.1["at"], acked["acknowledged"]["at"]);
    assert!(again.1["detail"].as_str().unwrap().contains("commander"));

    // --- Bad input: each a problem, and nothing changes.
    let seq = last_seq(&server).await;
    let open = listed(&server, &admin, "all").await;
    assert_problem(
        &acknowledge(&server, &admin, "999999.1").await,
        404,
        "not-found",
    );
    assert_problem(
        &acknowledge(&server, &admin, "999999").await,
        404,
        "not-found",
    );
    for bad in ["abc", "1.2.3", "-1", "0", "1.", "1e3"] {
        assert_problem(
            &acknowledge(&server, &admin, bad).await,
            400,
            "invalid-path",
        );
    }
    for bad in ["bogus", "OPEN", ""] {
        let got = server.get(&format!("/api/alarms?state={bad}")).await;
        assert_problem(&got, 400, "invalid-query");
    }
    assert_problem(
        &server.get("/api/alarms?limit=3").await,
        400,
        "invalid-query",
    );
    let got = server
        .send(
            Method::POST,
            &format!("/api/alarms/{escalated_id}/acknowledge"),
            &json!({"note": "x"}),
        )
        .await;
    assert_problem(&got, 422, "invalid-input");
    let (status, body, content_type) = server
        .send_raw(
            Method::POST,
            &format!("/api/alarms/{escalated_id}/acknowledge"),
            vec![b' '; 2 * 1024 * 1024],
        )
        .await;
    assert_eq!(
        (status, content_type.as_str()),
        (413, "application/problem+json"),
        "{body}"
    );
    assert_eq!(last_seq(&server).await, seq, "nothing stored");
    assert_eq!(listed(&server, &admin, "all").await, open);
    assert!(
        listed(&server, &admin, "open")
            .await
            .contains(&escalated_id)
    );

    // --- A restart keeps the open alarms and the acknowledgements (rebuilt from the log).
    server.kill();
    let mut server = Server::start(&["serve"], &store);
    server.admin = Some(admin.clone());
    assert!(
        listed(&server, &admin, "open")
            .await
            .contains(&escalated_id)
    );
    assert!(listed(&server, &admin, "acknowledged").await.contains(&id));
    assert_eq!(listed(&server, &admin, "all").await, open);
    assert_problem(
        &acknowledge(&server, &admin, &id).await,
        409,
        "already-acknowledged",
    );
    let (status, _) = acknowledge(&server, &scoped, &escalated_id).await;
    assert_eq!(status, 200, "grid A's commander acknowledges its own alarm");
    assert!(listed(&server, &admin, "open").await.is_empty());

    server.kill();
    store.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn alarms_are_raised_listed_acknowledged_and_kept_sqlite() {
    alarms_on_one_node(Flavor::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn alarms_are_raised_listed_acknowledged_and_kept_postgres() {
    alarms_on_one_node(Flavor::Postgres).await;
}

/// How long a change may take to reach the other node.
const PROPAGATION: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread")]
async fn an_alarm_acknowledged_on_one_node_shows_on_the_other_postgres() {
    let Some(store) = TestStore::new(Flavor::Postgres).await else {
        return;
    };
    let mut a = Server::demo(&store);
    let admin = a.token().to_owned();
    let mut b = Server::start(&["serve"], &store);
    b.admin = Some(admin.clone());
    let here = grid_place(&a, 0, 0).await;
    let mut screen_b = Ws::connect(&b, &admin).await;
    screen_b.subscribe(&json!({"layers": ["alarms"]})).await;

    // Raised through A: B's screen is told, and B lists it.
    let case = urgent_case(&a, &admin, here.lat, here.lon).await;
    let got = screen_b
        .until(|m| m["type"] == "delta" && m["layer"] == "alarms" && m["data"]["case"] == case)
        .await;
    let raised = got.last().unwrap().clone();
    assert_eq!(raised["kind"], "incident.created");
    let id = raised["id"].as_str().unwrap().to_owned();
    assert!(listed(&b, &admin, "open").await.contains(&id));

    // Acknowledged through A: B's screen clears it and B's list moves it; B refuses it as taken.
    let (status, acked) = acknowledge(&a, &admin, &id).await;
    assert_eq!(status, 200, "{acked}");
    let got = screen_b
        .until(alarm_delta("alarm.acknowledged", id.clone()))
        .await;
    assert_eq!(got.last().unwrap()["data"], acked);
    let deadline = tokio::time::Instant::now() + PROPAGATION;
    while listed(&b, &admin, "open").await.contains(&id) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "B still lists {id} as open"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(listed(&b, &admin, "acknowledged").await.contains(&id));
    assert_problem(
        &acknowledge(&b, &admin, &id).await,
        409,
        "already-acknowledged",
    );

    // And the other way: an alarm acknowledged through B is acknowledged on A.
    let case = urgent_case(&b, &admin, here.lat, here.lon).await;
    let deadline = tokio::time::Instant::now() + PROPAGATION;
    let id = loop {
        if let Some(alarm) = alarm_of(&a, case).await {
            break alarm["id"].as_str().unwrap().to_owned();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "A never listed B's alarm"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(acknowledge(&b, &admin, &id).await.0, 200);
    let deadline = tokio::time::Instant::now() + PROPAGATION;
    while !listed(&a, &admin, "acknowledged").await.contains(&id) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "A never saw B's acknowledgement"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_problem(
        &acknowledge(&a, &admin, &id).await,
        409,
        "already-acknowledged",
    );

    a.kill();
    b.kill();
    store.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_past_its_deadline_raises_an_overdue_alarm_sqlite() {
    let Some(store) = TestStore::new(Flavor::Sqlite).await else {
        return;
    };
    // A round-the-clock calendar and a 1.8-second limit.
    let (mut server, _dir) = crate::supervision::round_the_clock(&store, 0, 0.0005).await;
    let mut screen = Ws::connect(&server, server.token()).await;
    screen.subscribe(&json!({"layers": ["alarms"]})).await;
    let here = grid_place(&server, 2, 0).await;
    let id =
        crate::cases::report(&server, server.token(), here.lat, here.lon, "hazard").await["id"]
            .as_i64()
            .unwrap();
    // Nobody escalated it: the scheduler did, at the deadline.
    let got = screen
        .until(|m| m["layer"] == "alarms" && m["data"]["case"] == id)
        .await;
    let delta = got.last().unwrap();
    assert_eq!(
        (delta["kind"].clone(), delta["data"]["kind"].clone()),
        (json!("incident.updated"), json!("overdue")),
        "{delta}"
    );
    assert!(
        delta["data"]["title"].as_str().unwrap().contains("overdue"),
        "{delta}"
    );
    server.kill();
    store.finish().await;
}
