//! People's accounts as problems: signing in, changing a password, managing users.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};

use super::ApiError;
use crate::admin::users::UserError;
use crate::identity::{ChangeError, EndError, LoginError, PasswordError};

/// Seconds from now until `until`, at least one: what `Retry-After` says.
fn seconds_until(until: DateTime<Utc>) -> u64 {
    u64::try_from((until - Utc::now()).num_seconds().max(1)).unwrap_or(1)
}

impl From<LoginError> for ApiError {
    fn from(error: LoginError) -> Self {
        let code = super::codes::login(&error);
        let detail = error.to_string();
        let problem = match error {
            LoginError::BadCredentials => {
                Self::new(StatusCode::UNAUTHORIZED, "invalid-credentials", detail)
            }
            LoginError::TotpRequired => {
                Self::new(StatusCode::UNAUTHORIZED, "totp-required", detail)
            }
            LoginError::TotpNotSetUp => Self::new(StatusCode::FORBIDDEN, "totp-not-set-up", detail),
            LoginError::Disabled => Self::new(StatusCode::FORBIDDEN, "account-disabled", detail),
            LoginError::Locked { until } => Self::new(StatusCode::LOCKED, "account-locked", detail)
                .with("locked_until", until.to_rfc3339())
                .retry_after(seconds_until(until)),
            LoginError::AddressLocked { until } => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, "too-many-failures", detail)
                    .with("locked_until", until.to_rfc3339())
                    .retry_after(seconds_until(until))
            }
            LoginError::Store => Self::internal(),
        };
        problem.coded(code)
    }
}

impl From<PasswordError> for ApiError {
    fn from(error: PasswordError) -> Self {
        let code = super::codes::password(&error);
        let detail = error.to_string();
        let problem = match error {
            PasswordError::TooShort { .. }
            | PasswordError::TooSimple { .. }
            | PasswordError::ContainsName
            | PasswordError::TooLong
            | PasswordError::Unchanged => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "weak-password", detail)
            }
        };
        problem.coded(code)
    }
}

impl From<ChangeError> for ApiError {
    fn from(error: ChangeError) -> Self {
        let code = super::codes::change(&error);
        let detail = error.to_string();
        let problem = match error {
            ChangeError::NotAPerson => Self::new(StatusCode::FORBIDDEN, "not-a-session", detail),
            ChangeError::WrongPassword => {
                Self::new(StatusCode::FORBIDDEN, "wrong-password", detail)
            }
            ChangeError::Rules(e) => e.into(),
            ChangeError::Gone => Self::unauthorized(detail),
            ChangeError::Store(e) => e.into(),
        };
        problem.coded(code)
    }
}

impl From<EndError> for ApiError {
    fn from(error: EndError) -> Self {
        let code = super::codes::end(&error);
        let problem = match error {
            EndError::NotYours(id) => Self::not_found(format!("session {id}")),
            EndError::Store(e) => e.into(),
        };
        problem.coded(code)
    }
}

impl From<UserError> for ApiError {
    fn from(error: UserError) -> Self {
        let code = super::codes::user(&error);
        let detail = error.to_string();
        let problem = match error {
            UserError::BadName(_)
            | UserError::BadDisplayName
            | UserError::MachineOnly(_)
            | UserError::TotpRequired(_)
            | UserError::NoWorkerOrScope => Self::invalid(detail),
            UserError::AuditorByCommandLine => Self::forbidden(detail),
            UserError::Reach(e) => e.into(),
            UserError::Password(e) => e.into(),
            UserError::Access(e) => e.into(),
            UserError::Store(e) => e.into(),
        };
        problem.coded(code)
    }
}
