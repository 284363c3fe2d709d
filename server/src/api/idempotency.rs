//! `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header) on the writes a client retries: a
//! create, a workflow action, a photo, a position batch (`api.rs` layers [`guard`] on those four).
//!
//! The same key from the same principal with the same request (a SHA-256 of method, path and body) is
//! answered with the first answer again — status, body, `Content-Type`, `Location` — and
//! `Idempotent-Replayed: true`, for 24 hours, across restarts and nodes (the answers are in the store,
//! `store/idempotency.rs`). The same key with another request is a 422 `idempotency-key-reused`; a key
//! whose first request is still in flight a 409 `idempotency-key-in-flight` with `Retry-After`; a
//! malformed key a 400 `invalid-idempotency-key`. Keys are per principal (`token:ID`, `user:ID`), so
//! two callers never see each other's answers. A request without the header is passed through as is.
//!
//! The answer is kept right after the write commits, not in the write's own transaction; but the
//! write's own transaction marks the key committed (the seq of its last event). A write answered 503
//! `outcome-unknown` (its COMMIT's answer lost, the database unable to say in time), or a node that dies
//! between the commit and keeping the answer, leaves a committed claim with no answer: it is never
//! released or taken over, and a retry gets a 409 `idempotency-key-committed` naming the event, so it
//! is not done twice. A claim with no answer that did not commit is seen as in flight until its lease
//! ([`LEASE`]) ends, and then done again. Position batches append no event and are not marked. A 5xx, a 408 and a 429 are
//! never kept (nothing is known to be done, or nothing was: the client may send the key again), and
//! nothing is kept for a write that did not commit: the answer kept is the one the handler gave after
//! its service returned. The handler runs as a task of its own, so a client hanging up (or the
//! request's deadline) cannot cut it between its write and keeping its answer.
//!
//! Must not: decide anything about the write itself, or keep an answer for anyone but its principal.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};

use crate::audit;
use crate::auth::Auth;
use crate::domain::{Credential, Principal};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Store;
use crate::store::idempotency::{Claimed, KeyClaim, StoredAnswer};

/// The request header naming the key.
pub const KEY_HEADER: &str = "idempotency-key";
/// The response header marking an answer given again.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// The longest key taken, in characters (quotes aside).
pub const MAX_KEY_CHARS: usize = 255;
/// How long an answer is kept.
const KEEP: TimeDelta = TimeDelta::hours(24);
/// How long a claim with no answer counts as in flight: longer than any request's deadline (uploads
/// get 5 minutes), so only a claim whose node died is taken over.
const LEASE: TimeDelta = TimeDelta::minutes(10);
/// Seconds a client is told to wait before asking again about a key in flight.
const IN_FLIGHT_RETRY_S: u64 = 1;
/// Old keys are pruned at most this often by each process, beside a claim.
const PRUNE_EVERY_S: i64 = 600;
/// When this process last pruned (seconds since the epoch, on the core's clock).
static LAST_PRUNE_S: AtomicI64 = AtomicI64::new(i64::MIN);

/// The `Idempotency-Key` header as the OpenAPI document shows it on the four operations that take it.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(
    dead_code,
    reason = "only its parameter is used: the middleware reads the header itself"
)]
pub struct KeyHeader {
    /// A key of the client's choosing (a UUID), the same on every retry of one write: for 24 hours
    /// the same key with the same request gets the first answer again, with `Idempotent-Replayed:
    /// true`; with another request a 422 `idempotency-key-reused`; while the first is in flight a
    /// 409 `idempotency-key-in-flight` with `Retry-After`; when it was carried out but its answer was
    /// lost (a 503 `outcome-unknown`) a 409 `idempotency-key-committed` naming the event (`seq`).
    /// Keys are the caller's own (per token, or per person). 1–255 visible ASCII characters but `"`,
    /// bare or quoted (`"…"`); else a 400 `invalid-idempotency-key`.
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 257,
        pattern = r#"^([!#-~]{1,255}|"[!#-~]{1,255}")$"#
    )]
    idempotency_key: Option<String>,
}

/// The middleware: passes a request without `Idempotency-Key` through; otherwise claims the key, and
/// either runs the request and keeps its answer, or answers from what the key holds.
///
/// Everything from the claim on runs as a task of its own: a client hanging up while its key is being
/// claimed cannot leave a claim that nothing answers or releases (a retry would meet it as in flight
/// until its lease ends).
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !request.headers().contains_key(KEY_HEADER) {
        return next.run(request).await;
    }
    let (claim, request) = match read(&state, request).await {
        Ok(read) => read,
        Err(error) => return error.into_response(),
    };
    let task = tokio::spawn(audit::scope(audit::current(), async move {
        match decide(&state, &claim).await {
            Ok(None) => run(Arc::clone(state.store()), claim, request, next).await,
            Ok(Some(response)) => response,
            Err(error) => error.into_response(),
        }
    }));
    task.await.unwrap_or_else(|error| {
        tracing::error!(%error, "claiming an idempotency key failed");
        ApiError::internal().into_response()
    })
}

/// Authenticates, reads the key and the body: the claim to make, and the request to run.
async fn read(state: &AppState, request: Request) -> Result<(KeyClaim, Request), ApiError> {
    let (mut parts, body) = request.into_parts();
    let Auth(principal) = Auth::from_request_parts(&mut parts, state).await?;
    let key = parse_key(&parts.headers)?;
    // The route's body limit travels in the extensions; reading through `Bytes` keeps it (413).
    let mut limited = Request::new(body);
    *limited.extensions_mut() = parts.extensions.clone();
    let body = Bytes::from_request(limited, state).await?;
    let path = parts
        .extensions
        .get::<OriginalUri>()
        .map_or_else(|| parts.uri.path().to_owned(), |u| u.path().to_owned());
    let claim = KeyClaim {
        principal: owner(&principal),
        key,
        request_hash: request_hash(parts.method.as_str(), &path, &body),
        at: state.now(),
    };
    Ok((claim, Request::from_parts(parts, Body::from(body))))
}

/// Claims the key in the store: `None` when it is this request's to run, else the answer to give
/// (a replay), or the refusal (reused, in flight).
async fn decide(state: &AppState, claim: &KeyClaim) -> Result<Option<Response>, ApiError> {
    let now = claim.at;
    prune_now_and_then(state.store(), now);
    match state
        .store()
        .claim_key(claim, now - KEEP, now - LEASE)
        .await?
    {
        Claimed::New => Ok(None),
        Claimed::Existing(record) if record.request_hash != claim.request_hash => {
            Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "this Idempotency-Key was sent before with another request; use a new key",
            ))
        }
        Claimed::Existing(record) => match (record.answer, record.committed_seq) {
            (Some(answer), _) => Ok(Some(replay(&answer))),
            (None, Some(seq)) => Err(ApiError::new(
                StatusCode::CONFLICT,
                "idempotency-key-committed",
                format!(
                    "the request with this Idempotency-Key was carried out (event {seq}), but its \
                     answer was lost; read what it changed instead of sending it again"
                ),
            )
            .with("seq", serde_json::json!(seq))),
            (None, None) => Err(ApiError::new(
                StatusCode::CONFLICT,
                "idempotency-key-in-flight",
                "the first request with this Idempotency-Key is still being answered; ask again",
            )
            .retry_after(IN_FLIGHT_RETRY_S)),
        },
    }
}

/// Runs the request in a task of its own (under the request's audit context) and keeps its answer.
async fn run(store: Arc<dyn Store>, claim: KeyClaim, request: Request, next: Next) -> Response {
    let (principal, key) = (claim.principal.clone(), claim.key.clone());
    let released = Arc::clone(&store);
    let context = audit::current();
    let task = tokio::spawn(audit::scope(context.clone(), async move {
        // The write's own transaction marks the key committed (`Tx::commit`).
        if let Some(context) = &context {
            context.set_request_key(Some((claim.principal.clone(), claim.key.clone())));
        }
        let response = next.run(request).await;
        if let Some(context) = &context {
            context.set_request_key(None);
        }
        keep(store.as_ref(), &claim, response).await
    }));
    match task.await {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(%error, "an idempotent request's task failed");
            release(released.as_ref(), &principal, &key).await;
            ApiError::internal().into_response()
        }
    }
}

/// Keeps `response` as the key's answer when it is one to keep, else releases the key.
async fn keep(store: &dyn Store, claim: &KeyClaim, response: Response) -> Response {
    if !kept(response.status()) {
        release(store, &claim.principal, &claim.key).await;
        return response;
    }
    let (parts, body) = response.into_parts();
    // Our own answers are built in memory: reading them back does not wait on a client.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::error!(%error, "could not read an answer to keep it");
            release(store, &claim.principal, &claim.key).await;
            return ApiError::internal().into_response();
        }
    };
    if let Ok(text) = std::str::from_utf8(&bytes) {
        let answer = StoredAnswer {
            status: parts.status.as_u16(),
            content_type: header_text(&parts.headers, header::CONTENT_TYPE),
            location: header_text(&parts.headers, header::LOCATION),
            body: text.to_owned(),
        };
        // The write is done either way; a retry meets the claim as in flight until its lease ends.
        if let Err(error) = store
            .finish_key(&claim.principal, &claim.key, &answer)
            .await
        {
            tracing::warn!(%error, "could not keep an idempotent answer");
        }
    } else {
        release(store, &claim.principal, &claim.key).await;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Whether an answer with `status` is kept for the key: not a 5xx (the client may try again), a 408
/// (the request's deadline: its write may still be running, and is kept when it ends) or a 429 (nothing
/// was done).
fn kept(status: StatusCode) -> bool {
    !status.is_server_error()
        && status != StatusCode::REQUEST_TIMEOUT
        && status != StatusCode::TOO_MANY_REQUESTS
}

async fn release(store: &dyn Store, principal: &str, key: &str) {
    if let Err(error) = store.release_key(principal, key).await {
        tracing::warn!(%error, "could not release an idempotency key");
    }
}

/// The kept answer, given again.
fn replay(answer: &StoredAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, answer.body.clone()).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, &answer.content_type),
        (header::LOCATION, &answer.location),
    ] {
        if let Some(value) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(name, value);
        }
    }
    headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Whose keys these are: the token, or the person whatever session they use.
fn owner(principal: &Principal) -> String {
    match principal.credential {
        Credential::Token(id) => format!("token:{}", id.0),
        Credential::Session { user, .. } => format!("user:{}", user.0),
    }
}

/// SHA-256 (lower-case hex) of the method, the path and the body, each ended so that no two requests
/// run together into the same bytes.
fn request_hash(method: &str, path: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(method.as_bytes());
    hash.update(b"\n");
    hash.update(path.as_bytes());
    hash.update(b"\n");
    hash.update(body);
    hex::encode(hash.finalize())
}

/// The key: one header line, 1–255 visible ASCII characters but `"`, bare or as the draft's quoted
/// structured-field string (`"…"`, which names the same key as its bare text). 400 otherwise. Spaces
/// are refused too: HTTP trims them at the ends, so a key of spaces would arrive empty.
fn parse_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let refuse = |why: &str| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-idempotency-key",
            format!("Idempotency-Key {why}"),
        )
    };
    let mut values = headers.get_all(KEY_HEADER).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(refuse("must be sent once"));
    };
    let bytes = value.as_bytes();
    let bytes = match bytes {
        [b'"', inner @ .., b'"'] => inner,
        _ => bytes,
    };
    if bytes.is_empty() {
        return Err(refuse("must not be empty"));
    }
    if bytes.len() > MAX_KEY_CHARS {
        return Err(refuse(&format!(
            "is longer than {MAX_KEY_CHARS} characters"
        )));
    }
    if !bytes.iter().all(|&b| b.is_ascii_graphic() && b != b'"') {
        return Err(refuse(
            "must be visible ASCII characters: no spaces, control characters or quotes inside",
        ));
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// Prunes keys older than [`KEEP`] in a task of its own, at most once every [`PRUNE_EVERY_S`] in this
/// process; an error is logged and the next claim after the interval tries again.
fn prune_now_and_then(store: &Arc<dyn Store>, now: DateTime<Utc>) {
    let last = LAST_PRUNE_S.load(Ordering::Relaxed);
    let now_s = now.timestamp();
    if now_s.saturating_sub(last) < PRUNE_EVERY_S
        || LAST_PRUNE_S
            .compare_exchange(last, now_s, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    let store = Arc::clone(store);
    tokio::spawn(async move {
        match store.prune_keys(now - KEEP).await {
            Ok(pruned) if pruned > 0 => tracing::debug!(pruned, "pruned old idempotency keys"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not prune idempotency keys"),
        }
    });
}

#[cfg(test)]
mod tests;
