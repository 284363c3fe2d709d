//! People with accounts (issue 18): signing in, the lockout (per account and per address), the idle and
//! absolute timeouts, TOTP against RFC 6238's own vectors, CSRF on cookie writes, the first-login
//! password change, `gridwatch user`, and a disabled account's open websocket closed within a second.
//! Both stores. The helpers here sign in the way a browser does (cookies, `X-CSRF-Token`) and are shared
//! with the authorization matrix.

mod flows;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::Server;

/// A signed-in session as a browser holds it: the cookies and the CSRF token it repeats on writes.
#[derive(Debug, Clone)]
pub struct Session {
    pub secret: String,
    pub csrf: String,
    pub id: i64,
}

impl Session {
    /// The `Cookie` header a browser would send.
    pub fn cookie(&self) -> String {
        format!("gw_session={}; gw_csrf={}", self.secret, self.csrf)
    }

    /// A request with the cookies and, for a write, the CSRF header.
    pub fn request(&self, server: &Server, method: Method, path: &str) -> reqwest::RequestBuilder {
        let write = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
        let mut request = server
            .http
            .request(method, server.url(path))
            .header("cookie", self.cookie());
        if write {
            request = request.header("x-csrf-token", &self.csrf);
        }
        request
    }

    pub async fn get(&self, server: &Server, path: &str) -> (u16, Value) {
        split(
            self.request(server, Method::GET, path)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn send(
        &self,
        server: &Server,
        method: Method,
        path: &str,
        body: &Value,
    ) -> (u16, Value) {
        split(
            self.request(server, method, path)
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }
}

async fn split(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The value of cookie `name` among a response's `Set-Cookie` headers, with its attributes.
pub fn set_cookie<'r>(response: &'r reqwest::Response, name: &str) -> Option<&'r str> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

/// `POST /api/session`: the answer and, when signed in, the session (read from the cookies).
pub async fn login(
    server: &Server,
    name: &str,
    password: &str,
    totp: Option<&str>,
) -> (u16, Value, Option<Session>) {
    let mut body = json!({"name": name, "password": password});
    if let Some(code) = totp {
        body["totp"] = json!(code);
    }
    let response = server
        .http
        .post(server.url("/api/session"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let value = |c: &str| {
        c.split(';')
            .next()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .to_owned()
    };
    let secret = set_cookie(&response, "gw_session").map(value);
    let csrf = set_cookie(&response, "gw_csrf").map(value);
    let (status, answer) = split(response).await;
    let session = match (secret, csrf) {
        (Some(secret), Some(csrf)) if status == 200 => Some(Session {
            secret,
            csrf,
            id: answer["session_id"].as_i64().unwrap(),
        }),
        _ => None,
    };
    (status, answer, session)
}

/// Signs in and expects it to work.
pub async fn signed_in(server: &Server, name: &str, password: &str) -> Session {
    let (status, answer, session) = login(server, name, password, None).await;
    assert_eq!(status, 200, "{answer}");
    session.unwrap()
}

/// `POST /api/users` with the admin token; the answer (user, one-time password, TOTP secret).
pub async fn create_user(server: &Server, body: &Value) -> Value {
    let (status, created) = server.send(Method::POST, "/api/users", body).await;
    assert_eq!(status, 201, "{created}");
    created
}

/// A user with a known password that needs no change at first sign-in; its id.
pub async fn person(
    server: &Server,
    name: &str,
    role: &str,
    scopes: &[String],
    password: &str,
) -> i64 {
    let created = create_user(
        server,
        &json!({"name": name, "role": role, "scopes": scopes, "password": password,
            "must_change_password": false}),
    )
    .await;
    created["user"]["id"].as_i64().unwrap()
}
