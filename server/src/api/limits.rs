//! What one request may cost: how long it may take ([`Limits::request_timeout`]) and how many requests
//! per client address the public writes and position endpoints take ([`Limits`]'s rates).
//!
//! Owns the middleware and the limiters, built once per router by `app_with`. Which route spends which
//! budget is written in `api.rs` beside the route. Must not pick statuses: a refusal is a
//! [`Refused`](crate::throttle::Refused) or a [`TimedOut`], mapped in `error.rs` (Open311's in its own
//! renderer).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::throttle::{Per, PerAddress, Rate, Refused};

/// What a request may cost. `Default` is what `gridwatch serve` runs with unless told otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest a request may take from its complete head to its response's head: reading its body and
    /// the handler's work. Not `/ws` (the upgrade answers at once; the socket lives on) and not the
    /// download of a response body (streamed after the head). Photo uploads get [`Self::upload_timeout`].
    pub request_timeout: Duration,
    /// The same for `POST /api/incidents/{id}/photos`: 10 MiB from a phone on a weak signal.
    pub upload_timeout: Duration,
    /// `POST /open311/v2/requests.json`, per client address.
    pub open311: Rate,
    /// `POST /api/incidents/{id}/photos`, per client address.
    pub photos: Rate,
    /// `POST /api/positions` and `/osmand` (GET and POST), per client address.
    pub positions: Rate,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            upload_timeout: Duration::from_mins(5),
            // A resident files a handful of reports; an app that files for many from one address
            // raises this.
            open311: Rate::every(30, Per::Minute),
            photos: Rate::every(20, Per::Minute),
            // A tracker sends a fix every second or so: twenty of them behind one address (a depot's
            // NAT) stay under this; a batch of any size is one request.
            positions: Rate::every(1200, Per::Minute),
        }
    }
}

/// The limiters of one router, shared by its routes.
#[derive(Clone)]
pub(crate) struct Budgets {
    pub open311: Arc<PerAddress>,
    pub photos: Arc<PerAddress>,
    pub positions: Arc<PerAddress>,
}

impl Budgets {
    pub fn new(limits: &Limits) -> Self {
        Self {
            open311: Arc::new(PerAddress::new(limits.open311)),
            photos: Arc::new(PerAddress::new(limits.photos)),
            positions: Arc::new(PerAddress::new(limits.positions)),
        }
    }
}

/// Spends one request of the client address's budget; over it, `E`'s 429 (problem+json, or Open311's
/// error array on `/open311`), with `Retry-After`. The address is the connection's peer
/// (`ConnectInfo`, set by `transport`); behind a reverse proxy every client shares the proxy's.
pub(crate) async fn spend<E>(
    State(budget): State<Arc<PerAddress>>,
    request: Request,
    next: Next,
) -> Response
where
    E: From<Refused> + IntoResponse,
{
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr);
    match budget.check(peer) {
        Ok(()) => next.run(request).await,
        Err(refused) => E::from(refused).into_response(),
    }
}

/// A request that took longer than its budget: nothing more is done for it (a write already handed to
/// `Core::write` still commits; its step runs as a task of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the request took longer than {} ms", .after.as_millis())]
pub struct TimedOut {
    pub after: Duration,
}

/// Bounds the time to the response's head by [`Limits::request_timeout`] (uploads: `upload_timeout`),
/// except for `/ws`.
pub(crate) async fn deadline(
    State(limits): State<Limits>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let upload = request.method() == Method::POST;
    let after = match route {
        Some("/ws") => None,
        Some("/api/incidents/{id}/photos") if upload => Some(limits.upload_timeout),
        _ => Some(limits.request_timeout),
    };
    let Some(after) = after else {
        return next.run(request).await;
    };
    let open311 = route.is_some_and(|r| r.starts_with("/open311/"));
    match tokio::time::timeout(after, next.run(request)).await {
        Ok(response) => response,
        // Open311 clients read only its error array.
        Err(_) if open311 => super::open311::Open311Error::from(TimedOut { after }).into_response(),
        Err(_) => crate::error::ApiError::from(TimedOut { after }).into_response(),
    }
}
