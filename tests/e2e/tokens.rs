//! Tokens behave like credentials: listed without their secret, revoked through the API or the command
//! line with effect within a second on REST and on open websockets (closed with 1008), refused once
//! expired — on a socket too, at the moment they expire. Both stores.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::json;

use crate::cases::token;
use crate::harness::{Flavor, Server, TestStore, assert_problem};
use crate::live::Ws;

/// What "within one second" allows.
const WITHIN: Duration = Duration::from_secs(1);

#[tokio::test]
async fn tokens_are_listed_revoked_and_expire_on_sqlite() {
    lifecycle(Flavor::Sqlite).await;
}

#[tokio::test]
async fn tokens_are_listed_revoked_and_expire_on_postgis() {
    lifecycle(Flavor::Postgres).await;
}

/// Sets a token's expiry in the store directly, as an operator's clock would reach it.
pub(crate) async fn set_expiry(store: &TestStore, id: i64, at: DateTime<Utc>) {
    let sql = "UPDATE tokens SET expires_at = $1 WHERE id = $2";
    if store.args[0] == "--data-dir" {
        let url = format!("sqlite://{}/gridwatch.db", store.args[1]);
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query(sql)
            .bind(at)
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&store.args[1]).await.unwrap();
        sqlx::query(sql)
            .bind(at)
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
}

/// The id of the token whose secret is `secret`, from `/api/me`.
async fn id_of(server: &Server, secret: &str) -> i64 {
    let (status, me) = server.get_as(secret, "/api/me").await;
    assert_eq!(status, 200, "{me}");
    me["token_id"].as_i64().unwrap()
}

async fn lifecycle(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let admin = server.token().to_owned();

    // Listed with a prefix of the secret, never the secret or its hash; with expiry and last use.
    let phone = token(&server, "commander", None).await;
    let phone_id = id_of(&server, &phone).await;
    let (status, listed) = server.get("/api/tokens").await;
    assert_eq!(status, 200, "{listed}");
    let text = listed.to_string();
    assert!(
        !text.contains(&phone) && !text.contains(&admin),
        "a secret leaked: {text}"
    );
    let entry = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == phone_id)
        .unwrap()
        .clone();
    let prefix = entry["prefix"].as_str().unwrap();
    assert!(phone.starts_with(prefix) && prefix.len() == 11, "{entry}");
    let expires: DateTime<Utc> = entry["expires_at"].as_str().unwrap().parse().unwrap();
    let days = (expires - Utc::now()).num_days();
    assert!(
        (89..=90).contains(&days),
        "default lifetime 90 days: {entry}"
    );
    assert!(entry["revoked_at"].is_null());
    // A lifetime beyond the role's maximum is refused.
    assert_problem(
        &server
            .send(
                Method::POST,
                "/api/tokens",
                &json!({"role": "admin", "expires_in_days": 91}),
            )
            .await,
        422,
        "invalid-input",
    );

    // Revoked through the API: REST refuses it at once; its open websocket closes within a second.
    let mut ws = Ws::connect(&server, &phone).await;
    ws.subscribe(&json!({})).await;
    let asked = Instant::now();
    let (status, body) = server
        .send(
            Method::DELETE,
            &format!("/api/tokens/{phone_id}"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    assert_problem(&server.get_as(&phone, "/api/me").await, 401, "unauthorized");
    let closed = ws.closed_within(WITHIN).await;
    assert_eq!(
        closed.as_ref().map(|c| c.0),
        Some(1008),
        "closed with 1008 within a second of the revocation ({:?}): {closed:?}",
        asked.elapsed()
    );
    // Revoking again changes nothing; an unknown id is a 404.
    let (status, _) = server
        .send(
            Method::DELETE,
            &format!("/api/tokens/{phone_id}"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 204);
    assert_problem(
        &server
            .send(Method::DELETE, "/api/tokens/99999", &json!({}))
            .await,
        404,
        "not-found",
    );
    let (_, listed) = server.get("/api/tokens").await;
    let entry = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == phone_id)
        .unwrap();
    assert!(entry["revoked_at"].is_string(), "{entry}");

    // Revoked from the command line while the server runs: refused within a second, socket closed.
    let other = token(&server, "commander", None).await;
    let other_id = id_of(&server, &other).await;
    let mut ws = Ws::connect(&server, &other).await;
    ws.subscribe(&json!({})).await;
    let out = store.cli(&["token", "revoke", &other_id.to_string()]);
    assert!(out.status.success(), "{out:?}");
    let revoked_at = Instant::now();
    let closed = ws.closed_within(WITHIN).await;
    assert_eq!(closed.map(|c| c.0), Some(1008), "closed within a second");
    assert_problem(&server.get_as(&other, "/api/me").await, 401, "unauthorized");
    assert!(revoked_at.elapsed() < WITHIN * 2);

    // Expired: a token past its expiry is refused; an open socket closes when its token expires.
    // Minted by the command line and never used, so the server has nothing cached: the expiry it reads
    // at first use is the one set here.
    let out = store.cli(&["token", "create", "--role", "commander", "--label", "late"]);
    assert!(out.status.success(), "{out:?}");
    let late = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let out = store.cli(&["token", "create", "--role", "commander", "--label", "soon"]);
    let soon = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let (_, listed) = server.get("/api/tokens").await;
    let id_by_label = |label: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["label"] == label)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    set_expiry(
        &store,
        id_by_label("late"),
        Utc::now() - chrono::Duration::seconds(1),
    )
    .await;
    assert_problem(&server.get_as(&late, "/api/me").await, 401, "unauthorized");
    set_expiry(
        &store,
        id_by_label("soon"),
        Utc::now() + chrono::Duration::seconds(3),
    )
    .await;
    let mut ws = Ws::connect(&server, &soon).await;
    ws.subscribe(&json!({})).await;
    let closed = ws.closed_within(Duration::from_secs(10)).await;
    assert_eq!(
        closed.map(|c| c.0),
        Some(1008),
        "closed when its token expired"
    );
    assert_problem(&server.get_as(&soon, "/api/me").await, 401, "unauthorized");
    store.finish().await;
}
