//! The authorization matrix (issue 18): every operation of `/api/openapi.json` × every role × an object
//! inside the principal's scope and one outside it, plus no credential, a garbage one, an expired one
//! and a revoked one — checked against `authz/table.rs`, which is written from the rules, not from the
//! code. An operation the document lists without a row fails the test (every route has an owner), and
//! so does a row for an operation the document does not list.
//!
//! "Refused" means 403 (401 for a missing or dead credential); "allowed" means the request passed
//! authorization: anything but 401 and 403, and never a 5xx (a 404 or 409 from an earlier request's
//! change, or a 422 from the body, still shows the caller got through). Every mismatch is collected,
//! so one run lists them all.

mod table;

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use reqwest::Method;
use serde_json::{Value, json};

use self::table::{Access, Body, ROWS, Reach, Req, Row};
use crate::accounts::{Session, person, signed_in};
use crate::cases::{report, token};
use crate::harness::{Flavor, Server, TestStore};
use crate::photos::{jpeg, upload};
use crate::privilege::{Places, places, square, worker_on};
use crate::tiles::tile_at;
use crate::tokens::set_expiry;

#[tokio::test]
async fn every_operation_every_role_on_sqlite() {
    matrix(Flavor::Sqlite).await;
}

#[tokio::test]
async fn every_operation_every_role_on_postgis() {
    matrix(Flavor::Postgres).await;
}

/// What a request is expected to meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allowed,
    /// 403.
    Forbidden,
    /// 401.
    Unauthenticated,
}

/// The person the `Session` rows sign in as (a commander scoped to community A), and their password.
const PERSON: &str = "authz.person";
const PERSON_PASSWORD: &str = "Authz-Pass-2026";

/// What a request carries.
#[derive(Clone, Copy)]
enum Cred<'a> {
    Nothing,
    Bearer(&'a str),
    Cookie(&'a Session),
}

/// The placeholder values of the table's requests.
struct Fixtures(BTreeMap<&'static str, String>);

impl Fixtures {
    fn fill(&self, text: &str, n: usize) -> String {
        let mut out = text.replace("{n}", &n.to_string());
        for (name, value) in &self.0 {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        assert!(
            !out.contains("{grid") && !out.contains("_in}") && !out.contains("_out}"),
            "a placeholder left unfilled: {out}"
        );
        out
    }
}

async fn id_of(server: &Server, secret: &str) -> i64 {
    let (status, me) = server.get_as(secret, "/api/me").await;
    assert_eq!(status, 200, "{me}");
    me["token_id"].as_i64().unwrap()
}

async fn mint(server: &Server, body: Value) -> String {
    let (status, minted) = server.send(Method::POST, "/api/tokens", &body).await;
    assert_eq!(status, 201, "{minted}");
    minted["token"].as_str().unwrap().to_owned()
}

async fn created_id(server: &Server, path: &str, body: Value) -> i64 {
    let (status, created) = server.send(Method::POST, path, &body).await;
    assert!(status == 201 || status == 200, "{path}: {status} {created}");
    created["id"].as_i64().unwrap()
}

async fn fixtures(server: &Server, reporter: &str) -> Fixtures {
    let Places { a, b, street_a } = places(server).await;
    let mut f = BTreeMap::new();
    let (_, street) = server.get(&format!("/api/regions/{street_a}")).await;
    f.insert("street_in", street_a.to_string());
    f.insert(
        "street_code_in",
        street["properties"]["code"].as_str().unwrap().to_owned(),
    );
    for (side, p) in [("in", &a), ("out", &b)] {
        let key = |k: &str| -> &'static str { Box::leak(format!("{k}_{side}").into_boxed_str()) };
        f.insert(key("grid"), p.grid.to_string());
        f.insert(key("community"), p.community.to_string());
        f.insert(key("worker"), p.primary.to_string());
        f.insert(key("lat"), p.lat.to_string());
        f.insert(key("lon"), p.lon.to_string());
        f.insert(key("square"), square(p.lat, p.lon).to_string());
        let d = 0.00005;
        f.insert(
            key("small_square"),
            json!({"type": "Polygon", "coordinates": [[[p.lon - d, p.lat - d], [p.lon + d, p.lat - d],
                [p.lon + d, p.lat + d], [p.lon - d, p.lat + d], [p.lon - d, p.lat - d]]]})
            .to_string(),
        );
        let (_, buildings) = server.get(&format!("/api/buildings?grid={}", p.grid)).await;
        f.insert(
            key("building"),
            buildings["features"][0]["id"].as_i64().unwrap().to_string(),
        );
        let spare = worker_on(server, &format!("备用 spare {side}"), &[p.grid]).await;
        f.insert(key("spare"), spare.to_string());
        let camera = json!({"name": format!("cam {side}"), "lat": p.lat, "lon": p.lon, "heading_deg": 0.0,
            "fov_deg": 90.0, "range_m": 50.0, "kind": "fixed"});
        f.insert(
            key("camera"),
            created_id(server, "/api/cameras", camera.clone())
                .await
                .to_string(),
        );
        f.insert(
            key("camera_doomed"),
            created_id(server, "/api/cameras", camera).await.to_string(),
        );
        let patrol = created_id(server, "/api/patrols", json!({"worker": spare})).await;
        f.insert(key("patrol"), patrol.to_string());
        let plan = created_id(
            server,
            &format!("/api/communities/{}/plans", p.community),
            json!({"auto": true}),
        )
        .await;
        f.insert(key("plan"), plan.to_string());
        let (_, versions) = server
            .get(&format!("/api/communities/{}/versions", p.community))
            .await;
        // The demo's communities have no applied version yet: a rollback names version 1, and the
        // community's scope is checked before the version is looked up.
        let version = versions["versions"][0]["id"].as_i64().unwrap_or(1);
        f.insert(key("version"), version.to_string());
        let scoped = mint(
            server,
            json!({"role": "reporter", "scopes": [format!("grid:{}", p.grid)]}),
        )
        .await;
        f.insert(key("token"), id_of(server, &scoped).await.to_string());
        let bbox = format!(
            "{},{},{},{}",
            p.lon - 0.005,
            p.lat - 0.005,
            p.lon + 0.005,
            p.lat + 0.005
        );
        f.insert(key("bbox"), bbox);
        let t = tile_at(p.lon, p.lat, 15);
        f.insert(key("tile"), format!("{}/{}/{}", t.0, t.1, t.2));
    }
    let (_, categories) = server.get("/api/categories").await;
    let category = categories[0].clone();
    f.insert("category", category["code"].as_str().unwrap().to_owned());
    let mut fields = category.clone();
    fields.as_object_mut().unwrap().remove("code");
    f.insert("category_json", fields.to_string());
    // The reporter's own case in grid A; the admin's case in grid B.
    let case_in = report(server, reporter, a.lat, a.lon, "city_appearance").await["id"]
        .as_i64()
        .unwrap();
    let case_out = report(server, server.token(), b.lat, b.lon, "city_appearance").await["id"]
        .as_i64()
        .unwrap();
    f.insert("case_in", case_in.to_string());
    f.insert("case_out", case_out.to_string());
    // An alarm in each grid: an urgent case raises one (`crate::alarms`).
    for (key, p) in [("alarm_in", &a), ("alarm_out", &b)] {
        f.insert(
            key,
            crate::alarms::urgent_alarm(server, server.token(), p.lat, p.lon).await,
        );
    }
    // People's accounts: one in each grid for the admin rows, and the person the session rows use.
    for (key, p) in [("user_in", &a), ("user_out", &b)] {
        let id = person(
            server,
            &format!("authz.{key}"),
            "commander",
            &[format!("grid:{}", p.grid)],
            PERSON_PASSWORD,
        )
        .await;
        f.insert(key, id.to_string());
    }
    person(
        server,
        PERSON,
        "commander",
        &[format!("region:{}", a.community)],
        PERSON_PASSWORD,
    )
    .await;
    f.insert("person", PERSON.to_owned());
    f.insert("person_password", PERSON_PASSWORD.to_owned());
    let other = signed_in(server, PERSON, PERSON_PASSWORD).await;
    f.insert("person_session", other.id.to_string());
    for (key, case) in [("photo_in", case_in), ("photo_out", case_out)] {
        let (status, photo) = upload(
            server,
            server.token(),
            case,
            &jpeg(64 + usize::try_from(case).unwrap()),
        )
        .await;
        assert_eq!(status, 201, "{photo}");
        f.insert(key, photo["sha256"].as_str().unwrap().to_owned());
    }
    Fixtures(f)
}

/// The order rows run in: reads and ordinary writes, then deletions, then the boundary changes that
/// redraw community A.
fn stage(row: &Row) -> u8 {
    if row.op.contains("/apply") || row.op.contains("/rollback") {
        2
    } else {
        u8::from(row.op.starts_with("DELETE"))
    }
}

async fn send(
    server: &Server,
    fixtures: &Fixtures,
    n: usize,
    method: &Method,
    req: Req,
    cred: Cred<'_>,
) -> (u16, String) {
    let path = fixtures.fill(req.path, n);
    let mut request = match cred {
        Cred::Nothing => server.http.request(method.clone(), server.url(&path)),
        Cred::Bearer(secret) => server
            .http
            .request(method.clone(), server.url(&path))
            .bearer_auth(secret),
        Cred::Cookie(session) => session.request(server, method.clone(), &path),
    };
    request = match req.body {
        Body::None => request,
        Body::Json(text) => request
            .header("content-type", "application/json")
            .body(fixtures.fill(text, n)),
        Body::Form(text) => request
            .header("content-type", "application/x-www-form-urlencoded")
            .body(fixtures.fill(text, n)),
        Body::Photo => {
            let boundary = "authzboundary";
            let mut body = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"x.jpg\"\r\n\
                 Content-Type: image/jpeg\r\n\r\n"
            )
            .into_bytes();
            body.extend(jpeg(100 + n));
            body.extend(format!("\r\n--{boundary}--\r\n").bytes());
            request
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body)
        }
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, text.chars().take(300).collect())
}

fn meets(status: u16, expect: Expect) -> bool {
    match expect {
        Expect::Allowed => status != 401 && status != 403 && status < 500,
        Expect::Forbidden => status == 403,
        Expect::Unauthenticated => status == 401,
    }
}

async fn matrix(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let admin = server.token().to_owned();
    let Places { a, .. } = places(&server).await;
    let community = format!("region:{}", a.community);

    // One principal a role, scoped to community A; worker and device act for grid A's primary.
    let reporter = token(&server, "reporter", None).await;
    let principals: Vec<(&str, String)> = vec![
        (
            "admin",
            mint(&server, json!({"role": "admin", "scopes": [community]})).await,
        ),
        (
            "planner",
            mint(&server, json!({"role": "planner", "scopes": [community]})).await,
        ),
        (
            "commander",
            mint(&server, json!({"role": "commander", "scopes": [community]})).await,
        ),
        ("worker", token(&server, "worker", Some(a.primary)).await),
        ("reporter", reporter.clone()),
        ("device", token(&server, "device", Some(a.primary)).await),
        // Minted only on the command line (a log collector's), unscoped: the trail has no scope.
        (
            "auditor",
            cli_token(&store, &["--role", "auditor", "--label", "siem"]),
        ),
    ];
    let fixtures = fixtures(&server, &reporter).await;

    // Dead credentials: garbage, revoked, expired.
    let revoked = token(&server, "commander", None).await;
    let revoked_id = id_of(&server, &revoked).await;
    let (status, _) = server
        .send(
            Method::DELETE,
            &format!("/api/tokens/{revoked_id}"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 204);
    let expired = cli_token(&store, &["--role", "commander", "--label", "expired"]);
    let (_, tokens) = server.get("/api/tokens").await;
    let expired_id = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["label"] == "expired")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    set_expiry(
        &store,
        expired_id,
        Utc::now() - chrono::Duration::minutes(1),
    )
    .await;
    let garbage = format!("gw_{}", "0".repeat(64));
    let dead: [(&str, Option<&str>); 4] = [
        ("no credential", None),
        ("a garbage token", Some(&garbage)),
        ("a revoked token", Some(&revoked)),
        ("an expired token", Some(&expired)),
    ];

    // Every operation of the document has a row; every row an operation.
    let (_, doc) = server.get("/api/openapi.json").await;
    let mut documented: BTreeMap<String, bool> = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
                documented.insert(format!("{} {path}", method.to_uppercase()), secured);
            }
        }
    }
    let rows: BTreeSet<String> = ROWS
        .iter()
        .map(|r| r.op.split('#').next().unwrap().to_owned())
        .collect();
    let mut failures: Vec<String> = Vec::new();
    for (op, secured) in &documented {
        if !rows.contains(op) {
            failures.push(format!(
                "{op}: in the OpenAPI document but not in authz/table.rs"
            ));
        }
        let row = ROWS
            .iter()
            .find(|r| r.op.split('#').next() == Some(op.as_str()));
        if let Some(row) = row {
            let wants = matches!(row.access, Access::Roles(..) | Access::Session);
            if wants != *secured {
                failures.push(format!(
                    "{op}: the document says secured={secured}, the table {:?}",
                    row.access
                ));
            }
        }
    }
    for op in &rows {
        if !documented.contains_key(op) {
            failures.push(format!(
                "{op}: in authz/table.rs but not in the OpenAPI document"
            ));
        }
    }

    let mut ordered: Vec<&Row> = ROWS.iter().collect();
    ordered.sort_by_key(|r| stage(r));
    let mut n = 0;
    for row in ordered {
        let (method, _) = row.op.split_once(' ').unwrap();
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let mut check = |who: &str, which: &str, (status, body): (u16, String), expect: Expect| {
            if !meets(status, expect) {
                failures.push(format!(
                    "{} as {who} ({which}): expected {expect:?}, got {status} {body}",
                    row.op
                ));
            }
        };
        // Every secured operation: no credential, a garbage, a revoked and an expired one are each a 401.
        if matches!(row.access, Access::Roles(..) | Access::Session) {
            for (what, secret) in dead {
                n += 1;
                let cred = secret.map_or(Cred::Nothing, Cred::Bearer);
                let got = send(&server, &fixtures, n, &method, row.inside, cred).await;
                check(what, "inside", got, Expect::Unauthenticated);
            }
        }
        match row.access {
            Access::Public => {
                n += 1;
                let got = send(&server, &fixtures, n, &method, row.inside, Cred::Nothing).await;
                check("nobody", "inside", got, Expect::Allowed);
            }
            Access::ApiKey(roles) => {
                for (role, secret) in &principals {
                    n += 1;
                    let mut req = row.inside;
                    if let Body::Form(fields) = req.body {
                        let fields = format!("{fields}&api_key={secret}");
                        req.body = Body::Form(Box::leak(fields.into_boxed_str()));
                    }
                    let expect = if roles.contains(role) {
                        Expect::Allowed
                    } else {
                        Expect::Forbidden
                    };
                    let got = send(&server, &fixtures, n, &method, req, Cred::Nothing).await;
                    check(role, "api_key", got, expect);
                }
            }
            Access::Roles(roles, reach) => {
                // Refusals first, so an allowed request's change (a deletion) cannot mask one.
                let mut attempts: Vec<(&str, &str, Req, Expect, &str)> = Vec::new();
                for (role, secret) in &principals {
                    let permitted = roles.contains(role);
                    let inside = if permitted && reach != Reach::Unscoped {
                        Expect::Allowed
                    } else {
                        Expect::Forbidden
                    };
                    attempts.push((role, "inside", row.inside, inside, secret));
                    if let Some(outside) = row.outside {
                        let expect = if permitted && reach == Reach::Any {
                            Expect::Allowed
                        } else {
                            Expect::Forbidden
                        };
                        attempts.push((role, "outside", outside, expect, secret));
                    }
                }
                // The unscoped admin may do all a role may, but read the audit trail.
                let admin_may = if roles.contains(&"admin") {
                    Expect::Allowed
                } else {
                    Expect::Forbidden
                };
                attempts.push((
                    "the unscoped admin",
                    "inside",
                    row.inside,
                    admin_may,
                    &admin,
                ));
                if roles.contains(&"admin")
                    && let Some(outside) = row.outside
                {
                    attempts.push((
                        "the unscoped admin",
                        "outside",
                        outside,
                        Expect::Allowed,
                        &admin,
                    ));
                }
                attempts.sort_by_key(|a| a.3 == Expect::Allowed);
                for (who, which, req, expect, secret) in attempts {
                    n += 1;
                    let got = send(&server, &fixtures, n, &method, req, Cred::Bearer(secret)).await;
                    check(who, which, got, expect);
                }
            }
            Access::Session => {
                for (role, secret) in principals
                    .iter()
                    .chain([&("the unscoped admin", admin.clone())])
                {
                    n += 1;
                    let got = send(
                        &server,
                        &fixtures,
                        n,
                        &method,
                        row.inside,
                        Cred::Bearer(secret),
                    )
                    .await;
                    check(role, "a token", got, Expect::Forbidden);
                }
                // A fresh session each row: signing out ends the one it used.
                let session = signed_in(&server, PERSON, PERSON_PASSWORD).await;
                n += 1;
                let got = send(
                    &server,
                    &fixtures,
                    n,
                    &method,
                    row.inside,
                    Cred::Cookie(&session),
                )
                .await;
                check("a signed-in commander", "its session", got, Expect::Allowed);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} authorization mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    store.finish().await;
}

/// A token minted with `gridwatch token create ARGS`.
pub(crate) fn cli_token(store: &TestStore, args: &[&str]) -> String {
    let out = store.cli(&[&["token", "create"], args].concat());
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}
