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
//! buildings); in [`field`] positions', patrols' and cameras'; in [`plans`] boundary plans'. The
//! `detail` of a client's error is the domain error's own message. Each mapping is a `match` with
//! every variant named and has a unit test written out by hand.

mod admin;
mod cases;
mod field;
mod plans;

#[cfg(test)]
mod tests;

use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::domain::AccessError;
use crate::store::StoreError;
use crate::world::LocateError;

/// A problem to report to the client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable slug; the problem `type` is `/problems/{slug}`.
    pub slug: &'static str,
    pub detail: String,
    /// Extension members merged into the problem object (e.g. `errors`, `current_state`).
    pub extra: Map<String, Value>,
}

impl ApiError {
    #[must_use]
    pub fn new(status: StatusCode, slug: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            slug,
            detail: detail.into(),
            extra: Map::new(),
        }
    }

    /// Adds an extension member.
    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
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

    /// 503 `unavailable`: the server cannot take the request now (it is shutting down); nothing was
    /// stored, so it may be sent again.
    #[must_use]
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
    }

    pub(crate) fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the server log",
        )
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
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"gridwatch\""),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(detail) => Self::conflict(detail),
            StoreError::NotFound(what) => Self::not_found(what),
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
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-coordinate",
            error.to_string(),
        )
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let slug = match &rejection {
            JsonRejection::JsonSyntaxError(_) => "malformed-json",
            JsonRejection::JsonDataError(_) => "invalid-input",
            JsonRejection::MissingJsonContentType(_) => "unsupported-media-type",
            _ if status == StatusCode::PAYLOAD_TOO_LARGE => "body-too-large",
            _ => "bad-request",
        };
        Self::new(status, slug, rejection.body_text())
    }
}

/// A raw body that could not be read: over the body limit (413) or cut off.
impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        let status = rejection.status();
        let slug = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "body-too-large"
        } else {
            "bad-request"
        };
        Self::new(status, slug, rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            rejection.body_text(),
        )
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
