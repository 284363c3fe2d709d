//! The audit trail end to end (issue 18, 安全审计), on both stores: every write has its row — who (token,
//! label, role), from where (address, user agent), what (action, target) and the outcome — and so do
//! refusals (401, 403) and failed writes; the auditor reads it as JSON or CSV and nobody else may; the
//! database refuses to change or remove a row; and `gridwatch audit verify` finds a row changed by hand
//! once the refusal is switched off, naming that row. A person's sign-in, lockout, sign-out, password
//! change and ended session each have their row the moment the answer comes, written with the change.

use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::Method;
use serde_json::{Value, json};

use crate::accounts::{login, person, signed_in};
use crate::authz::cli_token;
use crate::cases::{act, grid_place, token};
use crate::harness::{Flavor, Server, TestStore, assert_problem};

#[tokio::test]
async fn audit_trail_on_sqlite() {
    trail(Flavor::Sqlite).await;
}

#[tokio::test]
async fn audit_trail_on_postgis() {
    trail(Flavor::Postgres).await;
}

#[tokio::test]
async fn a_persons_sessions_on_sqlite() {
    sessions(Flavor::Sqlite).await;
}

#[tokio::test]
async fn a_persons_sessions_on_postgis() {
    sessions(Flavor::Postgres).await;
}

const AGENT: &str = "audit-test/1.0 (e2e)";

/// Sign-ins, an ended session, a password change, a sign-out and a lockout: each row is in the trail as
/// soon as the answer is (written in the change's transaction, not beside it), under the person's name.
async fn sessions(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let auditor = cli_token(&store, &["--role", "auditor", "--label", "siem"]);
    let (password, new_password) = ("Gr1d-watch!", "Str33t-office?");
    let id = person(&server, "li.ming", "commander", &[], password).await;
    let first = signed_in(&server, "li.ming", password).await;
    let second = signed_in(&server, "li.ming", password).await;

    let ended = second
        .request(
            &server,
            Method::DELETE,
            &format!("/api/sessions/{}", first.id),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 204);
    let (status, body) = second
        .send(
            &server,
            Method::PUT,
            "/api/me/password",
            &json!({"current_password": password, "new_password": new_password}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let out = second
        .request(&server, Method::DELETE, "/api/session")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    // The fifth wrong password locks the account.
    for failure in 1..=5 {
        let expected = if failure < 5 { 401 } else { 423 };
        assert_eq!(
            login(&server, "li.ming", "wrong-Pa55", None).await.0,
            expected
        );
    }

    let user = format!("user:{id}");
    let (status, body) = server.get_as(&auditor, "/api/audit?limit=10000").await;
    assert_eq!(status, 200, "{body}");
    let rows = body["rows"].as_array().unwrap();
    let row = |action: &str, target: &str| -> &Value {
        rows.iter()
            .find(|r| r["action"] == action && r["target"] == target)
            .unwrap_or_else(|| panic!("no {action} row for {target} right after its answer"))
    };
    let signed = |session: i64| {
        rows.iter()
            .find(|r| r["action"] == "session.login" && r["detail"] == format!("session {session}"))
            .unwrap_or_else(|| panic!("no session.login row for session {session}"))
    };
    let person = json!({"kind": "user", "id": id, "name": "li.ming", "role": "commander"});
    for (what, got) in [
        ("the first sign-in", signed(first.id)),
        ("the second sign-in", signed(second.id)),
        (
            "the ended session",
            row("session.ended", &format!("session:{}", first.id)),
        ),
        ("the password change", row("user.password_changed", &user)),
        (
            "the sign-out",
            row("session.logout", &format!("session:{}", second.id)),
        ),
        ("the lockout", row("session.locked", &user)),
    ] {
        assert_eq!(got["actor"], person, "{what}: {got}");
        assert_eq!(got["address"], "127.0.0.1", "{what}: {got}");
        if what != "the lockout" {
            assert_eq!(got["outcome"], "ok", "{what}: {got}");
        }
    }
    assert_eq!(row("session.locked", &user)["outcome"], "denied");
    // The password change is a user.updated in the same transaction, the one after it in the chain.
    let changed = row("user.password_changed", &user);
    let updated = rows.iter().find(|r| {
        r["action"] == "user.updated" && r["seq"] == changed["seq"].as_i64().unwrap() - 1
    });
    assert!(updated.is_some(), "no user.updated just before {changed}");
    let out = store.cli(&["audit", "verify"]);
    assert!(out.status.success(), "{out:?}");
    store.finish().await;
}

#[allow(clippy::too_many_lines)] // one story, read top to bottom
async fn trail(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let admin = server.token().to_owned();
    let (_, me) = server.get("/api/me").await;
    let admin_id = me["token_id"].as_i64().unwrap();
    let auditor = cli_token(&store, &["--role", "auditor", "--label", "siem"]);
    let place = grid_place(&server, 0, 0).await;

    // Writes: a case (with a user agent), a workflow action on it, a worker's position.
    let body = json!({"lat": place.lat, "lon": place.lon, "category": "city_appearance",
        "priority": "normal", "description": "垃圾堆放 rubbish", "source": "hotline"});
    let created = server
        .http
        .post(server.url("/api/incidents"))
        .bearer_auth(&admin)
        .header("user-agent", AGENT)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let case: Value = created.json().await.unwrap();
    let id = case["properties"]["id"].as_i64().unwrap();
    let (status, acted) = act(&server, &admin, id, &json!({"action": "accept"})).await;
    assert_eq!(status, 200, "{acted}");
    let fix = json!({"positions": [{"worker_id": place.primary, "lat": place.lat, "lon": place.lon,
        "at": Utc::now().to_rfc3339()}]});
    let (status, body) = server.send(Method::POST, "/api/positions", &fix).await;
    assert_eq!(status, 200, "{body}");

    // Refusals and failures: a reporter reading workers (403), a garbage token (401), the admin reading
    // the trail (403: three-role separation), a malformed case (400), an auditor token asked of the API.
    let reporter = token(&server, "reporter", None).await;
    assert_eq!(server.get_as(&reporter, "/api/workers").await.0, 403);
    let garbage = format!("gw_{}", "0".repeat(64));
    assert_eq!(server.get_as(&garbage, "/api/grids").await.0, 401);
    assert_problem(&server.get("/api/audit").await, 403, "forbidden");
    let (status, _, _) = server
        .send_raw(Method::POST, "/api/incidents", b"{\"lat\": ".to_vec())
        .await;
    assert_eq!(status, 400);
    let minted = server
        .send(Method::POST, "/api/tokens", &json!({"role": "auditor"}))
        .await;
    assert_eq!(minted.0, 422, "{}", minted.1);
    assert!(
        minted.1["detail"]
            .as_str()
            .unwrap()
            .contains("gridwatch token create"),
        "{}",
        minted.1
    );

    // A refused sign-in (a name no account has).
    let refused = server
        .http
        .post(server.url("/api/session"))
        .json(&json!({"name": "mallory", "password": "guess-1234"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    // The auditor reads them all. Refusals are recorded beside their answers: wait for them a little.
    let wanted: [(&str, &str); 8] = [
        ("incident.created", &format!("incident:{id}")),
        ("incident.updated", &format!("incident:{id}")),
        ("positions.recorded", &format!("worker:{}", place.primary)),
        ("http.denied", "GET /api/workers"),
        ("http.denied", "GET /api/grids"),
        ("http.denied", "GET /api/audit"),
        ("http.failed", "POST /api/incidents"),
        ("http.failed", "POST /api/tokens"),
    ];
    let rows = rows_with(&server, &auditor, &wanted).await;
    let row = |action: &str, target: &str| -> &Value {
        rows.iter()
            .find(|r| r["action"] == action && r["target"] == target)
            .unwrap()
    };

    let created = row("incident.created", &format!("incident:{id}"));
    assert_eq!(
        created["actor"],
        json!({"kind": "token", "id": admin_id, "name": "demo admin", "role": "admin"})
    );
    assert_eq!(created["address"], "127.0.0.1");
    assert_eq!(created["user_agent"], AGENT);
    assert_eq!(created["outcome"], "ok");
    let fix_row = row("positions.recorded", &format!("worker:{}", place.primary));
    assert_eq!(fix_row["actor"]["name"], "demo admin");
    assert_eq!(fix_row["detail"], "1 fixes");

    let denied = row("http.denied", "GET /api/workers");
    assert_eq!(denied["actor"]["name"], "reporter");
    assert_eq!(denied["actor"]["role"], "reporter");
    assert_eq!(
        (&denied["outcome"], &denied["detail"]),
        (&json!("denied"), &json!("403"))
    );
    let anonymous = row("http.denied", "GET /api/grids");
    assert_eq!(anonymous["actor"]["kind"], "anonymous");
    assert_eq!(anonymous["detail"], "401");
    assert_eq!(
        row("http.denied", "GET /api/audit")["actor"]["name"],
        "demo admin"
    );
    let refused = first_row(&server, &auditor, "session.login_refused").await;
    assert_eq!(refused["actor"]["name"], "mallory");
    assert_eq!(refused["outcome"], "denied");
    let failed = row("http.failed", "POST /api/incidents");
    assert_eq!(
        (&failed["outcome"], &failed["detail"]),
        (&json!("failed"), &json!("400"))
    );
    assert_eq!(row("http.failed", "POST /api/tokens")["detail"], "422");
    // Reading the trail is recorded too: the unfiltered reads above are in it (recorded beside their
    // answers, so not necessarily before the reads of this loop, which name their filter).
    let started = Instant::now();
    let read = loop {
        let (_, body) = server
            .get_as(&auditor, "/api/audit?action=audit.read")
            .await;
        let unfiltered = body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| !r["detail"].as_str().unwrap_or_default().contains('='));
        if let Some(read) = unfiltered {
            break read.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no audit.read row"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(read["actor"]["name"], "siem");
    assert_eq!(read["actor"]["role"], "auditor");
    assert!(
        read["detail"].as_str().unwrap().ends_with(" rows"),
        "{read}"
    );
    // A secret is never in the trail.
    let text = serde_json::to_string(&rows).unwrap();
    for secret in [&admin, &reporter, &garbage, &auditor] {
        assert!(!text.contains(secret.as_str()), "a secret in the trail");
    }

    // Filters, and CSV for a spreadsheet.
    let path = "/api/audit?actor=demo%20admin&action=incident.created";
    let (status, filtered) = server.get_as(&auditor, path).await;
    assert_eq!(status, 200, "{filtered}");
    let filtered = filtered["rows"].as_array().unwrap();
    assert!(!filtered.is_empty());
    assert!(
        filtered
            .iter()
            .all(|r| r["action"] == "incident.created" && r["actor"]["name"] == "demo admin")
    );
    let csv = server
        .http
        .get(server.url(&format!("{path}&format=csv")))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("seq,at,actor_kind,actor_id,actor_name"),
        "{csv}"
    );
    assert_eq!(lines.len(), filtered.len() + 1, "{csv}");
    assert!(lines[1].contains(&format!(",incident:{id},")), "{csv}");

    // Bad input: 4xx problems.
    for (query, status) in [
        ("from=2026-12-06T10:00:00Z&to=2026-12-05T10:00:00Z", 422),
        ("limit=0", 422),
        ("limit=10001", 422),
        ("format=xml", 422),
        ("from=yesterday", 400),
        ("limit=many", 400),
        ("who=me", 400),
    ] {
        let (got, body) = server
            .get_as(&auditor, &format!("/api/audit?{query}"))
            .await;
        assert_eq!(got, status, "{query}: {body}");
        assert!(body["type"].is_string(), "{query}: not a problem: {body}");
    }

    // Every event the server committed has its row, written with it.
    let unaudited = store
        .count(
            "SELECT COUNT(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM audit a \
         WHERE a.action = e.kind AND a.detail = 'seq ' || CAST(e.seq AS TEXT))",
        )
        .await;
    assert_eq!(unaudited, 0, "events without their audit row");

    // The chain verifies; the database refuses to change or remove a row.
    let out = store.cli(&["audit", "verify"]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("rows verified"),
        "{out:?}"
    );
    let seq = created["seq"].as_i64().unwrap();
    let change = format!("UPDATE audit SET address = '10.6.6.6' WHERE seq = {seq}");
    assert!(
        store.execute(&change).await.is_err(),
        "an update was let through"
    );
    let remove = format!("DELETE FROM audit WHERE seq = {seq}");
    assert!(
        store.execute(&remove).await.is_err(),
        "a delete was let through"
    );

    // Someone with the database's keys switches the refusal off and changes the row: verify names it.
    let off = match flavor {
        Flavor::Sqlite => "DROP TRIGGER audit_no_update",
        Flavor::Postgres => "ALTER TABLE audit DISABLE TRIGGER audit_guarded",
    };
    store.execute(off).await.expect("switching the trigger off");
    store.execute(&change).await.expect("the hand edit");
    let out = store.cli(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(&format!("the audit chain breaks at row {seq}:")),
        "{said}"
    );
    // And retention refuses to remove anything while the chain is broken.
    let out = store.cli(&["audit", "prune", "--keep-days", "180"]);
    assert!(!out.status.success(), "{out:?}");
    let out = store.cli(&["audit", "prune", "--keep-days", "30"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("at least 180 days"),
        "{out:?}"
    );
    store.finish().await;
}

/// The auditor's rows once every `(action, target)` of `wanted` is among them (within five seconds).
async fn rows_with(server: &Server, auditor: &str, wanted: &[(&str, &str)]) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let (status, body) = server.get_as(auditor, "/api/audit?limit=10000").await;
        assert_eq!(status, 200, "{body}");
        let rows = body["rows"].as_array().unwrap().clone();
        let missing: Vec<_> = wanted
            .iter()
            .filter(|(action, target)| {
                !rows
                    .iter()
                    .any(|r| r["action"] == *action && r["target"] == *target)
            })
            .collect();
        if missing.is_empty() {
            return rows;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "not in the trail: {missing:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The first row of `action` (within five seconds: such rows are written beside their answers).
async fn first_row(server: &Server, auditor: &str, action: &str) -> Value {
    let started = Instant::now();
    loop {
        let (_, body) = server
            .get_as(auditor, &format!("/api/audit?action={action}"))
            .await;
        if let Some(row) = body["rows"].as_array().unwrap().first() {
            return row.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no {action} row"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
