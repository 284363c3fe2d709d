//! Credentials: bearer tokens (machines) and session cookies (people), and the `Auth` extractor that
//! every protected handler takes. Both build the same `Principal`; a request with an `Authorization`
//! header is judged by it alone, one without by its session cookie.
//!
//! A token is `gw_` + 64 hex digits of randomness; only its SHA-256 is stored, with its first
//! [`PREFIX_CHARS`] characters to tell tokens apart in a list. A session cookie ([`SESSION_COOKIE`],
//! `HttpOnly; SameSite=Strict`) carries 256 random bits; the store keeps their SHA-256. A
//! cookie-authenticated write (any method but GET, HEAD and OPTIONS) must carry the session's CSRF
//! token in [`CSRF_HEADER`] (the synchronizer-token pattern: the token is returned at sign-in and kept
//! in the readable [`CSRF_COOKIE`]); a bearer request needs none, since a browser never adds a bearer
//! header by itself. A session that must change its password may only do that ([`PASSWORD_CHANGE_PATHS`]).
//! A missing, unknown, expired or revoked credential is a 401 — never an anonymous caller. A token minted by the CLI while the server runs is found
//! on first use because a cache miss asks the store; a revocation reaches the cache at once through
//! this node or within half a second from anywhere else ([`credentials`]). [`visible_grid`] is the
//! scope rule for one grid, used by handlers and services alike; it answers with the domain's
//! [`AccessError`], the extractor and [`Auth::require`] (HTTP-side) with `ApiError`.

pub mod credentials;

pub use credentials::Credentials;

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::core::Core;
use crate::domain::{AccessError, Credential, Permission, Principal, Subject, UserStatus};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::StoreError;

/// Prefix that makes a gridwatch token easy to spot in a leaked log or config file.
pub const TOKEN_PREFIX: &str = "gw_";
/// How much of a secret is kept to tell tokens apart: `gw_` and 8 hex digits (32 of its 256 bits).
pub const PREFIX_CHARS: usize = TOKEN_PREFIX.len() + 8;

/// The session cookie: `HttpOnly`, so no script reads it.
pub const SESSION_COOKIE: &str = "gw_session";
/// The CSRF token's cookie: readable by the page's scripts (never a credential by itself).
pub const CSRF_COOKIE: &str = "gw_csrf";
/// The header a cookie-authenticated write must repeat the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// What a session that must change its password may still reach (method, path).
pub const PASSWORD_CHANGE_PATHS: &[(&str, &str)] = &[
    ("GET", "/api/me"),
    ("PUT", "/api/me/password"),
    ("DELETE", "/api/session"),
    ("GET", "/api/sessions"),
];

/// Set by a transport that terminated TLS itself, so cookies it answers with are `Secure`.
#[derive(Debug, Clone, Copy)]
pub struct OverTls;

/// A new random session id or CSRF token: 64 hex digits (256 bits).
#[must_use]
pub fn new_session_secret() -> String {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A new random token secret.
#[must_use]
pub fn new_secret() -> String {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// The part of a secret kept and shown in lists.
#[must_use]
pub fn secret_prefix(secret: &str) -> String {
    secret.chars().take(PREFIX_CHARS).collect()
}

/// The stored form of a secret: lower-case hex SHA-256.
#[must_use]
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The authenticated caller. Extracting it fails with 401 for a missing, malformed or unknown token.
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

impl Auth {
    /// 403 unless the caller's role holds `permission` (`domain::permission`, the one table).
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        Self::permit(&self.0, permission)
    }

    /// [`Auth::require`] for a handler that took the principal out of its `Auth`.
    pub fn permit(principal: &Principal, permission: Permission) -> Result<(), ApiError> {
        if principal.role.may(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "the {} role may not do this",
                principal.role.as_str()
            )))
        }
    }

    /// Whether the caller's role holds `permission`.
    #[must_use]
    pub fn may(&self, permission: Permission) -> bool {
        self.0.role.may(permission)
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if parts.headers.get(header::AUTHORIZATION).is_none()
            && let Some(secret) = cookie(&parts.headers, SESSION_COOKIE)
        {
            let path = parts
                .extensions
                .get::<OriginalUri>()
                .map_or_else(|| parts.uri.path().to_owned(), |u| u.path().to_owned());
            let session = session_for(state.core(), secret).await?;
            session.admit(&parts.method, &path, &parts.headers)?;
            return Ok(Self(session.principal));
        }
        let secret = bearer(parts)?;
        authenticate(state, secret).await.map(Self)
    }
}

/// A signed-in session as a request meets it.
#[derive(Debug, Clone)]
pub struct SessionAuth {
    pub principal: Principal,
    /// SHA-256 of the session's CSRF token.
    pub csrf_hash: String,
    pub must_change_password: bool,
    /// When the session ends if not used again (its idle or its absolute end).
    pub ends_at: chrono::DateTime<chrono::Utc>,
}

impl SessionAuth {
    /// Refuses a write without the session's CSRF token, and anything but changing its password to a
    /// session that must change it.
    pub fn admit(&self, method: &Method, path: &str, headers: &HeaderMap) -> Result<(), ApiError> {
        let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if sent.is_none_or(|token| hash_secret(token) != self.csrf_hash) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    format!(
                        "a write signed in by cookie must repeat the session's CSRF token in {CSRF_HEADER}"
                    ),
                ));
            }
        }
        if self.must_change_password
            && !PASSWORD_CHANGE_PATHS
                .iter()
                .any(|(m, p)| method.as_str() == *m && path == *p)
        {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "password-change-required",
                "change your password first (PUT /api/me/password)",
            ));
        }
        Ok(())
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
#[must_use]
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// The session a cookie's secret stands for; 401 for an unknown, ended or revoked one, or a disabled
/// account. Counts as a use of the session (its idle timeout starts again).
pub async fn session_for(core: &Core, secret: &str) -> Result<SessionAuth, ApiError> {
    session(core, &hash_secret(secret), true)
        .await?
        .ok_or_else(|| ApiError::unauthorized("your session has ended; sign in again"))
}

/// The session whose secret hashes to `hash`, or `None` when it is unknown, has ended (idle, absolute,
/// revoked) or its account is disabled or gone. With `a_use`, notes a use. Shared by the extractor,
/// tiles and `/ws` (which re-checks an open socket's session with it, not as a use).
pub async fn session(
    core: &Core,
    hash: &str,
    a_use: bool,
) -> Result<Option<SessionAuth>, StoreError> {
    let credentials = core.credentials();
    let policy = core.identity();
    let now = core.now();
    let record = if let Some(record) = credentials.cached_session(hash) {
        record
    } else {
        let Some(record) = core.store().session_by_hash(hash).await? else {
            return Ok(None);
        };
        credentials.remember_session(hash.to_owned(), record.clone());
        record
    };
    if credentials.is_session_revoked(record.id) {
        return Ok(None);
    }
    let mut last_seen = credentials
        .last_seen(record.id)
        .unwrap_or(record.last_seen_at)
        .max(record.last_seen_at);
    if policy.ended(&record, last_seen, now) {
        // Another node may have seen a later use: its store row is the word.
        match core.store().session(record.id).await? {
            Some(fresh) if !policy.ended(&fresh, fresh.last_seen_at.max(last_seen), now) => {
                last_seen = fresh.last_seen_at.max(last_seen);
            }
            _ => return Ok(None),
        }
    }
    let user = if let Some(user) = credentials.cached_user(record.user) {
        user
    } else {
        let Some(user) = core.store().user(record.user).await? else {
            return Ok(None);
        };
        credentials.remember_user(user.clone());
        user
    };
    if user.status != UserStatus::Active {
        return Ok(None);
    }
    if a_use {
        crate::audit::identify(crate::audit::Actor {
            kind: crate::audit::ActorKind::User,
            id: Some(user.id.0),
            name: Some(user.name.clone()),
            role: Some(user.role),
        });
        last_seen = now;
        let every = credentials::touch_every(policy.idle_timeout);
        if credentials.session_used(record.id, now, every) {
            let store = std::sync::Arc::clone(core.store());
            let id = record.id;
            tokio::spawn(async move {
                if let Err(error) = store.touch_session(id, now).await {
                    tracing::warn!(%error, session = %id, "could not note a session's last use");
                }
            });
        }
    }
    Ok(Some(SessionAuth {
        principal: Principal {
            credential: Credential::Session {
                user: user.id,
                session: record.id,
            },
            role: user.role,
            scopes: user.scopes.clone(),
            worker: user.worker,
            expires_at: Some(record.expires_at),
        },
        csrf_hash: record.csrf_hash.clone(),
        must_change_password: user.must_change_password,
        ends_at: policy.ends_at(&record, last_seen),
    }))
}

/// The caller of a request that may also authenticate by `?token=` (tiles, `/ws`): the
/// `Authorization` header, else `query_token`, else the session cookie (reads only: a session that
/// must change its password is refused).
pub async fn principal_of(
    state: &AppState,
    headers: &HeaderMap,
    query_token: Option<&str>,
) -> Result<(Principal, Option<String>), ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
        let token = value
            .split_once(' ')
            .filter(|(scheme, t)| scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty())
            .map(|(_, t)| t.trim())
            .ok_or_else(|| ApiError::unauthorized("expected Authorization: Bearer <token>"))?;
        return Ok((authenticate(state, token).await?, None));
    }
    if let Some(token) = query_token {
        return Ok((authenticate(state, token).await?, None));
    }
    let Some(secret) = cookie(headers, SESSION_COOKIE) else {
        return Err(ApiError::unauthorized(
            "missing Authorization: Bearer <token> or a session cookie",
        ));
    };
    let session = session_for(state.core(), secret).await?;
    if session.must_change_password {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "password-change-required",
            "change your password first (PUT /api/me/password)",
        ));
    }
    Ok((session.principal, Some(hash_secret(secret))))
}

/// The caller a token secret stands for; 401 for an unknown, expired or revoked one.
pub async fn authenticate(state: &AppState, secret: &str) -> Result<Principal, ApiError> {
    principal(state, secret)
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown, expired or revoked token"))
}

/// The caller a token secret stands for, or `None` for an unknown, expired or revoked one. Shared by
/// the bearer extractor, tiles, `/ws` and Open311's `api_key`, so all see the same tokens and cache.
pub async fn principal(state: &AppState, secret: &str) -> Result<Option<Principal>, StoreError> {
    let core = state.core();
    let credentials = core.credentials();
    let hash = hash_secret(secret);
    let record = if let Some(record) = credentials.cached(&hash) {
        record
    } else {
        let Some(record) = core.store().token_by_hash(&hash).await? else {
            return Ok(None);
        };
        credentials.remember(hash, record.clone());
        record
    };
    let now = core.now();
    if credentials.is_revoked(record.id) || record.expires_at.is_none_or(|at| at <= now) {
        return Ok(None);
    }
    crate::audit::identify(crate::audit::Actor {
        kind: crate::audit::ActorKind::Token,
        id: Some(record.id.0),
        name: record.label.clone(),
        role: Some(record.role),
    });
    if credentials.should_touch(record.id, std::time::Instant::now()) {
        let store = std::sync::Arc::clone(core.store());
        tokio::spawn(async move {
            if let Err(error) = store.touch_token(record.id, now).await {
                tracing::warn!(%error, token = %record.id, "could not note a token's last use");
            }
        });
    }
    Ok(Some(Principal {
        credential: Credential::Token(record.id),
        role: record.role,
        scopes: record.scopes,
        worker: record.worker,
        expires_at: record.expires_at,
    }))
}

/// The secret of an `Authorization: Bearer` header.
pub fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized("missing Authorization: Bearer <token> or a session cookie")
    })?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized("malformed Authorization header"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized(
            "expected Authorization: Bearer <token>",
        ));
    }
    Ok(token.trim())
}

/// The grid `id` if it exists and the caller may see it.
pub fn visible_grid<'w>(
    world: &'w crate::world::World,
    visibility: &crate::world::Visibility,
    id: crate::domain::GridId,
) -> Result<&'w crate::domain::Grid, AccessError> {
    let grid = world
        .grid(id)
        .ok_or(AccessError::NotFound(Subject::Grid(id)))?;
    if visibility.grid(id) {
        Ok(grid)
    } else {
        Err(AccessError::OutOfScope(Subject::Grid(id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_hash_stably() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 64);
        // SHA-256("abc"), FIPS 180-2 test vector.
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
