//! Cases' errors as problems: the workflow's, the intake's, an action's and a photo's.

use axum::http::StatusCode;
use serde_json::json;

use super::ApiError;
use crate::cases::{ActionError, IntakeError, PhotoError};
use crate::domain::incident::WorkflowError;

impl From<WorkflowError> for ApiError {
    fn from(error: WorkflowError) -> Self {
        let detail = error.to_string();
        match error {
            WorkflowError::IllegalTransition {
                action,
                status,
                allowed,
            } => Self::new(StatusCode::CONFLICT, "illegal-transition", detail)
                .with("action", action)
                .with("current_state", status.as_str())
                .with("allowed_actions", json!(allowed)),
            WorkflowError::NotAllowed { action, .. } => {
                Self::new(StatusCode::FORBIDDEN, "forbidden", detail).with("action", action)
            }
            WorkflowError::SelfVerification => {
                Self::new(StatusCode::FORBIDDEN, "self-verification", detail)
            }
            WorkflowError::AlreadyAtTop => {
                Self::new(StatusCode::CONFLICT, "already-at-top", detail)
            }
            WorkflowError::ReasonRequired { .. }
            | WorkflowError::ReasonTooLong { .. }
            | WorkflowError::InvalidDeadline
            | WorkflowError::MergeIntoSelf => Self::invalid(detail),
        }
    }
}

impl From<IntakeError> for ApiError {
    fn from(error: IntakeError) -> Self {
        let detail = error.to_string();
        match error {
            IntakeError::DescriptionTooLong { .. }
            | IntakeError::NoCity
            | IntakeError::DeadlineOutOfRange => Self::invalid(detail),
            IntakeError::UnknownCategory(_) | IntakeError::RetiredCategory(_) => {
                Self::invalid(detail).with("field", "category")
            }
            IntakeError::Coordinate(e) => e.into(),
            IntakeError::OutsideManagedArea { .. } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "outside-managed-area",
                detail,
            ),
            IntakeError::ShuttingDown => Self::unavailable(detail),
            IntakeError::AutoDispatch(_) | IntakeError::Unanswered => {
                Self::internal_failure(&detail)
            }
            IntakeError::Store(e) => e.into(),
        }
    }
}

impl From<ActionError> for ApiError {
    fn from(error: ActionError) -> Self {
        let detail = error.to_string();
        match error {
            ActionError::Access(e) => e.into(),
            ActionError::Workflow(e) => e.into(),
            // A conflict like any other to a client; `slug` tells the scheduler's guard apart.
            ActionError::Stale(_) => Self::conflict(detail).with("slug", "stale"),
            ActionError::UnknownWorker(_) => Self::invalid(detail).with("field", "to"),
            ActionError::UnknownMergeTarget(_) => Self::invalid(detail).with("field", "into"),
            ActionError::MergeTargetClosed { status, .. } => {
                Self::conflict(detail).with("current_state", status.as_str())
            }
            ActionError::Store(e) => e.into(),
        }
    }
}

impl From<PhotoError> for ApiError {
    fn from(error: PhotoError) -> Self {
        let detail = error.to_string();
        match error {
            PhotoError::Empty => Self::invalid(detail).with("field", "photo"),
            PhotoError::TooLarge { .. } => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", detail)
            }
            PhotoError::NotAnImage => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                detail,
            ),
            PhotoError::Access(e) => e.into(),
            PhotoError::CaseClosed { status, .. } => {
                Self::conflict(detail).with("current_state", status.as_str())
            }
            PhotoError::AlreadyAttached { sha256, .. } => {
                Self::conflict(detail).with("sha256", sha256)
            }
            PhotoError::CaseFull { .. } => Self::conflict(detail),
            PhotoError::Store(e) => e.into(),
        }
    }
}
