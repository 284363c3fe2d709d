//! Replay (回放, issue 21) through the real binary: a scripted day — cases created and worked, workers
//! moving, a camera added, a boundary changed — with live subscribers recording what they held after
//! each step; afterwards `GET /api/replay/state` at each of those moments equals what they held,
//! exactly, for an admin and for a commander scoped to one community, on both stores. And every bad
//! input is a clear 4xx.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::{act_ok, grid_place, report, token};
use crate::harness::{Flavor, Server, TestStore, assert_problem};
use crate::live::Ws;
use crate::plans::{adjacent, connected_without, grids_of};

#[tokio::test]
async fn replay_equals_what_live_subscribers_held_on_sqlite() {
    replay_equals_live(Flavor::Sqlite).await;
}

#[tokio::test]
async fn replay_equals_what_live_subscribers_held_on_postgis() {
    replay_equals_live(Flavor::Postgres).await;
}

/// What a live subscriber holds: its snapshot with every message since applied, as a map would.
#[derive(Debug, Default)]
struct Held {
    incidents: BTreeMap<i64, Value>,
    workers: BTreeMap<i64, Value>,
    cameras: BTreeMap<i64, Value>,
}

impl Held {
    fn from_snapshot(snapshot: &Value) -> Self {
        assert_eq!(snapshot["more"], false, "one part: {snapshot}");
        let mut held = Self::default();
        for case in snapshot["incidents"].as_array().unwrap() {
            held.incidents
                .insert(case["id"].as_i64().unwrap(), case.clone());
        }
        for worker in snapshot["workers"].as_array().unwrap() {
            held.workers
                .insert(worker["id"].as_i64().unwrap(), worker.clone());
        }
        held
    }

    fn apply(&mut self, message: &Value) {
        match message["type"].as_str() {
            // What the subscriber may see changed (a boundary change): a new snapshot replaces the
            // cases and workers; the cameras it was sent stay on its map.
            Some("snapshot") => {
                let cameras = std::mem::take(&mut self.cameras);
                *self = Self::from_snapshot(message);
                self.cameras = cameras;
            }
            Some("delta") => {
                let (id, data) = (message["id"].as_i64().unwrap(), &message["data"]);
                match message["layer"].as_str().unwrap() {
                    "incidents" if message["kind"] != "incident.photo_added" => {
                        if ["closed", "cancelled", "merged"]
                            .contains(&data["status"].as_str().unwrap())
                        {
                            self.incidents.remove(&id);
                        } else {
                            self.incidents.insert(id, data.clone());
                        }
                    }
                    "workers" => {
                        let position = self
                            .workers
                            .get(&id)
                            .map_or(Value::Null, |w| w["position"].clone());
                        let mut worker = data.clone();
                        worker["position"] = position;
                        self.workers.insert(id, worker);
                    }
                    "cameras" if message["kind"] == "camera.deleted" => {
                        self.cameras.remove(&id);
                    }
                    "cameras" => {
                        self.cameras.insert(id, data.clone());
                    }
                    _ => {}
                }
            }
            Some("position") => {
                let id = message["worker"].as_i64().unwrap();
                if let Some(worker) = self.workers.get_mut(&id) {
                    worker["position"] =
                        json!({"lat": message["lat"], "lon": message["lon"], "at": message["at"]});
                }
            }
            _ => {}
        }
    }
}

/// A live subscriber reading in the background: what it holds, shared.
struct Recorder {
    held: std::sync::Arc<std::sync::Mutex<Held>>,
    task: tokio::task::JoinHandle<()>,
}

impl Recorder {
    async fn start(server: &Server, token: &str, bbox: [f64; 4]) -> Self {
        let mut ws = Ws::connect(server, token).await;
        let snapshot = ws.subscribe(&json!({"bbox": bbox})).await;
        let held = std::sync::Arc::new(std::sync::Mutex::new(Held::from_snapshot(&snapshot)));
        let shared = std::sync::Arc::clone(&held);
        let task = tokio::spawn(async move {
            while let Some(message) = ws.next_or_closed().await {
                shared.lock().unwrap().apply(&message);
            }
        });
        Self { held, task }
    }

    /// What it holds now, as the replay lists it.
    fn now(&self) -> Value {
        let held = self.held.lock().unwrap();
        json!({
            "incidents": held.incidents.values().collect::<Vec<_>>(),
            "workers": held.workers.values().collect::<Vec<_>>(),
            "cameras": held.cameras.clone(),
        })
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Widens `b` to every `[lon, lat]` position nested in `v`.
fn walk(v: &Value, b: &mut [f64; 4]) {
    match v.as_array() {
        Some(a) if a.len() >= 2 && a[0].is_f64() => {
            let (x, y) = (a[0].as_f64().unwrap(), a[1].as_f64().unwrap());
            *b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
        }
        Some(a) => a.iter().for_each(|v| walk(v, b)),
        None => {}
    }
}

/// The box around every grid of the demo city, with a margin.
async fn city_bbox(server: &Server) -> [f64; 4] {
    let (_, grids) = server.get("/api/grids").await;
    let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for f in grids["features"].as_array().unwrap() {
        walk(&f["geometry"]["coordinates"], &mut b);
    }
    [b[0] - 0.002, b[1] - 0.002, b[2] + 0.002, b[3] + 0.002]
}

/// The grids as `/api/grids?cells=true` lists them now, by code: (name, community, sorted cells);
/// emptied grids (no cells) left out, as the replay leaves them out.
async fn grids_now(server: &Server, community: Option<i64>) -> BTreeMap<String, Value> {
    let (status, all) = server.get("/api/grids?cells=true").await;
    assert_eq!(status, 200);
    all["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["properties"])
        .filter(|p| community.is_none_or(|c| p["community_id"] == c))
        .filter(|p| !p["cells"].as_array().unwrap().is_empty())
        .map(|p| grid_entry(p, "community_id"))
        .collect()
}

/// A grid as the comparison takes it: its code, and its name, community (in the field `community`
/// names) and sorted cells.
fn grid_entry(g: &Value, community: &str) -> (String, Value) {
    let mut cells: Vec<&str> = g["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    cells.sort_unstable();
    (
        g["code"].as_str().unwrap().to_owned(),
        json!([g["name"], g[community], cells]),
    )
}

/// The replayed grids in the same form.
fn grids_replayed(state: &Value) -> BTreeMap<String, Value> {
    state["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| grid_entry(g, "community"))
        .collect()
}

/// One recorded moment: when, what each subscriber held, the grids and cameras the API listed.
struct Moment {
    what: &'static str,
    at: DateTime<Utc>,
    held: Vec<Value>,
    grids: Vec<BTreeMap<String, Value>>,
    cameras: Vec<Value>,
}

fn replay_path(at: DateTime<Utc>, bbox: [f64; 4]) -> String {
    let at = at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    format!(
        "/api/replay/state?at={}&bbox={},{},{},{}",
        at.replace('+', "%2B"),
        bbox[0],
        bbox[1],
        bbox[2],
        bbox[3]
    )
}

/// Camera ids the API lists now.
async fn camera_ids(server: &Server, token: &str) -> Value {
    let (status, all) = server.get_as(token, "/api/cameras").await;
    assert_eq!(status, 200, "{all}");
    let mut ids: Vec<i64> = all["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    json!(ids)
}

async fn replay_equals_live(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let admin = server.token().to_owned();
    let bbox = city_bbox(&server).await;
    let here = grid_place(&server, 0, 0).await;
    let there = grid_place(&server, 50, 0).await;
    let commander = {
        let (status, minted) = server
            .send(
                Method::POST,
                "/api/tokens",
                &json!({"role": "commander", "scopes": [format!("region:{}", here.community)],
                    "label": "replay commander"}),
            )
            .await;
        assert_eq!(status, 201, "{minted}");
        minted["token"].as_str().unwrap().to_owned()
    };
    let worker = token(&server, "worker", Some(here.primary)).await;

    // The replay history starts with the first keyframe, written as the server starts.
    let started = tokio::time::Instant::now();
    loop {
        let (status, body) = server.get(&replay_path(Utc::now(), bbox)).await;
        if status == 200 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no replay history: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The day starts with two workers on the map, before anyone watches.
    let start = Utc::now().trunc_subsecs(3);
    let fixes = json!([
        {"worker_id": here.primary, "lat": here.lat + 0.0001, "lon": here.lon, "at": start.to_rfc3339()},
        {"worker_id": there.primary, "lat": there.lat, "lon": there.lon + 0.0001, "at": start.to_rfc3339()},
    ]);
    let (status, body) = server.send(Method::POST, "/api/positions", &fixes).await;
    assert_eq!(status, 200, "{body}");

    let viewers = [admin.clone(), commander.clone()];
    let recorders = [
        Recorder::start(&server, &admin, bbox).await,
        Recorder::start(&server, &commander, bbox).await,
    ];
    let mut moments: Vec<Moment> = Vec::new();
    let community = [None, Some(here.community)];
    let record = async |what: &'static str, moments: &mut Vec<Moment>| {
        // Every delta of the step reaches both subscribers well within this; then nothing happens
        // until the moment is taken.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let at = Utc::now().trunc_subsecs(6);
        let mut grids = Vec::new();
        for c in community {
            grids.push(grids_now(&server, c).await);
        }
        let mut cameras = Vec::new();
        for v in &viewers {
            cameras.push(camera_ids(&server, v).await);
        }
        moments.push(Moment {
            what,
            at,
            held: recorders.iter().map(Recorder::now).collect(),
            grids,
            cameras,
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    record("the start", &mut moments).await;

    // Cases reported, in the commander's community and elsewhere.
    let a = report(&server, &admin, here.lat, here.lon, "city_appearance").await;
    let b = report(&server, &admin, here.lat + 0.0002, here.lon, "hazard").await;
    let c = report(&server, &admin, there.lat, there.lon, "city_appearance").await;
    record("three cases reported", &mut moments).await;

    // Worked: one accepted and started, one cancelled.
    let (a, b, c) = (
        a["id"].as_i64().unwrap(),
        b["id"].as_i64().unwrap(),
        c["id"].as_i64().unwrap(),
    );
    act_ok(&server, &worker, a, &json!({"action": "accept"})).await;
    act_ok(&server, &worker, a, &json!({"action": "start"})).await;
    act_ok(
        &server,
        &admin,
        b,
        &json!({"action": "cancel", "note": "重复 a duplicate"}),
    )
    .await;
    record("cases worked", &mut moments).await;

    // Workers moving.
    let now = Utc::now().trunc_subsecs(3);
    let fixes = json!([
        {"worker_id": here.primary, "lat": here.lat + 0.0003, "lon": here.lon, "at": now.to_rfc3339()},
        {"worker_id": there.primary, "lat": there.lat, "lon": there.lon + 0.0003, "at": now.to_rfc3339()},
    ]);
    let (status, body) = server.send(Method::POST, "/api/positions", &fixes).await;
    assert_eq!(status, 200, "{body}");
    record("workers moved", &mut moments).await;
    let later = (Utc::now() + chrono::TimeDelta::milliseconds(1)).trunc_subsecs(3);
    let fixes = json!([
        {"worker_id": here.primary, "lat": here.lat + 0.0004, "lon": here.lon + 0.0001, "at": later.to_rfc3339()},
    ]);
    let (status, body) = server.send(Method::POST, "/api/positions", &fixes).await;
    assert_eq!(status, 200, "{body}");
    record("a worker moved", &mut moments).await;

    // A camera added.
    let (status, camera) = server
        .send(
            Method::POST,
            "/api/cameras",
            &json!({"name": "东门 east gate", "lat": here.lat, "lon": here.lon, "heading_deg": 45.0,
                "fov_deg": 90.0, "range_m": 120.0, "kind": "fixed"}),
        )
        .await;
    assert_eq!(status, 201, "{camera}");
    record("a camera added", &mut moments).await;

    // A boundary changed: a cell of one grid of the commander's community given to a neighbour (the
    // first choice the server accepts: it refuses a plan that cuts a grid in two).
    let base = format!("/api/communities/{}/plans", here.community);
    let (_, all) = server.get("/api/grids?cells=true").await;
    let grids = grids_of(&all, here.community);
    let mut plan = None;
    'search: for (a, ga) in grids.iter().enumerate() {
        for (b, gb) in grids.iter().enumerate() {
            for &x in ga.cells.iter().filter(|_| a != b && ga.cells.len() > 2) {
                if !gb.cells.iter().any(|&c| adjacent(c, x)) || !connected_without(&ga.cells, x) {
                    continue;
                }
                let xs = x.to_string();
                let moved = crate::plans::body(&grids, |l: &mut Vec<(String, Vec<String>)>| {
                    l[a].1.retain(|c| *c != xs);
                    l[b].1.push(xs.clone());
                });
                let (status, created) = server.send(Method::POST, &base, &moved).await;
                if status == 201 {
                    plan = Some(created);
                    break 'search;
                }
            }
        }
    }
    let plan = plan.expect("a cell that can move");
    let (status, applied) = server
        .send(
            Method::POST,
            &format!("{base}/{}/apply", plan["id"]),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{applied}");
    record("a boundary changed", &mut moments).await;

    // Closing out: the first case (which the boundary change may have routed again) cancelled or
    // escalated, whichever the admin is offered; the other community's case reassigned.
    let offered = crate::cases::case(&server, a).await["your_actions"].clone();
    let action = ["cancel", "escalate"]
        .into_iter()
        .find(|x| offered.as_array().unwrap().contains(&json!(x)))
        .expect("an action the admin may take");
    act_ok(
        &server,
        &admin,
        a,
        &json!({"action": action, "note": "收尾 end of day"}),
    )
    .await;
    act_ok(
        &server,
        &admin,
        c,
        &json!({"action": "reassign", "to": here.primary}),
    )
    .await;
    record("the day's last actions", &mut moments).await;
    drop(recorders);

    // Afterwards: the replay at each moment equals what each subscriber held then.
    for moment in &moments {
        for (v, viewer) in viewers.iter().enumerate() {
            let (status, state) = server.get_as(viewer, &replay_path(moment.at, bbox)).await;
            assert_eq!(status, 200, "{}: {state}", moment.what);
            let replayed = json!({
                "incidents": state["incidents"],
                "workers": state["workers"],
            });
            let held = &moment.held[v];
            let live = json!({"incidents": held["incidents"], "workers": held["workers"]});
            crate::harness::assert_same(
                &replayed,
                &live,
                &format!(
                    "{} (viewer {v}): the replay against what was held",
                    moment.what
                ),
            );
            // Cameras (a snapshot lists none): every one that reached the subscriber, as it was; for
            // the admin, who sees them all, exactly the ids the API listed then.
            let replayed: BTreeMap<String, &Value> = state["cameras"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| (c["id"].to_string(), c))
                .collect();
            for (id, seen) in held["cameras"].as_object().unwrap() {
                assert_eq!(
                    replayed.get(id),
                    Some(&seen),
                    "{}: camera {id}",
                    moment.what
                );
            }
            if v == 0 {
                let ids: Vec<i64> = replayed.keys().map(|k| k.parse().unwrap()).collect();
                let mut ids = ids;
                ids.sort_unstable();
                assert_eq!(json!(ids), moment.cameras[v], "{}: cameras", moment.what);
            }
            assert_eq!(
                grids_replayed(&state),
                moment.grids[v],
                "{}: the grids",
                moment.what
            );
        }
    }
    // The script did change what was held, so the comparison above compared different maps.
    let incidents = |m: &Moment| m.held[0]["incidents"].as_array().unwrap().len();
    assert!(incidents(&moments[1]) >= incidents(&moments[0]) + 3);
    assert!(moments[5].grids != moments[6].grids, "the boundary changed");
    assert_ne!(
        moments[2].held[0]["workers"], moments[4].held[0]["workers"],
        "workers moved"
    );

    played_back(&server, &admin, bbox, &moments).await;
    bad_input(&server, &admin, &worker, bbox).await;
    bad_websocket_input(&server, &admin, &worker, bbox).await;
    drop(server);
    store.finish().await;
}

/// Each a clear 4xx problem, and nothing changes.
async fn bad_input(server: &Server, admin: &str, worker: &str, bbox: [f64; 4]) {
    let seq = crate::cases::last_seq(server).await;
    let now = Utc::now();
    let future = now + chrono::TimeDelta::hours(1);
    assert_problem(
        &server.get_as(admin, &replay_path(future, bbox)).await,
        422,
        "replay-in-future",
    );
    let long_ago = now - chrono::TimeDelta::days(3650);
    let (status, body) = server.get_as(admin, &replay_path(long_ago, bbox)).await;
    assert_problem(&(status, body.clone()), 422, "replay-before-history");
    assert!(body["starts"].is_string(), "{body}");
    // The whole world, and a box a little over the limit.
    assert_problem(
        &server
            .get_as(
                admin,
                "/api/replay/state?at=2026-01-01T00:00:00Z&bbox=-180,-90,180,90",
            )
            .await,
        422,
        "replay-area-too-large",
    );
    let wide = [bbox[0], bbox[1], bbox[0] + 0.51, bbox[1] + 0.1];
    assert_problem(
        &server.get_as(admin, &replay_path(now, wide)).await,
        422,
        "replay-area-too-large",
    );
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for (path, slug) in [
        (
            "/api/replay/state?at=yesterday&bbox=1,1,1.1,1.1".to_owned(),
            "invalid-time",
        ),
        (
            "/api/replay/state?at=&bbox=1,1,1.1,1.1".to_owned(),
            "invalid-time",
        ),
        (
            format!("/api/replay/state?at={at}&bbox=1,1,1"),
            "invalid-bbox",
        ),
        (
            format!("/api/replay/state?at={at}&bbox=1,NaN,1.1,1.1"),
            "invalid-bbox",
        ),
        (
            format!("/api/replay/state?at={at}&bbox=1,95,1.1,96"),
            "invalid-bbox",
        ),
        (
            format!("/api/replay/state?at={at}&bbox=1.1,1,1,1.1"),
            "invalid-bbox",
        ),
    ] {
        let (status, body) = server.get_as(admin, &path).await;
        assert_problem(&(status, body), 400, slug);
    }
    for path in [
        format!("/api/replay/state?at={at}"),
        "/api/replay/state?bbox=1,1,1.1,1.1".to_owned(),
        format!("/api/replay/state?at={at}&bbox=1,1,1.1,1.1&speed=2"),
    ] {
        let (status, body) = server.get_as(admin, &path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["status"], 400, "a problem: {body}");
    }
    // A worker's phone does not look back.
    assert_problem(
        &server.get_as(worker, &replay_path(now, bbox)).await,
        403,
        "forbidden",
    );
    assert_eq!(crate::cases::last_seq(server).await, seq, "nothing changed");
}

/// The time as a replay message takes it.
fn rfc(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// What the admin held, as a replay's map lists it.
fn held_map(held: &Held) -> Value {
    json!({
        "incidents": held.incidents.values().collect::<Vec<_>>(),
        "workers": held.workers.values().collect::<Vec<_>>(),
    })
}

/// The day played back over the websocket at 20× ends holding what the live subscriber held at the
/// end; a seek shows the map of that moment; stopping goes back to live.
async fn played_back(server: &Server, admin: &str, bbox: [f64; 4], moments: &[Moment]) {
    let (first, last) = (&moments[0], &moments[moments.len() - 1]);
    let mut ws = Ws::connect(server, admin).await;
    ws.send(
        &json!({"type": "replay", "from": rfc(first.at), "to": rfc(last.at), "speed": 20,
        "bbox": bbox}),
    )
    .await;
    let state = ws.next().await;
    assert_eq!(state["type"], "replay_state", "{state}");
    let mut held = Held::from_snapshot(&json!({"more": false, "incidents": state["incidents"],
        "workers": state["workers"]}));
    crate::harness::assert_same(
        &held_map(&held),
        &json!({"incidents": first.held[0]["incidents"], "workers": first.held[0]["workers"]}),
        "the replay's first map",
    );
    let mut deltas = 0;
    loop {
        let mut message = ws.next().await;
        match message["type"].as_str().unwrap() {
            "replay_end" => break,
            "replay_delta" => {
                deltas += 1;
                message["type"] = json!("delta");
                held.apply(&message);
            }
            "replay_position" => {
                message["type"] = json!("position");
                held.apply(&message);
            }
            "replay_clock" => {}
            other => panic!("unexpected {other}: {message}"),
        }
    }
    assert!(deltas >= 8, "the day's changes were played: {deltas}");
    crate::harness::assert_same(
        &held_map(&held),
        &json!({"incidents": last.held[0]["incidents"], "workers": last.held[0]["workers"]}),
        "the map at the replay's end against what the live subscriber held",
    );

    // Slowly now: paused, then a seek shows the map of that moment; stop; back to live.
    ws.send(
        &json!({"type": "replay", "from": rfc(first.at), "to": rfc(last.at), "speed": 1,
        "bbox": bbox}),
    )
    .await;
    assert_eq!(ws.next().await["type"], "replay_state");
    ws.send(&json!({"type": "replay_pause"})).await;
    ws.send(&json!({"type": "replay_seek", "at": rfc(moments[3].at)}))
        .await;
    let sought = ws
        .until(|m| m["type"] == "replay_state")
        .await
        .pop()
        .unwrap();
    crate::harness::assert_same(
        &json!({"incidents": sought["incidents"], "workers": sought["workers"]}),
        &json!({"incidents": moments[3].held[0]["incidents"], "workers": moments[3].held[0]["workers"]}),
        "the map after a seek",
    );
    ws.send(&json!({"type": "replay_speed", "speed": 3600}))
        .await;
    ws.send(&json!({"type": "replay_stop"})).await;
    ws.until(|m| m["type"] == "replay_end").await;
    let snapshot = ws.subscribe(&json!({"bbox": bbox})).await;
    assert_eq!(snapshot["type"], "snapshot");
}

/// Each refused with an `error` naming why, and the connection goes on.
async fn bad_websocket_input(server: &Server, admin: &str, worker: &str, bbox: [f64; 4]) {
    let now = Utc::now();
    let hour_ago = rfc(now - chrono::TimeDelta::hours(1));
    let mut ws = Ws::connect(server, admin).await;
    let cases = [
        (
            json!({"type": "replay", "from": rfc(now), "to": hour_ago, "speed": 1, "bbox": bbox}),
            422,
            "invalid-range",
        ),
        (
            json!({"type": "replay", "from": hour_ago, "to": rfc(now + chrono::TimeDelta::hours(1)), "speed": 1, "bbox": bbox}),
            422,
            "replay-in-future",
        ),
        (
            json!({"type": "replay", "from": hour_ago, "to": rfc(now), "speed": 0, "bbox": bbox}),
            422,
            "invalid-speed",
        ),
        (
            json!({"type": "replay", "from": hour_ago, "to": rfc(now), "speed": 3601, "bbox": bbox}),
            422,
            "invalid-speed",
        ),
        (
            json!({"type": "replay", "from": hour_ago, "to": rfc(now), "speed": 1.5, "bbox": bbox}),
            422,
            "invalid-speed",
        ),
        (
            json!({"type": "replay", "from": hour_ago, "to": rfc(now), "speed": 1, "bbox": [-180, -90, 180, 90]}),
            422,
            "replay-area-too-large",
        ),
        (
            json!({"type": "replay", "from": hour_ago, "to": rfc(now), "speed": 1, "bbox": [1, 2, 3]}),
            400,
            "invalid-bbox",
        ),
        (
            json!({"type": "replay", "from": "noon", "to": rfc(now), "speed": 1, "bbox": bbox}),
            400,
            "invalid-time",
        ),
        (
            json!({"type": "replay", "from": hour_ago, "to": rfc(now), "speed": 1, "bbox": bbox, "x": 1}),
            400,
            "invalid-message",
        ),
        (json!({"type": "replay_pause"}), 409, "no-replay"),
        (
            json!({"type": "replay_seek", "at": hour_ago}),
            409,
            "no-replay",
        ),
    ];
    for (message, status, slug) in cases {
        ws.send(&message).await;
        let error = ws.next().await;
        assert_eq!(error["type"], "error", "{message}: {error}");
        assert_eq!(error["status"], status, "{message}: {error}");
        assert_eq!(
            error["problem"],
            format!("/problems/{slug}"),
            "{message}: {error}"
        );
    }
    // Still serving: a ping is answered.
    ws.send(&json!({"type": "ping"})).await;
    assert_eq!(ws.next().await["type"], "pong");
    let mut phone = Ws::connect(server, worker).await;
    phone
        .send(
            &json!({"type": "replay", "from": hour_ago, "to": rfc(now), "speed": 1, "bbox": bbox}),
        )
        .await;
    let refused = phone.next().await;
    assert_eq!(refused["status"], 403, "{refused}");
}
