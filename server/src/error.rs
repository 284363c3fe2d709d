//! `ApiError`: every failure a client can see, as RFC 9457 `application/problem+json`.
//!
//! Each problem has a stable `type` (`/problems/<slug>`) clients can switch on. Internal causes are
//! logged with `tracing` and never sent: a client sees "internal error", not SQL or a file path.
//!
//! This is the one place the services' errors become HTTP (Open311 has its own, in
//! `api/open311/error.rs`): services return their own enums naming the value refused and why, and
//! never pick a status or a slug. Here: the extractors' rejections, [`StoreError`], [`LocateError`]
//! and the shared [`AccessError`] (404 / 403); in [`cases`] the workflow's, the intake's, an action's
//! and a photo's; in [`admin`] the reference data's (workers, regions, categories, tokens,
//! buildings); in [`field`] positions', patrols' and cameras'; in [`plans`] boundary plans'; in [`identity`] signing in, passwords and people's accounts. The
//! `detail` of a client's error is the domain error's own message. Each mapping is a `match` with
//! every variant named and has a unit test written out by hand.

mod admin;
mod alarms;
mod cases;
mod codes;
mod field;
mod identity;
mod plans;

#[cfg(test)]
mod tests;

use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::api::limits::TimedOut;
use crate::domain::AccessError;
use crate::store::StoreError;
use crate::throttle::Refused;
use crate::world::LocateError;

/// What a client is told when the store is full (the cause, with SQL's own words, stays in the log).
pub(crate) const STORE_FULL: &str =
    "the server's storage is full; nothing was stored, send it again later";

/// The extension member of a 429 that says how many seconds to wait (and its `Retry-After` header).
const RETRY_AFTER_S: &str = "retry_after_s";
/// Seconds a client is asked to wait before sending again what was refused as unavailable.
const RETRY_UNAVAILABLE_S: u64 = 2;

/// A problem to report to the client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable slug; the problem `type` is `/problems/{slug}`.
    pub slug: &'static str,
    pub detail: String,
    /// Extension members merged into the problem object (e.g. `errors`, `current_state`).
    pub extra: Map<String, Value>,
    /// Seconds to send in `Retry-After` (a lockout, a rate limit).
    pub retry_after_s: Option<u64>,
}

impl ApiError {
    #[must_use]
    pub fn new(status: StatusCode, slug: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            slug,
            detail: detail.into(),
            extra: Map::new(),
            retry_after_s: None,
        }
    }

    /// Says in `Retry-After` when to try again.
    #[must_use]
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_s = Some(seconds);
        self
    }

    /// Adds an extension member.
    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    /// Adds the `code` member: which refusal this is, one per domain error variant (`snake_case`),
    /// for a page to say in its own language with the other members as its values.
    #[must_use]
    pub fn code(self, code: &'static str) -> Self {
        self.with("code", code)
    }

    /// Adds a `code` and its members (`codes`); members already set stay as they are.
    fn coded(mut self, code: codes::Code) -> Self {
        if let Some((code, Value::Object(members))) = code {
            self.extra.insert("code".to_owned(), Value::from(code));
            for (key, value) in members {
                self.extra.entry(key).or_insert(value);
            }
        }
        self
    }

    /// 422 `invalid-input`: the request is well-formed but a value is wrong.
    #[must_use]
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-input", detail)
    }

    /// 422 `invalid-geometry`: a polygon that is not a valid simple polygon in range.
    #[must_use]
    pub fn geometry(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-geometry", detail)
    }

    #[must_use]
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("{what} does not exist"),
        )
    }

    #[must_use]
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    #[must_use]
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    #[must_use]
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", detail)
    }

    /// 503 `unavailable`, with `Retry-After`: the server cannot take the request now (it is shutting
    /// down, or the store is unreachable); nothing was stored, so it may be sent again.
    #[must_use]
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
            .retry_after(RETRY_UNAVAILABLE_S)
    }

    /// 507 `insufficient-storage`: the server's disk (or its database's) is full; nothing was stored,
    /// and the same request succeeds once there is room.
    #[must_use]
    pub fn insufficient_storage(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "insufficient-storage",
            detail,
        )
    }

    pub(crate) fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the server log",
        )
    }

    /// The `retry_after_s` member of a 429, for its `Retry-After` header.
    fn extra_retry_after(&self) -> Option<u64> {
        self.extra.get(RETRY_AFTER_S).and_then(Value::as_u64)
    }

    /// 500 for a failure that is the server's, not the client's: `cause` is logged here, once, and
    /// never sent.
    fn internal_failure(cause: &str) -> Self {
        tracing::error!(error = cause, "internal failure");
        Self::internal()
    }
}

/// The body of every problem response (RFC 9457), and the `Problem` schema of the OpenAPI document:
/// the four standard members, then a handler's extension members (`field`, `errors`, `index`, …).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `/problems/<slug>`: stable, for clients to switch on.
    #[serde(rename = "type")]
    #[schema(example = "/problems/not-found")]
    pub kind: String,
    /// The status's reason phrase.
    pub title: String,
    /// The HTTP status, repeated.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// What was wrong, for a person to read.
    pub detail: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = self.extra_retry_after();
        let body = Problem {
            kind: format!("/problems/{}", self.slug),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
            extra: self.extra,
        };
        let mut response = (self.status, Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        // When to come back, in whole seconds: a 429's budget (RFC 6585 §4), a lockout's end.
        let retry_after = retry_after.filter(|_| self.status == StatusCode::TOO_MANY_REQUESTS);
        if let Some(seconds) = self.retry_after_s.or(retry_after) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"gridwatch\""),
            );
        }
        response
    }
}

/// 429 `rate-limited`: the client spent its budget (`crate::throttle`); `retry_after_s` (also the
/// `Retry-After` header) says when the next request is taken. Nothing was done.
impl From<Refused> for ApiError {
    fn from(refused: Refused) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            refused.to_string(),
        )
        .with(RETRY_AFTER_S, refused.retry_after_s())
    }
}

/// 408 `request-timeout`: the request (its body and the work for it) took longer than the server
/// allows (`api::limits`).
impl From<TimedOut> for ApiError {
    fn from(timed_out: TimedOut) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "request-timeout",
            timed_out.to_string(),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(detail) => Self::conflict(detail),
            StoreError::NotFound(what) => Self::not_found(what),
            full @ StoreError::Full { .. } => {
                tracing::error!(error = %full, "store full");
                Self::insufficient_storage(STORE_FULL)
            }
            // 503 `outcome-unknown`: the database may have committed (the cause is logged).
            unknown @ StoreError::OutcomeUnknown(_) => {
                tracing::error!(error = %unknown, "commit outcome unknown");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "outcome-unknown",
                    "the database was asked to commit this write and could not say whether it did; \
                     look for it before sending it again",
                )
                .retry_after(RETRY_UNAVAILABLE_S)
            }
            // 503 `store-unavailable`: the database cannot be reached or is too slow; try again.
            unreachable if unreachable.is_unreachable() => {
                tracing::warn!(error = %unreachable, "the store could not take a request");
                let detail = match unreachable {
                    StoreError::Unavailable(_) => unreachable.to_string(),
                    // The driver's own words stay in the log.
                    _ => "the database could not be reached; send it again shortly".to_owned(),
                };
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "store-unavailable", detail)
                    .retry_after(RETRY_UNAVAILABLE_S)
            }
            other => {
                tracing::error!(error = %other, "store failure");
                Self::internal()
            }
        }
    }
}

/// 404 `not-found` and 403 `forbidden`, for every service.
impl From<AccessError> for ApiError {
    fn from(error: AccessError) -> Self {
        let detail = error.to_string();
        match error {
            AccessError::NotFound(_) => Self::new(StatusCode::NOT_FOUND, "not-found", detail),
            AccessError::OutOfScope(_) => Self::forbidden(detail),
        }
    }
}

impl From<LocateError> for ApiError {
    fn from(error: LocateError) -> Self {
        let problem = Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-coordinate",
            error.to_string(),
        );
        // A NaN or an infinity is no JSON number: the value goes as text.
        let value = |v: f64| {
            serde_json::Number::from_f64(v).map_or(Value::from(v.to_string()), Value::Number)
        };
        match error {
            LocateError::Latitude(v) => problem
                .code("invalid_latitude")
                .with("field", "lat")
                .with("value", value(v)),
            LocateError::Longitude(v) => problem
                .code("invalid_longitude")
                .with("field", "lon")
                .with("value", value(v)),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let (slug, code) = match &rejection {
            JsonRejection::JsonSyntaxError(_) => ("malformed-json", "malformed_json"),
            JsonRejection::JsonDataError(_) => ("invalid-input", "invalid_json_data"),
            JsonRejection::MissingJsonContentType(_) => {
                ("unsupported-media-type", "json_content_type_required")
            }
            _ if status == StatusCode::PAYLOAD_TOO_LARGE => ("body-too-large", "body_too_large"),
            _ => ("bad-request", "unreadable_body"),
        };
        Self::new(status, slug, rejection.body_text()).code(code)
    }
}

/// A raw body that could not be read: over the body limit (413) or cut off.
impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        let status = rejection.status();
        let (slug, code) = if status == StatusCode::PAYLOAD_TOO_LARGE {
            ("body-too-large", "body_too_large")
        } else {
            ("bad-request", "unreadable_body")
        };
        Self::new(status, slug, rejection.body_text()).code(code)
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            rejection.body_text(),
        )
        .code("invalid_query")
    }
}

/// A fallback for unknown paths, so even a 404 is problem+json.
pub async fn not_found_fallback(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no-route",
        format!("no route for {}", uri.path()),
    )
}
