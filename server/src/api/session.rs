//! Signing in and out (issue 18): `POST /api/session` (a name, a password and, for the roles that need
//! one, a TOTP code) opens a session and sets its cookies; `DELETE /api/session` signs out;
//! `GET /api/sessions` lists one's own sessions and `DELETE /api/sessions/{id}` ends another of them;
//! `PUT /api/me/password` changes one's password (the one thing a session that must change it may do).
//!
//! The session id travels only in the `HttpOnly; SameSite=Strict` cookie (`Secure` over TLS or behind a
//! proxy that says `X-Forwarded-Proto: https`), never in a body or a URL; the CSRF token is returned in
//! the body and in a readable cookie, for the page to repeat in `X-CSRF-Token` on writes. The rules
//! (lockout, timeouts, TOTP) are `identity`'s; this file parses HTTP and calls it.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::users::UserInfo;
use super::{AppJson, AppPath};
use crate::audit::Outcome;
use crate::auth::{Auth, CSRF_COOKIE, OverTls, SESSION_COOKIE};
use crate::domain::{Principal, SessionId};
use crate::error::ApiError;
use crate::identity::{self, LoginAttempt, LoginRequest};
use crate::state::AppState;

/// A sign-in.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    name: String,
    password: String,
    /// The 6-digit code of the account's authenticator app (required for the admin and auditor roles).
    totp: Option<String>,
}

/// An open session. Its id is in the `gw_session` cookie only.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignedIn {
    user: UserInfo,
    session_id: SessionId,
    /// Repeat in `X-CSRF-Token` on every write made with the cookie (also in the `gw_csrf` cookie).
    csrf_token: String,
    /// The absolute end of the session.
    #[schema(value_type = String, format = DateTime)]
    expires_at: DateTime<Utc>,
    /// The session ends after this many seconds without a request.
    idle_timeout_s: i64,
    /// Until the password is changed (`PUT /api/me/password`), nothing else is allowed.
    must_change_password: bool,
}

/// Whether the client reached us over TLS: our own, or a proxy's that says so.
fn over_tls(extensions: &Extensions, headers: &HeaderMap) -> bool {
    extensions.get::<OverTls>().is_some()
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn cookie(name: &str, value: &str, http_only: bool, secure: bool, clear: bool) -> HeaderValue {
    let mut text = format!("{name}={value}; Path=/; SameSite=Strict");
    if http_only {
        text.push_str("; HttpOnly");
    }
    if secure {
        text.push_str("; Secure");
    }
    if clear {
        text.push_str("; Max-Age=0");
    }
    // Only hex digits and fixed words: always a valid header value.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Notes a sign-in's facts in the server log and, for a refusal (`session.login_refused` with the
/// reason), in the audit trail beside the answer, as other refusals are; a sign-in's own row was written
/// with its session.
fn note(state: &AppState, attempt: &LoginAttempt) {
    match &attempt.outcome {
        Ok(session) => tracing::info!(name = %attempt.name, user = ?attempt.user,
            address = ?attempt.address, %session, "signed in"),
        Err(error) => {
            tracing::info!(name = %attempt.name, user = ?attempt.user,
                address = ?attempt.address, %error, "sign-in refused");
            let entry = identity::person_entry(
                "session.login_refused",
                attempt.user,
                None,
                &attempt.name,
                Outcome::Denied,
                Some(error.to_string()),
            );
            crate::audit::record_beside(state.store(), entry);
        }
    }
}

#[utoipa::path(post, path = "/api/session", tag = "auth", request_body = Login,
    responses((status = 200, description = "signed in: the session's cookies are set (`gw_session` HttpOnly, `gw_csrf` readable)", body = SignedIn),
        (status = 401, description = "wrong name, password or code (`invalid-credentials`), or a TOTP code is needed (`totp-required`)"),
        (status = 403, description = "the account is disabled, or has no TOTP secret though its role needs one"),
        (status = 423, description = "too many failures: the account is locked (`locked_until`, `Retry-After`)"),
        (status = 429, description = "too many failures from this address (`Retry-After`)")))]
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
    AppJson(body): AppJson<Login>,
) -> Result<Response, ApiError> {
    let address = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    let secure = over_tls(&extensions, &headers);
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (attempt, result) = identity::login(
        state.core(),
        LoginRequest {
            name: body.name,
            password: body.password,
            totp: body.totp,
            address,
            user_agent,
        },
    )
    .await;
    note(&state, &attempt);
    let signed = result?;
    let policy = state.core().identity();
    let answer = SignedIn {
        must_change_password: signed.user.must_change_password,
        user: UserInfo::from(&signed.user),
        session_id: signed.session.id,
        csrf_token: signed.csrf.clone(),
        expires_at: signed.session.expires_at,
        idle_timeout_s: policy.idle_timeout.num_seconds(),
    };
    let mut response = Json(answer).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        cookie(SESSION_COOKIE, &signed.secret, true, secure, false),
    );
    headers.append(
        header::SET_COOKIE,
        cookie(CSRF_COOKIE, &signed.csrf, false, secure, false),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn own_session(principal: &Principal) -> Result<(crate::domain::UserId, SessionId), ApiError> {
    match (principal.user(), principal.session()) {
        (Some(user), Some(session)) => Ok((user, session)),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not-a-session",
            "only a person signed in with a session has sessions (a token has none)",
        )),
    }
}

#[utoipa::path(delete, path = "/api/session", tag = "auth",
    responses((status = 204, description = "signed out: the session is ended everywhere within a second and its cookies cleared"),
        (status = 403, description = "not a session (a token), or a write without the session's CSRF token")),
    security(("session" = [])))]
pub async fn logout(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    extensions: Extensions,
) -> Result<Response, ApiError> {
    let (_, session) = own_session(&auth.0)?;
    identity::end_session(state.core(), &auth.0, session).await?;
    let secure = over_tls(&extensions, &headers);
    let mut response = StatusCode::NO_CONTENT.into_response();
    let out = response.headers_mut();
    out.append(
        header::SET_COOKIE,
        cookie(SESSION_COOKIE, "", true, secure, true),
    );
    out.append(
        header::SET_COOKIE,
        cookie(CSRF_COOKIE, "", false, secure, true),
    );
    Ok(response)
}

/// One of the caller's sessions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    id: SessionId,
    /// The session this request came with.
    current: bool,
    #[schema(value_type = String, format = DateTime)]
    created_at: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    last_seen_at: DateTime<Utc>,
    /// When it ends if not used again (idle), or its absolute end, whichever is first.
    #[schema(value_type = String, format = DateTime)]
    ends_at: DateTime<Utc>,
    address: Option<String>,
    user_agent: Option<String>,
}

#[utoipa::path(get, path = "/api/sessions", tag = "auth",
    responses((status = 200, description = "the caller's open sessions, by id", body = Vec<SessionInfo>),
        (status = 403, description = "not a session (a token)")),
    security(("session" = [])))]
pub async fn sessions(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<SessionInfo>>, ApiError> {
    let (user, current) = own_session(&auth.0)?;
    let core = state.core();
    let (policy, now) = (core.identity(), core.now());
    let open = core
        .store()
        .sessions_of(user)
        .await?
        .into_iter()
        .filter_map(|s| {
            let last_seen = core
                .credentials()
                .last_seen(s.id)
                .map_or(s.last_seen_at, |at| at.max(s.last_seen_at));
            (!core.credentials().is_session_revoked(s.id) && !policy.ended(&s, last_seen, now))
                .then(|| SessionInfo {
                    id: s.id,
                    current: s.id == current,
                    created_at: s.created_at,
                    last_seen_at: last_seen,
                    ends_at: policy.ends_at(&s, last_seen),
                    address: s.address,
                    user_agent: s.user_agent,
                })
        })
        .collect();
    Ok(Json(open))
}

#[utoipa::path(delete, path = "/api/sessions/{id}", tag = "auth", params(("id" = i64, Path)),
    responses((status = 204, description = "ended (or already ended) everywhere within a second; its websockets closed"),
        (status = 403, description = "not a session (a token)"),
        (status = 404, description = "no session of yours has this id")),
    security(("session" = [])))]
pub async fn end_session(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
) -> Result<StatusCode, ApiError> {
    own_session(&auth.0)?;
    identity::end_session(state.core(), &auth.0, SessionId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A password change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    current_password: String,
    /// At least 8 characters from 3 of: lower case, upper case, digits, others (by default).
    new_password: String,
}

#[utoipa::path(put, path = "/api/me/password", tag = "auth", request_body = ChangePassword,
    responses((status = 204, description = "changed: every other session of the account has ended"),
        (status = 403, description = "not a session (a token), the current password is wrong, or a write without the CSRF token"),
        (status = 422, description = "the new password breaks the rules")),
    security(("session" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<ChangePassword>,
) -> Result<StatusCode, ApiError> {
    identity::change_password(
        state.core(),
        &auth.0,
        body.current_password,
        body.new_password,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
