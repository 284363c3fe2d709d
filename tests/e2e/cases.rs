//! Helpers for the incident tests: places inside grids, tokens for each role, create and act.

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::Server;

/// A grid of the demo city with its primary worker and a point inside it (a cell centre), degrees.
pub struct GridPlace {
    pub grid: i64,
    pub community: i64,
    pub primary: i64,
    pub lat: f64,
    pub lon: f64,
}

/// The `n`-th grid of the demo city (by id), with a point at the centre of its `cell`-th cell.
pub async fn grid_place(server: &Server, n: usize, cell: usize) -> GridPlace {
    let (_, grids) = server.get("/api/grids").await;
    let grid = &grids["features"][n]["properties"];
    let id = grid["id"].as_i64().unwrap();
    let (status, one) = server.get(&format!("/api/grids/{id}")).await;
    assert_eq!(status, 200);
    let cells = one["properties"]["cells"].as_array().unwrap();
    let cell = h3o::CellIndex::from_str(cells[cell % cells.len()].as_str().unwrap()).unwrap();
    let centre = h3o::LatLng::from(cell);
    GridPlace {
        grid: id,
        community: grid["community_id"].as_i64().unwrap(),
        primary: grid["primary_worker_id"].as_i64().unwrap(),
        lat: centre.lat(),
        lon: centre.lng(),
    }
}

/// Mints a token with the admin token; `worker` may be null.
pub async fn token(server: &Server, role: &str, worker: Option<i64>) -> String {
    let (status, minted) = server
        .send(
            Method::POST,
            "/api/tokens",
            &json!({"role": role, "worker_id": worker, "label": role}),
        )
        .await;
    assert_eq!(status, 201, "{minted}");
    minted["token"].as_str().unwrap().to_owned()
}

/// Reports an incident at a point; asserts 201 and returns the case's properties.
pub async fn report(server: &Server, token: &str, lat: f64, lon: f64, category: &str) -> Value {
    let body = json!({"lat": lat, "lon": lon, "category": category, "priority": "normal",
        "description": "路灯不亮 street light out", "source": "hotline"});
    let (status, case) = server
        .send_as(token, Method::POST, "/api/incidents", &body)
        .await;
    assert_eq!(status, 201, "{case}");
    assert_eq!(case["type"], "Feature");
    case["properties"].clone()
}

/// Posts an action; returns the status and the body (the case's properties on success).
pub async fn act(server: &Server, token: &str, id: i64, action: &Value) -> (u16, Value) {
    let (status, body) = server
        .send_as(
            token,
            Method::POST,
            &format!("/api/incidents/{id}/actions"),
            action,
        )
        .await;
    if status == 200 {
        (status, body["properties"].clone())
    } else {
        (status, body)
    }
}

/// Posts an action that must succeed and returns the case's properties.
pub async fn act_ok(server: &Server, token: &str, id: i64, action: &Value) -> Value {
    let (status, case) = act(server, token, id, action).await;
    assert_eq!(status, 200, "{action}: {case}");
    case
}

/// The case's properties, with history.
pub async fn case(server: &Server, id: i64) -> Value {
    let (status, case) = server.get(&format!("/api/incidents/{id}")).await;
    assert_eq!(status, 200, "{case}");
    case["properties"].clone()
}

/// The actions of a case's history, in order.
pub fn actions(case: &Value) -> Vec<String> {
    case["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

/// The event sequence number the server has reached.
pub async fn last_seq(server: &Server) -> i64 {
    let (_, health) = server.get("/health").await;
    health["last_seq"].as_i64().unwrap()
}

/// A worker walking north from a place: a fix a second from `ago` back, about a metre apart — plausible
/// walking, all in the past. Each batch is the walk's next fixes.
pub struct Walk {
    pub worker: i64,
    lat: f64,
    lon: f64,
    /// The first fix's time, whole seconds.
    pub start: DateTime<Utc>,
    second: i64,
}

impl Walk {
    pub fn new(worker: i64, (lat, lon): (f64, f64), ago: TimeDelta) -> Self {
        Self {
            worker,
            lat,
            lon,
            start: (Utc::now() - ago).trunc_subsecs(0),
            second: 0,
        }
    }

    /// The next `n` fixes (`POST /api/positions` items) and their `(worker, at µs)` keys.
    pub fn next(&mut self, n: usize) -> (Vec<Value>, Vec<(i64, i64)>) {
        let mut fixes = Vec::with_capacity(n);
        let mut keys = Vec::with_capacity(n);
        for _ in 0..n {
            let at = self.start + TimeDelta::seconds(self.second);
            #[allow(clippy::cast_precision_loss)] // a few thousand seconds
            let lat = self.lat + 0.000_01 * self.second as f64;
            fixes.push(
                json!({"worker_id": self.worker, "lat": lat, "lon": self.lon,
                "at": at.to_rfc3339()}),
            );
            keys.push((self.worker, at.timestamp_micros()));
            self.second += 1;
        }
        (fixes, keys)
    }
}

/// `(worker, at µs)` of every fix the store holds for `worker` from `from` on (at most 100,000), up to
/// ten minutes ahead: a walk of one fix a second that started an hour ago has stamped fixes in the future
/// once it has sent over 3,600 (the server takes them up to five minutes ahead, and a track ends now
/// unless asked otherwise).
pub async fn stored_fixes(
    server: &Server,
    worker: i64,
    from: DateTime<Utc>,
) -> BTreeSet<(i64, i64)> {
    let query = |t: DateTime<Utc>| t.to_rfc3339().replace('+', "%2B").replace(':', "%3A");
    let (from, to) = (query(from), query(Utc::now() + TimeDelta::minutes(10)));
    let path = format!("/api/workers/{worker}/track?from={from}&to={to}&limit=100000");
    let (status, track) = server.get(&path).await;
    assert_eq!(status, 200, "{track}");
    track["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let at = DateTime::parse_from_rfc3339(f["properties"]["at"].as_str().unwrap()).unwrap();
            (worker, at.timestamp_micros())
        })
        .collect()
}
