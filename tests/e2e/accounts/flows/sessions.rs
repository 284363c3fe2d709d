//! Signing in and out, CSRF, one's sessions, least privilege over accounts, the timeouts, and a
//! disabled or changed account refused everywhere within a second (API and `gridwatch user`).

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use super::super::{Session, create_user, login, person, set_cookie, signed_in};
use super::{PASSWORD, WITHIN, demo, split, write_with_csrf};
use crate::cases::grid_place;
use crate::harness::{Flavor, assert_problem};
use crate::live::Ws;

pub(super) async fn sign_in_csrf_and_sessions(flavor: Flavor) {
    let Some((store, server)) = demo(flavor, &["--address-lockout-failures", "100"]).await else {
        return;
    };
    let place = grid_place(&server, 0, 0).await;
    let community = place.community;
    let created = create_user(
        &server,
        &json!({"name": "Li.Lei", "display_name": "李雷", "role": "commander",
            "scopes": [format!("region:{community}")]}),
    )
    .await;
    assert_eq!(created["user"]["name"], "li.lei", "stored lower case");
    assert_eq!(created["user"]["must_change_password"], true);
    assert!(created["user"].get("password_hash").is_none());
    let one_time = created["one_time_password"].as_str().unwrap().to_owned();

    // Signing in sets an HttpOnly, SameSite=Strict session cookie (no Secure over plain HTTP) and a
    // readable CSRF cookie; the body never carries the session's secret.
    let response = server
        .http
        .post(server.url("/api/session"))
        .json(&json!({"name": "li.lei", "password": one_time}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = set_cookie(&response, "gw_session").unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "{cookie}");
    let csrf_cookie = set_cookie(&response, "gw_csrf").unwrap().to_owned();
    assert!(!csrf_cookie.contains("HttpOnly"), "{csrf_cookie}");
    let secret = cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let (_, body) = split(response).await;
    assert!(
        !body.to_string().contains(&secret),
        "the session id is in the cookie only"
    );
    assert_eq!(body["must_change_password"], true);
    let first = Session {
        secret,
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        id: body["session_id"].as_i64().unwrap(),
    };

    // Until the password changes, the session may only change it (or see who it is, or sign out).
    assert_problem(
        &first.get(&server, "/api/grids").await,
        403,
        "password-change-required",
    );
    let (status, me) = first.get(&server, "/api/me").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["user_id"], created["user"]["id"]);
    assert_eq!(me["token_id"], Value::Null);
    assert_problem(
        &first
            .send(
                &server,
                Method::PUT,
                "/api/me/password",
                &json!({"current_password": one_time, "new_password": "short"}),
            )
            .await,
        422,
        "weak-password",
    );
    assert_problem(
        &first
            .send(
                &server,
                Method::PUT,
                "/api/me/password",
                &json!({"current_password": "Not-The-One-1", "new_password": PASSWORD}),
            )
            .await,
        403,
        "wrong-password",
    );
    // Without the CSRF header, even the password change is refused, and nothing changes.
    let no_csrf = server
        .http
        .put(server.url("/api/me/password"))
        .header("cookie", first.cookie())
        .json(&json!({"current_password": one_time, "new_password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_problem(&split(no_csrf).await, 403, "csrf");
    let (status, _) = first
        .send(
            &server,
            Method::PUT,
            "/api/me/password",
            &json!({"current_password": one_time, "new_password": PASSWORD}),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = first.get(&server, "/api/grids").await;
    assert_eq!(status, 200);

    // CSRF: a cookie-authenticated write without the token, or with another session's, is refused and
    // stores nothing; with it, it goes through. A bearer request needs none.
    let second = signed_in(&server, "li.lei", PASSWORD).await;
    let (lat, lon) = (place.lat, place.lon);
    let case =
        json!({"lat": lat, "lon": lon, "category": "city_appearance", "description": "csrf"});
    let (_, before) = server.get("/api/incidents").await;
    assert_problem(
        &write_with_csrf(&server, &first, "/api/incidents", &case, None).await,
        403,
        "csrf",
    );
    assert_problem(
        &write_with_csrf(&server, &first, "/api/incidents", &case, Some(&second.csrf)).await,
        403,
        "csrf",
    );
    let (_, after) = server.get("/api/incidents").await;
    assert_eq!(
        before["features"].as_array().map(Vec::len),
        after["features"].as_array().map(Vec::len)
    );
    let (status, made) =
        write_with_csrf(&server, &first, "/api/incidents", &case, Some(&first.csrf)).await;
    assert_eq!(status, 201, "{made}");

    // One's sessions: both listed; ending the other one refuses it at once.
    let (status, sessions) = first.get(&server, "/api/sessions").await;
    assert_eq!(status, 200, "{sessions}");
    let ids: Vec<i64> = sessions
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert!(
        ids.contains(&first.id) && ids.contains(&second.id),
        "{sessions}"
    );
    let current: Vec<&Value> = sessions
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["current"] == true)
        .collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["id"], first.id);
    let (status, _) = first
        .send(
            &server,
            Method::DELETE,
            &format!("/api/sessions/{}", second.id),
            &json!({}),
        )
        .await;
    assert_eq!(status, 204);
    assert_problem(
        &second.get(&server, "/api/grids").await,
        401,
        "unauthorized",
    );
    // Another person's session is not one's own to end.
    let other = person(&server, "han.meimei", "planner", &[], PASSWORD).await;
    assert!(other > 0);
    let hers = signed_in(&server, "han.meimei", PASSWORD).await;
    assert_problem(
        &first
            .send(
                &server,
                Method::DELETE,
                &format!("/api/sessions/{}", hers.id),
                &json!({}),
            )
            .await,
        404,
        "not-found",
    );
    let (status, _) = hers.get(&server, "/api/grids").await;
    assert_eq!(status, 200);

    // An Authorization header is judged alone: a garbage bearer with a good cookie is a 401.
    let mixed = server
        .http
        .get(server.url("/api/grids"))
        .header("cookie", first.cookie())
        .bearer_auth(format!("gw_{}", "0".repeat(64)))
        .send()
        .await
        .unwrap();
    assert_eq!(mixed.status(), 401);

    // Signing out ends the session everywhere; the cookies are cleared.
    let out = first
        .request(&server, Method::DELETE, "/api/session")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert!(
        set_cookie(&out, "gw_session")
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_problem(&first.get(&server, "/api/grids").await, 401, "unauthorized");

    // A wrong password and an unknown name answer alike.
    let (status, wrong, _) = login(&server, "li.lei", "Wrong-Pass-99", None).await;
    assert_eq!(
        (status, wrong["type"].as_str()),
        (401, Some("/problems/invalid-credentials"))
    );
    let (status, unknown, _) = login(&server, "nobody.here", "Wrong-Pass-99", None).await;
    assert_eq!(
        (status, unknown["type"].as_str()),
        (401, Some("/problems/invalid-credentials"))
    );
    assert_eq!(wrong["detail"], unknown["detail"]);

    // Least privilege: a scoped admin creates accounts only within its own reach.
    let (status, minted) = server
        .send(
            Method::POST,
            "/api/tokens",
            &json!({"role": "admin", "scopes": [format!("region:{community}")]}),
        )
        .await;
    assert_eq!(status, 201, "{minted}");
    let scoped = minted["token"].as_str().unwrap().to_owned();
    let other_community = grid_place(&server, 97, 0).await.community;
    assert_ne!(
        other_community, community,
        "the demo's last grid is in another community"
    );
    for (body, expected) in [
        (json!({"name": "wide.admin", "role": "admin"}), 403),
        (
            json!({"name": "far.commander", "role": "commander",
            "scopes": [format!("region:{other_community}")]}),
            403,
        ),
        (
            json!({"name": "near.commander", "role": "commander",
            "scopes": [format!("region:{community}")]}),
            201,
        ),
    ] {
        let (status, answer) = server
            .send_as(&scoped, Method::POST, "/api/users", &body)
            .await;
        assert_eq!(status, expected, "{body}: {answer}");
    }
    // A person without the permission cannot manage accounts, even by cookie with the CSRF token.
    let planner = signed_in(&server, "han.meimei", PASSWORD).await;
    assert_problem(
        &planner
            .send(
                &server,
                Method::POST,
                "/api/users",
                &json!({"name": "sneaky", "role": "planner"}),
            )
            .await,
        403,
        "forbidden",
    );
    store.finish().await;
}

pub(super) async fn timeouts(flavor: Flavor) {
    let Some((store, server)) = demo(
        flavor,
        &["--session-idle-s", "2", "--session-absolute-s", "5"],
    )
    .await
    else {
        return;
    };
    person(&server, "zhao.liu", "commander", &[], PASSWORD).await;

    // Idle: unused for two seconds, the session has ended.
    let idle = signed_in(&server, "zhao.liu", PASSWORD).await;
    let (status, _) = idle.get(&server, "/api/grids").await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert_problem(&idle.get(&server, "/api/grids").await, 401, "unauthorized");

    // Absolute: used every second, the session still ends five seconds after sign-in.
    let busy = signed_in(&server, "zhao.liu", PASSWORD).await;
    let started = Instant::now();
    let mut last_ok = Duration::ZERO;
    while started.elapsed() < Duration::from_secs(8) {
        let (status, _) = busy.get(&server, "/api/me").await;
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        last_ok = started.elapsed();
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    assert!(
        last_ok >= Duration::from_secs(3) && started.elapsed() < Duration::from_secs(7),
        "alive until {last_ok:?}, refused at {:?}",
        started.elapsed()
    );
    assert_problem(&busy.get(&server, "/api/me").await, 401, "unauthorized");
    store.finish().await;
}

pub(super) async fn disabled(flavor: Flavor) {
    let Some((store, server)) = demo(flavor, &[]).await else {
        return;
    };
    let id = person(&server, "chen.qi", "commander", &[], PASSWORD).await;
    let session = signed_in(&server, "chen.qi", PASSWORD).await;
    let mut ws = Ws::connect_session(&server, &session.cookie()).await;
    ws.subscribe(&json!({})).await;
    let (status, _) = session.get(&server, "/tiles/grids.json").await;
    assert_eq!(status, 200, "tiles take the session cookie");

    // Disabled through the API: refused at once on REST and tiles, the socket closed within a second.
    let asked = Instant::now();
    let (status, body) = server
        .send(
            Method::PATCH,
            &format!("/api/users/{id}"),
            &json!({"status": "disabled"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let closed = ws.closed_within(WITHIN).await;
    assert_eq!(
        closed.as_ref().map(|c| c.0),
        Some(1008),
        "after {:?}: {closed:?}",
        asked.elapsed()
    );
    assert_problem(
        &session.get(&server, "/api/grids").await,
        401,
        "unauthorized",
    );
    let (status, _) = session.get(&server, "/tiles/grids.json").await;
    assert_eq!(status, 401);
    let (status, body, _) = login(&server, "chen.qi", PASSWORD, None).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (403, Some("/problems/account-disabled"))
    );

    // A changed scope re-reads the account: the open socket closes, REST answers with the new reach.
    let id = person(&server, "zhou.ba", "commander", &[], PASSWORD).await;
    let session = signed_in(&server, "zhou.ba", PASSWORD).await;
    let mut ws = Ws::connect_session(&server, &session.cookie()).await;
    ws.subscribe(&json!({})).await;
    let (status, _) = session.get(&server, "/api/grids/2").await;
    assert_eq!(status, 200);
    let (status, _) = server
        .send(
            Method::PATCH,
            &format!("/api/users/{id}"),
            &json!({"scopes": ["grid:1"]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(ws.closed_within(WITHIN).await.map(|c| c.0), Some(1008));
    assert_problem(
        &session.get(&server, "/api/grids/2").await,
        403,
        "forbidden",
    );

    // `gridwatch user` on the running server's store: created, listed, disabled within a second.
    let out = store.cli(&["user", "create", "sun.jiu", "--role", "planner"]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let one_time = stdout
        .lines()
        .find_map(|l| l.strip_prefix("one-time password: "))
        .unwrap()
        .to_owned();
    let listed = String::from_utf8(store.cli(&["user", "list"]).stdout).unwrap();
    assert!(
        listed
            .lines()
            .any(|l| l.contains("\tsun.jiu\t") && l.contains("planner")),
        "{listed}"
    );
    assert!(!listed.contains("argon2"), "no hash in the list");
    let cli_session = signed_in(&server, "sun.jiu", &one_time).await;
    let (status, _) = cli_session
        .send(
            &server,
            Method::PUT,
            "/api/me/password",
            &json!({"current_password": one_time, "new_password": PASSWORD}),
        )
        .await;
    assert_eq!(status, 204, "a one-time password is changed first");
    let mut ws = Ws::connect_session(&server, &cli_session.cookie()).await;
    let out = store.cli(&["user", "disable", "sun.jiu"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        ws.closed_within(WITHIN).await.map(|c| c.0),
        Some(1008),
        "disabled from the command line"
    );
    let (status, _) = cli_session.get(&server, "/api/me").await;
    assert_eq!(status, 401);
    // `passwd` issues a new one-time password and ends the account's sessions.
    let out = store.cli(&["user", "passwd", "zhou.ba"]);
    assert!(out.status.success(), "{out:?}");
    let started = Instant::now();
    loop {
        let (status, _) = session.get(&server, "/api/me").await;
        if status == 401 {
            break;
        }
        assert!(
            started.elapsed() < WITHIN,
            "the reset's ended sessions reach the server"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    store.finish().await;
}
