//! `GET /api/audit`: the audit trail for the auditor (and nobody else: `Permission::ReadAudit`), as
//! JSON or CSV; and the middleware that opens each request's audit context and records refusals.
//!
//! Changes are recorded by the store in their own transactions (`audit.rs`); what this module records
//! itself is what changed nothing: every 401 and 403, and every write request refused for its content or
//! failed (4xx, 5xx), each a row of its own.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::AppQuery;
use crate::audit::{self, Context, Entry, Outcome};
use crate::auth::Auth;
use crate::domain::Permission;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::AuditQuery;

/// Most rows one request returns.
const MAX_LIMIT: u32 = 10_000;
const DEFAULT_LIMIT: u32 = 1_000;
/// The longest user agent kept, in characters.
const MAX_USER_AGENT_CHARS: usize = 256;

/// Opens the request's audit context (address, user agent; authentication names the actor) and, once
/// answered, records a refusal or a failed write.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let user_agent = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(MAX_USER_AGENT_CHARS).collect());
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || request.uri().path().chars().take(200).collect(),
        |p| p.as_str().to_owned(),
    );
    let context = Context::new(address, user_agent);
    let response = audit::scope(Some(context.clone()), next.run(request)).await;
    let status = response.status();
    let writes = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    let outcome = match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Outcome::Denied,
        s if writes && (s.is_client_error() || s.is_server_error()) => Outcome::Failed,
        _ => return response,
    };
    let action = if outcome == Outcome::Denied {
        "http.denied"
    } else {
        "http.failed"
    };
    let method = if writes || outcome == Outcome::Denied {
        method.as_str().to_owned()
    } else {
        "GET".to_owned()
    };
    let entry = Entry::new(
        Some(&context),
        action,
        Some(format!("{method} {route}")),
        outcome,
        Some(status.as_u16().to_string()),
    );
    // Recorded beside the answer, not before it: a refusal never waits for the store.
    audit::record_beside(state.store(), entry);
    response
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Start (inclusive), RFC 3339; default 24 hours ago.
    #[param(value_type = Option<String>, format = DateTime)]
    from: Option<DateTime<Utc>>,
    /// End (exclusive), RFC 3339; default now.
    #[param(value_type = Option<String>, format = DateTime)]
    to: Option<DateTime<Utc>>,
    /// One actor: a token's label or a user's name, or its id.
    actor: Option<String>,
    /// One action: `incident.created`, `http.denied`, `token.revoked`, …
    action: Option<String>,
    /// Rows after this sequence number (for paging).
    after: Option<i64>,
    /// At most this many rows (default 1,000, at most 10,000).
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<u32>,
    /// `csv` for CSV (or send `Accept: text/csv`); JSON otherwise.
    format: Option<String>,
}

#[utoipa::path(get, path = "/api/audit", tag = "audit", params(AuditParams),
    responses((status = 200, description = "the rows, oldest first: JSON `{rows: [{seq, at, actor, address, user_agent, action, target, outcome, detail, prev_hash, hash}]}`, or CSV"),
        (status = 403, description = "not an auditor"), (status = 422)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    AppQuery(params): AppQuery<AuditParams>,
) -> Result<Response, ApiError> {
    auth.require(Permission::ReadAudit)?;
    let now = state.now();
    let to = params.to.unwrap_or(now);
    let from = params.from.unwrap_or(to - chrono::Duration::hours(24));
    if from > to {
        return Err(ApiError::invalid("from must not be after to"));
    }
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::invalid(format!("limit must be 1..={MAX_LIMIT}")));
    }
    let csv = match params.format.as_deref() {
        Some("csv") => true,
        Some("json") => false,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "format {other:?} is not csv or json"
            )));
        }
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv")),
    };
    let query = AuditQuery {
        from,
        to,
        actor: params.actor,
        action: params.action,
        after: params.after.unwrap_or(0),
        limit,
    };
    let rows = state.store().find_audit(&query).await?;
    // Reading the trail is in the trail too: who looked, at what.
    let asked = [
        ("actor", query.actor.as_deref()),
        ("action", query.action.as_deref()),
    ]
    .iter()
    .filter_map(|(k, v)| v.map(|v| format!(" {k}={v}")))
    .collect::<String>();
    audit::record_beside(
        state.store(),
        Entry::new(
            audit::current().as_ref(),
            "audit.read",
            Some(format!(
                "audit:{}..{}",
                query.from.to_rfc3339(),
                query.to.to_rfc3339()
            )),
            Outcome::Ok,
            Some(format!("{} rows{asked}", rows.len())),
        ),
    );
    if csv {
        let mut response = audit::csv(&rows).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        return Ok(response);
    }
    Ok(Json(serde_json::json!({ "rows": rows })).into_response())
}
