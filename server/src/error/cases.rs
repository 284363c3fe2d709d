//! Cases' errors as problems: the workflow's, the intake's, an action's and a photo's. Each carries a
//! `code` (one per variant) and the variant's values as members, so a page says it in its language.

use axum::http::StatusCode;
use serde_json::json;

use super::ApiError;
use crate::cases::intake::MAX_DESCRIPTION_CHARS;
use crate::cases::photos::{MAX_PHOTO_BYTES, MAX_PHOTOS_PER_CASE};
use crate::cases::{ActionError, IntakeError, PhotoError};
use crate::domain::incident::{MAX_TEXT_CHARS, WorkflowError};

impl From<WorkflowError> for ApiError {
    fn from(error: WorkflowError) -> Self {
        let detail = error.to_string();
        match error {
            WorkflowError::IllegalTransition {
                action,
                status,
                allowed,
            } => Self::new(StatusCode::CONFLICT, "illegal-transition", detail)
                .code("illegal_transition")
                .with("action", action)
                .with("current_state", status.as_str())
                .with("allowed_actions", json!(allowed)),
            WorkflowError::NotAllowed { action, role, .. } => {
                Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
                    .code("action_not_allowed")
                    .with("action", action)
                    .with("role", role.as_str())
            }
            WorkflowError::SelfVerification => {
                Self::new(StatusCode::FORBIDDEN, "self-verification", detail)
                    .code("self_verification")
            }
            WorkflowError::AlreadyAtTop => {
                Self::new(StatusCode::CONFLICT, "already-at-top", detail).code("already_at_top")
            }
            WorkflowError::ReasonRequired { action } => Self::invalid(detail)
                .code("reason_required")
                .with("action", action)
                .with("field", "reason"),
            WorkflowError::ReasonTooLong { action, chars } => Self::invalid(detail)
                .code("reason_too_long")
                .with("action", action)
                .with("chars", chars)
                .with("max", MAX_TEXT_CHARS),
            WorkflowError::InvalidDeadline => Self::invalid(detail)
                .code("invalid_deadline")
                .with("field", "until"),
            WorkflowError::MergeIntoSelf => Self::invalid(detail)
                .code("merge_into_self")
                .with("field", "into"),
        }
    }
}

impl From<IntakeError> for ApiError {
    fn from(error: IntakeError) -> Self {
        let detail = error.to_string();
        match error {
            IntakeError::DescriptionTooLong { chars } => Self::invalid(detail)
                .code("description_too_long")
                .with("field", "description")
                .with("chars", chars)
                .with("max", MAX_DESCRIPTION_CHARS),
            IntakeError::NoCity => Self::invalid(detail).code("no_city"),
            IntakeError::DeadlineOutOfRange => Self::invalid(detail).code("deadline_out_of_range"),
            IntakeError::UnknownCategory(category) => Self::invalid(detail)
                .code("unknown_category")
                .with("field", "category")
                .with("value", category),
            IntakeError::RetiredCategory(category) => Self::invalid(detail)
                .code("retired_category")
                .with("field", "category")
                .with("value", category),
            IntakeError::Coordinate(e) => e.into(),
            IntakeError::OutsideManagedArea {
                distance_m, max_m, ..
            } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "outside-managed-area",
                detail,
            )
            .code("outside_managed_area")
            .with("distance_m", distance_m.round())
            .with("max_m", max_m.round()),
            IntakeError::ShuttingDown => Self::unavailable(detail).code("shutting_down"),
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
            ActionError::Stale(id) => Self::conflict(detail)
                .code("stale")
                .with("slug", "stale")
                .with("incident", id.0),
            ActionError::UnknownWorker(worker) => Self::invalid(detail)
                .code("unknown_worker")
                .with("field", "to")
                .with("value", worker.0),
            ActionError::UnknownMergeTarget(into) => Self::invalid(detail)
                .code("unknown_merge_target")
                .with("field", "into")
                .with("value", into.0),
            ActionError::MergeTargetClosed { into, status } => Self::conflict(detail)
                .code("merge_target_closed")
                .with("into", into.0)
                .with("current_state", status.as_str()),
            ActionError::Store(e) => e.into(),
        }
    }
}

impl From<PhotoError> for ApiError {
    fn from(error: PhotoError) -> Self {
        let detail = error.to_string();
        match error {
            PhotoError::Empty => Self::invalid(detail)
                .code("photo_empty")
                .with("field", "photo"),
            PhotoError::TooLarge { bytes } => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", detail)
                    .code("photo_too_large")
                    .with("bytes", bytes)
                    .with("max", MAX_PHOTO_BYTES)
            }
            PhotoError::NotAnImage => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                detail,
            )
            .code("not_an_image"),
            PhotoError::Access(e) => e.into(),
            PhotoError::CaseClosed { status, .. } => Self::conflict(detail)
                .code("case_closed")
                .with("current_state", status.as_str()),
            PhotoError::AlreadyAttached { sha256, .. } => Self::conflict(detail)
                .code("photo_already_attached")
                .with("sha256", sha256),
            PhotoError::CaseFull { .. } => Self::conflict(detail)
                .code("case_full")
                .with("max", MAX_PHOTOS_PER_CASE),
            PhotoError::Store(e) => e.into(),
        }
    }
}
