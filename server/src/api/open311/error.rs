//! Open311's error answer, `[{"code": <HTTP status>, "description": …}]` with that status, and the one
//! mapping of the intake's and the store's errors to it. Open311 has one code for bad input, 400, so
//! every report the intake refuses as a value is a 400; a refused `api_key` is a 403 (the spec's code).
//! Internal causes are logged here and never sent, as in `crate::error`.

use axum::Json;
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::api::limits::TimedOut;
use crate::cases::IntakeError;
use crate::store::StoreError;
use crate::throttle::Refused;

/// An Open311 error: answered as `[{"code": status, "description": …}]` with that HTTP status.
#[derive(Debug)]
pub struct Open311Error {
    pub(super) status: StatusCode,
    pub(super) description: String,
    /// A 429's `Retry-After`, in seconds.
    retry_after_s: Option<u64>,
}

impl Open311Error {
    pub(super) fn new(status: StatusCode, description: impl Into<String>) -> Self {
        Self {
            status,
            description: description.into(),
            retry_after_s: None,
        }
    }

    /// 400: a missing or invalid parameter.
    pub(super) fn bad(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, description)
    }

    pub(super) fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, description)
    }

    /// 403: the spec's code for a missing or invalid `api_key`.
    pub(super) fn forbidden(description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, description)
    }

    /// 500 for the server's own failure: `cause` is logged, never sent.
    fn internal(cause: &str) -> Self {
        tracing::error!(error = cause, "internal failure");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; see the server log",
        )
    }
}

/// One item of Open311's error answer, `[{"code": <HTTP status>, "description": …}]`: the body
/// `Open311Error` sends and its schema in the OpenAPI document.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Open311ErrorItem {
    /// The HTTP status, repeated.
    code: u16,
    description: String,
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        let body = [Open311ErrorItem {
            code: self.status.as_u16(),
            description: self.description,
        }];
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after_s {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// 408: the request took longer than the server allows (`api::limits`).
impl From<TimedOut> for Open311Error {
    fn from(timed_out: TimedOut) -> Self {
        Self::new(StatusCode::REQUEST_TIMEOUT, timed_out.to_string())
    }
}

/// 429: the client address spent its budget of requests (`crate::throttle`); `Retry-After` says when
/// the next is taken. Open311 has no code of its own for it, so the HTTP status is the code.
impl From<Refused> for Open311Error {
    fn from(refused: Refused) -> Self {
        Self {
            retry_after_s: Some(refused.retry_after_s()),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, refused.to_string())
        }
    }
}

/// A report the intake refused: its message is the description, safe to send.
impl From<IntakeError> for Open311Error {
    fn from(error: IntakeError) -> Self {
        let description = error.to_string();
        match error {
            IntakeError::DescriptionTooLong { .. }
            | IntakeError::UnknownCategory(_)
            | IntakeError::RetiredCategory(_)
            | IntakeError::Coordinate(_)
            | IntakeError::NoCity
            | IntakeError::OutsideManagedArea { .. }
            | IntakeError::DeadlineOutOfRange => Self::bad(description),
            IntakeError::ShuttingDown => Self::new(StatusCode::SERVICE_UNAVAILABLE, description),
            IntakeError::AutoDispatch(_) | IntakeError::Unanswered => Self::internal(&description),
            IntakeError::Store(e) => e.into(),
        }
    }
}

/// A write the store refused by a rule of the schema keeps its reason (it names no internals); a full
/// disk is a 507, as in the rest of the API; any other store failure is logged and answered 500.
impl From<StoreError> for Open311Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(detail) => Self::new(StatusCode::CONFLICT, detail),
            StoreError::NotFound(what) => Self::not_found(format!("{what} does not exist")),
            full @ StoreError::Full { .. } => {
                tracing::error!(error = %full, "store full");
                Self::new(StatusCode::INSUFFICIENT_STORAGE, crate::error::STORE_FULL)
            }
            // The database cannot be reached or is too slow: try again (the driver's words are logged).
            unreachable if unreachable.is_unreachable() => {
                tracing::warn!(error = %unreachable, "the store could not take a request");
                let description = match unreachable {
                    StoreError::Unavailable(_) => unreachable.to_string(),
                    _ => "the database could not be reached; send it again shortly".to_owned(),
                };
                Self {
                    retry_after_s: Some(2),
                    ..Self::new(StatusCode::SERVICE_UNAVAILABLE, description)
                }
            }
            other => Self::internal(&other.to_string()),
        }
    }
}

impl From<FormRejection> for Open311Error {
    fn from(rejection: FormRejection) -> Self {
        Self::new(rejection.status(), rejection.body_text())
    }
}

/// A resource name that is not UTF-8 once percent-decoded.
impl From<PathRejection> for Open311Error {
    fn from(rejection: PathRejection) -> Self {
        Self::bad(rejection.body_text())
    }
}

impl From<QueryRejection> for Open311Error {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad(rejection.body_text())
    }
}

#[cfg(test)]
mod tests;
