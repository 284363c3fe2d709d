//! Alarms' errors as problems: not found / out of scope as every other subject (404 / 403), and an
//! alarm someone else acknowledged first (409 `already-acknowledged`, saying by whom and when).

use axum::http::StatusCode;
use serde_json::json;

use super::ApiError;
use crate::alarms::AlarmError;

impl From<AlarmError> for ApiError {
    fn from(error: AlarmError) -> Self {
        let code = super::codes::alarm(&error);
        let detail = error.to_string();
        let problem = match error {
            AlarmError::Access(e) => e.into(),
            AlarmError::AlreadyAcknowledged { id, by, at } => {
                Self::new(StatusCode::CONFLICT, "already-acknowledged", detail)
                    .with("alarm", id.to_string())
                    .with("by", json!(by))
                    .with("at", json!(at))
            }
            AlarmError::Store(e) => e.into(),
        };
        problem.coded(code)
    }
}
