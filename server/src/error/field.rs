//! The field services' errors as problems: positions, patrols, cameras.

use axum::http::StatusCode;
use serde_json::json;

use super::ApiError;
use crate::cameras::CameraError;
use crate::patrols::PatrolError;
use crate::tracking::PositionError;

impl From<PositionError> for ApiError {
    fn from(error: PositionError) -> Self {
        let code = super::codes::position(&error);
        let detail = error.to_string();
        let problem = match error {
            PositionError::Empty | PositionError::TooMany(_) => Self::invalid(detail),
            PositionError::Refused { fixes, .. } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-position", detail).with(
                    "errors",
                    fixes
                        .iter()
                        .map(|f| json!({"index": f.index, "reason": f.reason.to_string()}))
                        .collect::<Vec<_>>(),
                )
            }
            PositionError::WriterStopped | PositionError::StoreRefused => Self::unavailable(detail),
            PositionError::StoreFull => Self::insufficient_storage(detail),
        };
        problem.coded(code)
    }
}

impl From<PatrolError> for ApiError {
    fn from(error: PatrolError) -> Self {
        let code = super::codes::patrol(&error);
        let detail = error.to_string();
        let problem = match error {
            PatrolError::Access(e) => e.into(),
            PatrolError::AlreadyOnPatrol { patrol, .. } => {
                Self::conflict(detail).with("patrol_id", patrol.0)
            }
            PatrolError::AlreadyEnded { .. } => Self::conflict(detail),
            PatrolError::Store(e) => e.into(),
        };
        problem.coded(code)
    }
}

impl From<CameraError> for ApiError {
    fn from(error: CameraError) -> Self {
        let code = super::codes::camera(&error);
        let detail = error.to_string();
        let problem = match error {
            CameraError::Access(e) => e.into(),
            CameraError::Invalid(e) => Self::invalid(detail).with("field", e.field),
            CameraError::Unchanged => Self::invalid(detail),
            CameraError::OutOfScope { .. } => Self::forbidden(detail),
            CameraError::Store(e) => e.into(),
        };
        problem.coded(code)
    }
}
