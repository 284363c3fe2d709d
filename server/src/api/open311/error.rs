//! Open311's error answer, `[{"code": <HTTP status>, "description": …}]` with that status, and the one
//! mapping of the intake's and the store's errors to it. Open311 has one code for bad input, 400, so
//! every report the intake refuses as a value is a 400; a refused `api_key` is a 403 (the spec's code).
//! Internal causes are logged here and never sent, as in `crate::error`.

use axum::Json;
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::cases::IntakeError;
use crate::store::StoreError;

/// An Open311 error: answered as `[{"code": status, "description": …}]` with that HTTP status.
#[derive(Debug)]
pub struct Open311Error {
    pub(super) status: StatusCode,
    pub(super) description: String,
}

impl Open311Error {
    pub(super) fn new(status: StatusCode, description: impl Into<String>) -> Self {
        Self {
            status,
            description: description.into(),
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
        (self.status, Json(body)).into_response()
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

/// A write the store refused by a rule of the schema keeps its reason (it names no internals); any
/// other store failure is logged and answered 500.
impl From<StoreError> for Open311Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(detail) => Self::new(StatusCode::CONFLICT, detail),
            StoreError::NotFound(what) => Self::not_found(format!("{what} does not exist")),
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
