//! The scenarios of people's accounts, each on both stores: signing in and CSRF, the lockout, the
//! timeouts, TOTP, a disabled account's websocket, `gridwatch user`, and bad input.

mod guards;
mod sessions;

use std::time::Duration;

use serde_json::Value;

use super::Session;
use crate::harness::{Flavor, Server, TestStore};
use guards::{bad_input, lockout, totp};
use sessions::{disabled, sign_in_csrf_and_sessions, timeouts};

/// A change must reach every path within this (issue 18), plus a margin for a loaded test machine.
const WITHIN: Duration = Duration::from_millis(1500);
const PASSWORD: &str = "Street-Grid-2026";

macro_rules! both_stores {
    ($($name:ident => $scenario:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn on_sqlite() {
                super::$scenario(crate::harness::Flavor::Sqlite).await;
            }
            #[tokio::test]
            async fn on_postgis() {
                super::$scenario(crate::harness::Flavor::Postgres).await;
            }
        }
    )*};
}

both_stores! {
    sign_in_csrf_and_sessions => sign_in_csrf_and_sessions,
    lockout_per_account_and_per_address => lockout,
    idle_and_absolute_timeouts => timeouts,
    totp_against_rfc_6238 => totp,
    a_disabled_account_is_refused_everywhere_within_a_second => disabled,
    bad_input_changes_nothing => bad_input,
}

async fn demo(flavor: Flavor, flags: &[&str]) -> Option<(TestStore, Server)> {
    let store = TestStore::new(flavor).await?;
    let mut args = vec!["demo"];
    args.extend_from_slice(flags);
    let server = Server::start(&args, &store);
    Some((store, server))
}

async fn split(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A write with the session's cookie but the given CSRF header (none, or a wrong one).
async fn write_with_csrf(
    server: &Server,
    session: &Session,
    path: &str,
    body: &Value,
    csrf: Option<&str>,
) -> (u16, Value) {
    let mut request = server
        .http
        .post(server.url(path))
        .header("cookie", session.cookie())
        .json(body);
    if let Some(csrf) = csrf {
        request = request.header("x-csrf-token", csrf);
    }
    split(request.send().await.unwrap()).await
}
