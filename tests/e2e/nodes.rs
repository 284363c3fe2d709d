//! Several nodes on one PostGIS database (issue 20): each node's world follows the one event log, so a
//! change made through any node reaches every node's API and websocket clients, in sequence order, once.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::{act_ok, case, grid_place, last_seq, report, token};
use crate::harness::{Flavor, Server, TestStore, assert_same};
use crate::live::Ws;
use crate::relay::Nats;

/// How long a change may take to reach the other node before the test fails (the follower is woken
/// by `LISTEN`; without it, it polls every second).
const PROPAGATION: Duration = Duration::from_secs(10);

/// Waits until `read` of `server` answers what `want` accepts; the last answer.
async fn eventually(server: &Server, path: &str, want: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + PROPAGATION;
    loop {
        let (status, body) = server.get(path).await;
        if status == 200 && want(&body) {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{path} on {} did not change in time: {status} {body}",
            server.base
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The deltas of `messages` as `(seq, kind, id)`.
fn deltas(messages: &[Value]) -> Vec<(i64, String, i64)> {
    messages
        .iter()
        .filter(|m| m["type"] == "delta")
        .map(|m| {
            (
                m["seq"].as_i64().unwrap(),
                m["kind"].as_str().unwrap().to_owned(),
                m["id"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_nodes_follow_one_log_on_postgis() {
    let Some(store) = TestStore::new(Flavor::Postgres).await else {
        return;
    };
    let a = Server::demo(&store);
    let admin = a.token().to_owned();
    let mut b = Server::start(&["serve"], &store);
    b.admin = Some(admin.clone());
    let here = grid_place(&a, 0, 0).await;
    let there = grid_place(&a, 1, 0).await;
    let worker = token(&a, "worker", Some(here.primary)).await;

    let mut watcher = Ws::connect(&b, &admin).await;
    watcher.subscribe(&json!({})).await;
    let from = last_seq(&b).await;

    // --- A case created through A reaches B's websocket and B's API, as A answers it.
    let created = report(&a, &admin, here.lat, here.lon, "city_appearance").await;
    let id = created["id"].as_i64().unwrap();
    let mut live = watcher
        .until(|m| m["type"] == "delta" && m["kind"] == "incident.created" && m["id"] == id)
        .await;
    assert_eq!(
        deltas(&live),
        [(from + 1, "incident.created".to_owned(), id)],
        "node B's client gets A's case as the next event"
    );
    assert_same(&case(&b, id).await, &case(&a, id).await, "the case on B");

    // --- An action through B: B answers with it (read-your-writes), and A follows.
    let accepted = act_ok(&b, &worker, id, &json!({"action": "accept"})).await;
    assert_eq!(accepted["status"], "accepted", "{accepted}");
    assert_eq!(case(&b, id).await["status"], "accepted");
    let on_a = eventually(&a, &format!("/api/incidents/{id}"), |c| {
        c["properties"]["status"] == "accepted"
    })
    .await;
    assert_same(
        &on_a["properties"],
        &case(&b, id).await,
        "the accepted case on A",
    );

    // --- A change the world is reloaded for (a category) through A reaches B.
    let (_, categories) = a.get("/api/categories").await;
    let mut category = categories[0].clone();
    let code = category["code"].as_str().unwrap().to_owned();
    category.as_object_mut().unwrap().remove("code");
    category["name"] = json!("市容环境（改）");
    let (status, put) = a
        .send(Method::PUT, &format!("/api/categories/{code}"), &category)
        .await;
    assert_eq!(status, 200, "{put}");
    let (_, on_a) = a.get("/api/categories").await;
    let on_b = eventually(&b, "/api/categories", |c| c == &on_a).await;
    assert_same(&on_b, &on_a, "categories on B");

    // --- A write rolled back after it numbered its event leaves no gap in the log (numbers drawn
    // from the table's sequence did: the next write skipped the one the rollback used).
    let rolled_back = store
        .execute(
            "DO $$ BEGIN INSERT INTO events (at, kind, payload) VALUES (now(), 'probe', '{}'); \
             RAISE EXCEPTION 'rolled back'; END $$",
        )
        .await;
    assert!(rolled_back.is_err(), "the probe must roll back");

    // --- The patrol book follows too: a checkpoint made through A is listed by B, and a shift started
    // through A is ended through B.
    let (_, before) = b.get("/api/checkpoints").await;
    let body = json!({"name": "东门 east gate", "lat": here.lat, "lon": here.lon, "radius_m": 5.0});
    let (status, checkpoint) = a.send(Method::POST, "/api/checkpoints", &body).await;
    assert_eq!(status, 201, "{checkpoint}");
    let count = before.as_array().unwrap().len() + 1;
    eventually(&b, "/api/checkpoints", |c| {
        c.as_array().unwrap().len() == count
    })
    .await;
    let (status, patrol) = a
        .send_as(&worker, Method::POST, "/api/patrols", &json!({}))
        .await;
    assert_eq!(status, 201, "{patrol}");
    let shift = patrol["id"].as_i64().unwrap();
    eventually(&b, &format!("/api/patrols/{shift}"), |_| true).await;
    let (status, ended) = b
        .send_as(
            &worker,
            Method::POST,
            &format!("/api/patrols/{shift}/end"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "ended through B: {ended}");
    eventually(&a, &format!("/api/patrols/{shift}"), |p| {
        p["ended_at"].is_string()
    })
    .await;

    // --- Both nodes take creates at once: their commits interleave on one log.
    let mut requests = Vec::new();
    for n in 0..60 {
        let (node, place) = if n % 2 == 0 {
            (&a, &here)
        } else {
            (&b, &there)
        };
        let body = json!({"lat": place.lat, "lon": place.lon, "category": "city_appearance",
            "description": format!("node test {n}"), "source": "hotline"});
        requests.push(async move { node.send(Method::POST, "/api/incidents", &body).await });
    }
    let answers = futures_util::future::join_all(requests).await;
    let mut ids: Vec<i64> = answers
        .iter()
        .map(|(status, c)| {
            assert_eq!(*status, 201, "{c}");
            c["properties"]["id"].as_i64().unwrap()
        })
        .collect();
    ids.push(id);
    ids.sort_unstable();
    let store_last = store.count("SELECT max(seq) FROM events").await;
    assert_eq!(
        store.count("SELECT max(seq) - count(*) FROM events").await,
        0,
        "sequence numbers have no gap"
    );
    for node in [&a, &b] {
        eventually(node, "/health", |h| h["last_seq"] == store_last).await;
        let (status, ready) = node.get("/ready").await;
        assert_eq!(status, 200, "{ready}");
        assert_eq!(
            (
                &ready["log_seq"],
                &ready["applied_seq"],
                &ready["lag_events"]
            ),
            (&json!(store_last), &json!(store_last), &json!(0)),
            "{ready}"
        );
        let metrics = node
            .http
            .get(node.url("/metrics"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        let metrics = metrics.text().await.unwrap();
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with("gridwatch_follow_events_total ")
                    && l.split(' ')
                        .nth(1)
                        .and_then(|n| n.parse::<f64>().ok())
                        .is_some_and(|n| n > 0.0)),
            "each node applied events of the other: {metrics}"
        );
    }
    let list = "/api/incidents?limit=1000";
    assert_same(
        &b.get(list).await.1,
        &a.get(list).await.1,
        "every case on both nodes",
    );
    assert_eq!(a.get(list).await.1["total"], json!(61));

    // B's client got every event after its snapshot once, in sequence order, each node's cases among
    // them.
    live.extend(
        watcher
            .until(|m| m["type"] == "delta" && m["seq"] == store_last)
            .await,
    );
    let seen = deltas(&live);
    let seqs: Vec<i64> = seen.iter().map(|(seq, _, _)| *seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "in sequence order, none twice: {seqs:?}"
    );
    let mut created: Vec<i64> = seen
        .iter()
        .filter(|(_, kind, _)| kind == "incident.created")
        .map(|(_, _, id)| *id)
        .collect();
    created.sort_unstable();
    assert_eq!(created, ids, "every case created through either node");

    // --- A client of B that goes away resumes on A: nothing missed, nothing twice.
    let mut moved = Ws::connect(&a, &admin).await;
    moved.send(&json!({"type": "resume", "seq": from})).await;
    let replay = moved.until(|m| m["type"] == "replayed").await;
    assert_eq!(
        deltas(&replay),
        seen,
        "the replay on A is what B's client received live"
    );
    assert_eq!(replay.last().unwrap()["seq"], store_last);
    drop((watcher, moved));
    drop((a, b));
    store.finish().await;
}

/// Whether `server`'s `/metrics` says it holds the escalation lease.
async fn holds_the_lease(server: &Server, token: &str) -> bool {
    let response = server
        .http
        .get(server.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    response
        .text()
        .await
        .unwrap()
        .lines()
        .any(|l| l.starts_with("gridwatch_lease_held{lease=\"escalation\"} 1"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_escalation_lease_moves_when_its_holder_dies_on_postgis() {
    const CASES: i64 = 12;
    let Some(store) = TestStore::new(Flavor::Postgres).await else {
        return;
    };
    let mut seed = Server::demo(&store);
    let admin = seed.token().to_owned();
    let here = grid_place(&seed, 0, 0).await;
    for _ in 0..CASES {
        report(&seed, &admin, here.lat, here.lon, "city_appearance").await;
    }
    seed.kill();
    // The cases fall due one a second from 4 s after the nodes start.
    store
        .execute("UPDATE incidents SET escalate_at = now() + interval '6 seconds' + id * interval '1 second'")
        .await
        .unwrap();
    let mut nodes = [
        Server::start(&["serve"], &store),
        Server::start(&["serve"], &store),
    ];
    for node in &mut nodes {
        node.admin = Some(admin.clone());
    }
    // Exactly one node takes the lease.
    let deadline = tokio::time::Instant::now() + PROPAGATION;
    let holder = loop {
        let mut holding = Vec::new();
        for (n, node) in nodes.iter().enumerate() {
            if holds_the_lease(node, &admin).await {
                holding.push(n);
            }
        }
        assert!(holding.len() <= 1, "one holder at most: {holding:?}");
        if let [n] = holding[..] {
            break n;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no node took the lease"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let survivor = 1 - holder;
    // The holder escalates the first cases, then dies while the others fall due.
    let escalated = || async {
        store
            .count("SELECT count(*) FROM incident_history WHERE action = 'escalate'")
            .await
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while escalated().await < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing was escalated"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    nodes[holder].kill();
    let killed_at = tokio::time::Instant::now();
    while !holds_the_lease(&nodes[survivor], &admin).await {
        assert!(
            killed_at.elapsed() < PROPAGATION,
            "the survivor did not take the lease within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    while escalated().await < CASES {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {CASES} cases were escalated",
            escalated().await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Give a second holder, had there been one, time to escalate again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        store
            .count(
                "SELECT count(*) FROM (SELECT incident_id FROM incident_history \
                 WHERE action = 'escalate' GROUP BY incident_id HAVING count(*) = 1) AS once"
            )
            .await,
        CASES,
        "every case escalated exactly once"
    );
    let (_, list) = nodes[survivor].get("/api/incidents?limit=100").await;
    for case in list["features"].as_array().unwrap() {
        assert_eq!(case["properties"]["level"], "community", "{case}");
    }
    drop(nodes);
    store.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_killed_under_load_loses_nothing_and_its_clients_resume_elsewhere_on_postgis() {
    let Some(store) = TestStore::new(Flavor::Postgres).await else {
        return;
    };
    let Some(nats) = Nats::start() else { return };
    let url = nats.url();
    let node = |command: &'static str, name: &'static str| {
        let args = [command, "--nats-url", url.as_str(), "--node-id", name];
        Server::start(&args, &store)
    };
    let mut a = node("demo", "node-a");
    let admin = a.token().to_owned();
    let mut b = node("serve", "node-b");
    b.admin = Some(admin.clone());
    let mut c = node("serve", "node-c");
    c.admin = Some(admin.clone());
    let here = grid_place(&a, 0, 0).await;
    let worker = token(&a, "worker", Some(here.primary)).await;
    let planner = token(&a, "planner", None).await;
    let mut watcher = Ws::connect(&a, &admin).await;
    watcher.subscribe(&json!({})).await;
    // C's map: every event once, in order, and the positions stored through A and C.
    let mut map_c = Ws::connect(&c, &admin).await;
    map_c.subscribe(&json!({})).await;
    nats.until_subjects("node-c", |s| s.iter().any(|s| s == "gridwatch.pos.>"))
        .await;
    let from = last_seq(&a).await;
    let count_fixes = format!(
        "SELECT COUNT(*) FROM positions WHERE worker_id = {}",
        here.primary
    );
    let fixes_before = store.count(&count_fixes).await;

    // Creates through A and B, an accept through B of every case B created, fixes through A and C, and
    // a boundary plan drawn and applied through B (last: it may move the cases to other workers), until
    // A dies.
    let body = |n: usize| {
        json!({"lat": here.lat, "lon": here.lon, "category": "city_appearance",
            "description": format!("kill test {n}"), "source": "hotline"})
    };
    let fix = |n: usize| {
        let at = chrono::Utc::now() - chrono::TimeDelta::seconds(100 - i64::try_from(n).unwrap());
        json!({"positions": [{"worker_id": here.primary,
            "lat": here.lat + 0.00001 * f64::from(u32::try_from(n).unwrap()),
            "lon": here.lon, "at": at.to_rfc3339()}]})
    };
    let community = here.community;
    let plans = format!("/api/communities/{community}/plans");
    let mut created: Vec<i64> = Vec::new();
    let mut accepted: Vec<i64> = Vec::new();
    let mut live = Vec::new();
    for n in 0..40 {
        let (to_a, to_b) = (body(2 * n), body(2 * n + 1));
        let through = if n % 2 == 0 { &a } else { &c };
        let fix_n = fix(n);
        let ((sa, ca), (sb, cb), (sf, fixed)) = tokio::join!(
            a.send(Method::POST, "/api/incidents", &to_a),
            b.send(Method::POST, "/api/incidents", &to_b),
            through.send(Method::POST, "/api/positions", &fix_n)
        );
        assert_eq!((sa, sb, sf), (201, 201, 200), "{ca} {cb} {fixed}");
        created.push(ca["properties"]["id"].as_i64().unwrap());
        let id = cb["properties"]["id"].as_i64().unwrap();
        created.push(id);
        act_ok(&b, &worker, id, &json!({"action": "accept"})).await;
        accepted.push(id);
        if n == 39 {
            let (status, plan) = b
                .send_as(&planner, Method::POST, &plans, &json!({"auto": true}))
                .await;
            assert_eq!(status, 201, "{plan}");
            let apply = format!("{plans}/{}/apply", plan["id"]);
            let (status, applied) = b.send_as(&planner, Method::POST, &apply, &json!({})).await;
            assert_eq!(status, 200, "{applied}");
        }
    }
    // A fix stored through A reaches C's map through NATS.
    let last_fix = fix(40);
    let (status, answer) = a.send(Method::POST, "/api/positions", &last_fix).await;
    assert_eq!(status, 200, "{answer}");
    let last_lat = last_fix["positions"][0]["lat"].as_f64().unwrap();
    let mut on_c = map_c
        .until(|m| {
            m["type"] == "position"
                && m["worker"] == here.primary
                && m["lat"]
                    .as_f64()
                    .is_some_and(|l| (l - last_lat).abs() < 1e-9)
        })
        .await;
    // A dies with its client connected and a create in flight on B.
    let in_flight = body(1000);
    let in_flight_b = b.send(Method::POST, "/api/incidents", &in_flight);
    let killing = async {
        tokio::time::sleep(Duration::from_millis(2)).await;
        a.kill();
    };
    let ((status, last), ()) = tokio::join!(in_flight_b, killing);
    assert_eq!(status, 201, "{last}");
    created.push(last["properties"]["id"].as_i64().unwrap());
    // What A's client had received before A died.
    while let Ok(Some(message)) =
        tokio::time::timeout(Duration::from_secs(2), watcher.next_or_closed()).await
    {
        live.push(message);
    }
    let cursor = deltas(&live).last().map_or(from, |d| d.0);
    // It moves to B and resumes: nothing missed, nothing twice.
    let mut moved = Ws::connect(&b, &admin).await;
    moved.send(&json!({"type": "resume", "seq": cursor})).await;
    live.extend(moved.until(|m| m["type"] == "replayed").await);
    let store_last = store.count("SELECT max(seq) FROM events").await;
    let seen = deltas(&live);
    assert_eq!(
        seen.last().map(|d| d.0),
        Some(store_last),
        "the client reached the log's end"
    );
    let seqs: Vec<i64> = seen.iter().map(|d| d.0).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "in order, none twice: {seqs:?}"
    );
    let mut got: Vec<i64> = seen
        .iter()
        .filter(|(_, kind, _)| kind == "incident.created")
        .map(|d| d.2)
        .collect();
    got.sort_unstable();
    created.sort_unstable();
    assert_eq!(
        got, created,
        "every acknowledged case reached the client once"
    );

    // C's map got every event once, in order, A's death or not.
    on_c.extend(
        map_c
            .until(|m| m["type"] == "delta" && m["seq"] == store_last)
            .await,
    );
    // (A drafted plan reaches no map: its event is the one of the log a client does not get.)
    let on_c: Vec<i64> = deltas(&on_c).iter().map(|d| d.0).collect();
    assert!(
        on_c.windows(2).all(|w| w[0] < w[1]),
        "C's map: in order, none twice: {on_c:?}"
    );
    let wanted = store
        .count(&format!(
            "SELECT COUNT(*) FROM events WHERE seq > {from} AND kind <> 'plan.created'"
        ))
        .await;
    assert_eq!(
        i64::try_from(on_c.len()).unwrap(),
        wanted,
        "C's map: every event of the log a map gets: {on_c:?}"
    );

    // A comes back; the three worlds hold every acknowledged write and equal each other, grids (the
    // plan applied through B) and cases alike.
    let mut a = node("serve", "node-a");
    a.admin = Some(admin.clone());
    for node in [&a, &b, &c] {
        eventually(node, "/health", |h| h["last_seq"] == store_last).await;
    }
    let everything = "/api/incidents?limit=1000";
    let (_, on_a) = a.get(everything).await;
    let (_, grids_a) = a.get("/api/grids?cells=true").await;
    for (name, node) in [("B", &b), ("C", &c)] {
        assert_same(
            &node.get(everything).await.1,
            &on_a,
            &format!("every case on A and {name}"),
        );
        assert_same(
            &node.get("/api/grids?cells=true").await.1,
            &grids_a,
            &format!("the grids on A and {name}"),
        );
    }
    assert_eq!(
        store.count(&count_fixes).await - fixes_before,
        41,
        "every acknowledged fix is stored"
    );
    for id in &created {
        assert!(
            on_a["features"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["properties"]["id"] == *id),
            "acknowledged case {id} is missing"
        );
    }
    for id in &accepted {
        assert_eq!(case(&a, *id).await["status"], "accepted", "case {id}");
    }
    drop((watcher, moved, map_c));
    drop((a, b, c));
    store.finish().await;
}

/// Appends 100,000 `token.revoked` events as another writer would: the events lock
/// (`store/postgres.rs`, `EVENTS_LOCK`), then the numbers after the log's last. A `DO` block runs each
/// statement on a snapshot of its own.
const APPEND_100000: &str = "DO $$ BEGIN \
    PERFORM pg_advisory_xact_lock(7455532597517839988); \
    INSERT INTO events (seq, at, kind, payload) \
    SELECT m + g, now(), 'token.revoked', '{\"by\": 1, \"id\": 999999}'::jsonb \
    FROM generate_series(1, 100000) AS g, (SELECT COALESCE(max(seq), 0) AS m FROM events) AS x; \
    END $$";

/// Waits until `server`'s `/ready` answers 200 with its world at `seq` or later (the running node may
/// write events of its own meanwhile: the escalation sweep, a lease); every `/ready` seen on the way
/// that answered 200 lacked at most 1,000 events, and one that lacked more said `catching-up`.
async fn ready_at(server: &Server, seq: i64) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_mins(1);
    loop {
        let (status, body) = server.get("/ready").await;
        match status {
            200 => {
                assert!(body["lag_events"].as_i64().unwrap() <= 1_000, "{body}");
                if body["applied_seq"].as_i64().unwrap() >= seq {
                    return body;
                }
            }
            503 => assert!(
                body["type"] == "/problems/catching-up"
                    && body["lag_events"].as_i64().unwrap() > 1_000,
                "{body}"
            ),
            _ => panic!("/ready answered {status}: {body}"),
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} did not reach {seq}: {body}",
            server.base
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_started_after_100000_events_is_ready_at_the_logs_end_on_postgis() {
    let Some(store) = TestStore::new(Flavor::Postgres).await else {
        return;
    };
    let a = Server::demo(&store);
    let admin = a.token().to_owned();
    // 100,000 events another process appended (revocations of a token nobody holds: they change
    // nothing a world holds, so only the sequence moves), under the events lock as every writer takes
    // it (A may be writing too), numbered in a later statement that sees every event committed before.
    store.execute(APPEND_100000).await.unwrap();
    let end = store.count("SELECT max(seq) FROM events").await;
    // The running node reads them all, and is ready only within 1,000 of the end.
    let on_a = ready_at(&a, end).await;
    assert!(on_a["log_seq"].as_i64().unwrap() >= end, "{on_a}");
    // A node started now is at the log's end when it first answers.
    let mut b = Server::start(&["serve"], &store);
    b.admin = Some(admin.clone());
    let (status, first) = b.get("/ready").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["lag_events"], 0, "{first}");
    assert_eq!(first["applied_seq"], first["log_seq"], "{first}");
    assert!(first["applied_seq"].as_i64().unwrap() >= end, "{first}");
    // And it follows on: a case through A reaches B as the next event.
    let here = grid_place(&a, 0, 0).await;
    let created = report(&a, &admin, here.lat, here.lon, "city_appearance").await;
    let id = created["id"].as_i64().unwrap();
    let on_b = eventually(&b, &format!("/api/incidents/{id}"), |_| true).await;
    assert_same(&on_b["properties"], &case(&a, id).await, "the case on B");
    ready_at(&b, end + 1).await;
    drop((a, b));
    store.finish().await;
}
