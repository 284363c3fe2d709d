//! What guards an account: the lockout per account and per address, TOTP (against RFC 6238's own
//! vectors), and bad input that changes nothing.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use reqwest::Method;
use serde_json::json;
use sha1::Sha1;

use super::super::{create_user, login, person, signed_in};
use super::{PASSWORD, demo, split};
use crate::harness::Flavor;

pub(super) async fn lockout(flavor: Flavor) {
    let Some((store, server)) = demo(
        flavor,
        &["--lockout-s", "3", "--address-lockout-failures", "12"],
    )
    .await
    else {
        return;
    };
    person(&server, "zhang.san", "commander", &[], PASSWORD).await;
    person(&server, "wang.wu", "planner", &[], PASSWORD).await;

    // Per account: the fifth failure locks it; the right password then meets the lock (423, with
    // Retry-After), and the lockout ends by itself.
    for i in 1..=4 {
        let (status, body, _) = login(&server, "zhang.san", "Wrong-Pass-99", None).await;
        assert_eq!(status, 401, "failure {i}: {body}");
    }
    let (status, body, _) = login(&server, "zhang.san", "Wrong-Pass-99", None).await;
    assert_eq!(status, 423, "{body}");
    assert_eq!(body["type"], "/problems/account-locked");
    let locked = server
        .http
        .post(server.url("/api/session"))
        .json(&json!({"name": "zhang.san", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(locked.status(), 423);
    let retry: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3).contains(&retry), "Retry-After {retry}");
    // Another account from the same address is not locked by it.
    let (status, _, _) = login(&server, "wang.wu", PASSWORD, None).await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let (status, body, _) = login(&server, "zhang.san", PASSWORD, None).await;
    assert_eq!(status, 200, "the lockout ended: {body}");
    // A success starts the count again.
    let (_, users) = server.get("/api/users").await;
    let zhang = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "zhang.san")
        .unwrap();
    assert_eq!(zhang["failed_attempts"], 0);

    // Per address: guesses spread over many names (existing or not) lock the address, so even a right
    // password from it is refused (429, Retry-After) until the lockout ends.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    for i in 0..12 {
        let name = if i % 2 == 0 {
            format!("ghost{i}")
        } else {
            "wang.wu".to_owned()
        };
        let name = if i % 4 == 1 {
            "zhang.san".to_owned()
        } else {
            name
        };
        let (status, body, _) = login(&server, &name, "Wrong-Pass-99", None).await;
        assert!(status == 401 || status == 423 || status == 429, "{body}");
    }
    let refused = server
        .http
        .post(server.url("/api/session"))
        .json(&json!({"name": "wang.wu", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let (_, body) = split(refused).await;
    assert_eq!(body["type"], "/problems/too-many-failures");
    store.finish().await;
}

/// RFC 6238's TOTP (HMAC-SHA1, 30 s, 6 digits), written here from the RFC, independent of the server's
/// `identity::totp`, and checked against the RFC's own vectors before it is trusted.
fn reference_totp(key: &[u8], unix_s: u64, digits: u32) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).unwrap();
    mac.update(&(unix_s / 30).to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[19] & 0x0f);
    let binary = (u32::from(hash[offset]) & 0x7f) << 24
        | u32::from(hash[offset + 1]) << 16
        | u32::from(hash[offset + 2]) << 8
        | u32::from(hash[offset + 3]);
    format!(
        "{:0width$}",
        binary % 10_u32.pow(digits),
        width = digits as usize
    )
}

fn base32(text: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut buffer, mut bits, mut out) = (0_u64, 0_u32, Vec::new());
    for c in text.trim_end_matches('=').bytes() {
        let v = alphabet.iter().position(|a| *a == c).unwrap();
        buffer = (buffer << 5) | u64::try_from(v).unwrap();
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).unwrap());
        }
    }
    out
}

pub(super) async fn totp(flavor: Flavor) {
    // RFC 6238 appendix B, SHA-1 rows (8 digits).
    let key = b"12345678901234567890";
    for (t, code) in [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ] {
        assert_eq!(reference_totp(key, t, 8), code, "T = {t}");
    }
    let Some((store, server)) = demo(flavor, &[]).await else {
        return;
    };
    // An admin account signs in with a code: its secret is issued at creation, shown once.
    let created = create_user(
        &server,
        &json!({"name": "root.admin", "role": "admin", "password": PASSWORD, "must_change_password": false}),
    )
    .await;
    let secret = created["totp_secret"].as_str().unwrap().to_owned();
    assert!(
        created["totp_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let key = base32(&secret);
    assert!(key.len() >= 16, "at least 128 bits");
    let (status, body, _) = login(&server, "root.admin", PASSWORD, None).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (401, Some("/problems/totp-required")),
        "{body}"
    );
    let now = || u64::try_from(chrono::Utc::now().timestamp()).unwrap();
    let far = reference_totp(&key, now() + 600, 6);
    let (status, body, _) = login(&server, "root.admin", PASSWORD, Some(&far)).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (401, Some("/problems/invalid-credentials"))
    );
    let code = reference_totp(&key, now(), 6);
    let (status, body, session) = login(&server, "root.admin", PASSWORD, Some(&code)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["totp"], true);
    let (status, _) = session.unwrap().get(&server, "/api/users").await;
    assert_eq!(status, 200);
    // A code is accepted once.
    let (status, _, _) = login(&server, "root.admin", PASSWORD, Some(&code)).await;
    assert_eq!(status, 401, "a replayed code");
    // A commander needs no code; one with a secret issued must give it.
    person(&server, "opt.in", "commander", &[], PASSWORD).await;
    let (status, _, _) = login(&server, "opt.in", PASSWORD, None).await;
    assert_eq!(status, 200);
    store.finish().await;
}

pub(super) async fn bad_input(flavor: Flavor) {
    let Some((store, server)) = demo(flavor, &[]).await else {
        return;
    };
    person(&server, "qian.shi", "commander", &[], PASSWORD).await;
    let session = signed_in(&server, "qian.shi", PASSWORD).await;
    let (_, before) = server.get("/api/users").await;
    let raw = |method: Method, path: &str, body: Vec<u8>, cookie: bool| {
        let mut request = server
            .http
            .request(method, server.url(path))
            .header("content-type", "application/json")
            .body(body);
        request = if cookie {
            request
                .header("cookie", session.cookie())
                .header("x-csrf-token", &session.csrf)
        } else {
            request.bearer_auth(server.token())
        };
        async move { split(request.send().await.unwrap()).await }
    };
    let huge = format!(
        "{{\"name\": \"{}\", \"password\": \"x\"}}",
        "a".repeat(3 << 20)
    )
    .into_bytes();
    let cases: Vec<(Method, &str, Vec<u8>, bool, u16)> = vec![
        (
            Method::POST,
            "/api/session",
            b"{\"name\": ".to_vec(),
            false,
            400,
        ),
        (
            Method::POST,
            "/api/session",
            br#"{"name": 7, "password": []}"#.to_vec(),
            false,
            422,
        ),
        (
            Method::POST,
            "/api/session",
            br#"{"name": "a", "password": "b", "admin": true}"#.to_vec(),
            false,
            422,
        ),
        (Method::POST, "/api/session", huge.clone(), false, 413),
        (
            Method::PUT,
            "/api/me/password",
            b"not json".to_vec(),
            true,
            400,
        ),
        (
            Method::PUT,
            "/api/me/password",
            br#"{"current_password": 1}"#.to_vec(),
            true,
            422,
        ),
        (
            Method::DELETE,
            "/api/sessions/999999",
            Vec::new(),
            true,
            404,
        ),
        (Method::DELETE, "/api/sessions/abc", Vec::new(), true, 400),
        (Method::POST, "/api/users", b"{".to_vec(), false, 400),
        (
            Method::POST,
            "/api/users",
            br#"{"name": "x.y", "role": "emperor"}"#.to_vec(),
            false,
            422,
        ),
        (
            Method::POST,
            "/api/users",
            br#"{"name": "x.y", "role": "reporter"}"#.to_vec(),
            false,
            422,
        ),
        (
            Method::POST,
            "/api/users",
            br#"{"name": "x.y", "role": "auditor"}"#.to_vec(),
            false,
            403,
        ),
        (
            Method::POST,
            "/api/users",
            br#"{"name": "bad name!", "role": "planner"}"#.to_vec(),
            false,
            422,
        ),
        (
            Method::POST,
            "/api/users",
            br#"{"name": "x.y", "role": "worker", "worker_id": 999999}"#.to_vec(),
            false,
            404,
        ),
        (
            Method::POST,
            "/api/users",
            br#"{"name": "x.y", "role": "planner", "scopes": ["region:999999"]}"#.to_vec(),
            false,
            404,
        ),
        (
            Method::POST,
            "/api/users",
            br#"{"name": "x.y", "role": "planner", "password": "weak"}"#.to_vec(),
            false,
            422,
        ),
        (
            Method::POST,
            "/api/users",
            br#"{"name": "qian.shi", "role": "planner"}"#.to_vec(),
            false,
            409,
        ),
        (Method::POST, "/api/users", huge, false, 413),
        (
            Method::PATCH,
            "/api/users/999999",
            br#"{"display_name": "x"}"#.to_vec(),
            false,
            404,
        ),
        (
            Method::PATCH,
            "/api/users/1",
            br#"{"status": "banished"}"#.to_vec(),
            false,
            422,
        ),
        (
            Method::PATCH,
            "/api/users/1",
            br#"{"role": "device"}"#.to_vec(),
            false,
            422,
        ),
        (
            Method::POST,
            "/api/users/999999/password",
            b"{}".to_vec(),
            false,
            404,
        ),
        (
            Method::POST,
            "/api/users/999999/totp",
            Vec::new(),
            false,
            404,
        ),
    ];
    for (method, path, body, cookie, expected) in cases {
        let label = format!("{method} {path}");
        let (status, problem) = raw(method, path, body, cookie).await;
        assert_eq!(status, expected, "{label}: {problem}");
        if status != 413 {
            assert!(
                problem["type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("/problems/")),
                "{label}: {problem}"
            );
        }
    }
    let (_, after) = server.get("/api/users").await;
    assert_eq!(before, after, "no refused request changed an account");
    let (status, _) = session.get(&server, "/api/me").await;
    assert_eq!(status, 200, "the session still holds");
    store.finish().await;
}
