//! `/api/users`: administrators manage people's accounts within their own reach (`admin::users`, the
//! token rules). A generated one-time password and a TOTP secret are shown once, in the answer that
//! made them; a password hash never leaves the store.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use super::{AppJson, AppPath};
use crate::admin::users::{self, Change, Issued, Request, Reset};
use crate::auth::Auth;
use crate::domain::{Permission, Role, UserId, UserStatus, WorkerId};
use crate::error::ApiError;
use crate::identity::totp;
use crate::state::AppState;
use crate::store::UserRecord;

/// An account as lists show it: never its password hash or TOTP secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserInfo {
    id: UserId,
    /// The login name (lower case).
    name: String,
    display_name: String,
    role: Role,
    /// `region:<id>` / `grid:<id>`; empty means unrestricted.
    scopes: Vec<String>,
    worker_id: Option<WorkerId>,
    status: UserStatus,
    /// Whether the account signs in with a TOTP code.
    totp: bool,
    must_change_password: bool,
    failed_attempts: u32,
    #[schema(value_type = Option<String>, format = DateTime)]
    locked_until: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    last_login_at: Option<DateTime<Utc>>,
    #[schema(value_type = String, format = DateTime)]
    created_at: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    updated_at: DateTime<Utc>,
}

impl From<&UserRecord> for UserInfo {
    fn from(u: &UserRecord) -> Self {
        Self {
            id: u.id,
            name: u.name.clone(),
            display_name: u.display_name.clone(),
            role: u.role,
            scopes: u.scopes.iter().map(ToString::to_string).collect(),
            worker_id: u.worker,
            status: u.status,
            totp: u.totp_secret.is_some(),
            must_change_password: u.must_change_password,
            failed_attempts: u.failed_attempts,
            locked_until: u.locked_until,
            last_login_at: u.last_login_at,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// An account with what is shown only once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedUser {
    user: UserInfo,
    /// The generated password, to hand to the person; it must be changed at first sign-in.
    one_time_password: Option<String>,
    /// The new TOTP secret (base32) for the person's authenticator app.
    totp_secret: Option<String>,
    /// The same secret as an `otpauth://` URI (for a QR code).
    totp_uri: Option<String>,
}

impl From<Issued> for IssuedUser {
    fn from(issued: Issued) -> Self {
        let totp_uri = issued
            .totp_secret
            .as_ref()
            .map(|s| totp::uri(s, &issued.user.name));
        Self {
            user: UserInfo::from(&issued.user),
            one_time_password: issued.one_time_password,
            totp_secret: issued.totp_secret,
            totp_uri,
        }
    }
}

/// An account to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// 1 to 64 of a-z, 0-9, `.`, `_`, `-`, `@` (stored lower case).
    name: String,
    display_name: Option<String>,
    /// A person's role: admin, planner, commander or worker (auditors: the command line only).
    role: Role,
    #[serde(default)]
    scopes: Vec<String>,
    worker_id: Option<WorkerId>,
    /// Absent: a one-time password is generated and returned.
    password: Option<String>,
    /// Default true: the person chooses a new password at first sign-in.
    must_change_password: Option<bool>,
    /// Issue a TOTP secret where the role does not need one (admins always get one).
    #[serde(default)]
    totp: bool,
}

#[utoipa::path(post, path = "/api/users", tag = "auth", request_body = CreateUser,
    responses((status = 201, body = IssuedUser),
        (status = 403, description = "not an admin, more role or scope than the caller's own, or an auditor"),
        (status = 404, description = "no such worker, region or grid"),
        (status = 409, description = "the name is taken"), (status = 422)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<CreateUser>,
) -> Result<(StatusCode, Json<IssuedUser>), ApiError> {
    auth.require(Permission::ManageUsers)?;
    let request = Request {
        name: body.name,
        display_name: body.display_name,
        role: body.role,
        scopes: body.scopes,
        worker: body.worker_id,
        password: body.password,
        must_change_password: body.must_change_password,
        totp: body.totp,
    };
    let issued = users::create(state.core(), Some(&auth.0), request).await?;
    Ok((StatusCode::CREATED, Json(issued.into())))
}

#[utoipa::path(get, path = "/api/users", tag = "auth",
    responses((status = 200, description = "every account within the caller's reach, by id", body = Vec<UserInfo>),
        (status = 403)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<UserInfo>>, ApiError> {
    auth.require(Permission::ManageUsers)?;
    let all = users::list(state.core(), Some(&auth.0)).await?;
    Ok(Json(all.iter().map(UserInfo::from).collect()))
}

#[utoipa::path(get, path = "/api/users/{id}", tag = "auth", params(("id" = i64, Path)),
    responses((status = 200, body = UserInfo), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn one(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
) -> Result<Json<UserInfo>, ApiError> {
    auth.require(Permission::ManageUsers)?;
    let user = users::one(state.core(), Some(&auth.0), UserId(id)).await?;
    Ok(Json(UserInfo::from(&user)))
}

/// Fields to change; absent ones stay. `worker_id: null` takes the worker away.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(clippy::option_option)] // absent, null (clear) and a value are three different requests
pub struct UpdateUser {
    display_name: Option<String>,
    role: Option<Role>,
    scopes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    worker_id: Option<Option<WorkerId>>,
    /// `disabled` ends every session of the account within a second.
    status: Option<UserStatus>,
    /// Clear a lockout.
    #[serde(default)]
    unlock: bool,
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

#[utoipa::path(patch, path = "/api/users/{id}", tag = "auth", params(("id" = i64, Path)),
    request_body = UpdateUser,
    responses((status = 200, description = "the account after the change; every node applies it within a second", body = UserInfo),
        (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<UpdateUser>,
) -> Result<Json<UserInfo>, ApiError> {
    auth.require(Permission::ManageUsers)?;
    let change = Change {
        display_name: body.display_name,
        role: body.role,
        scopes: body.scopes,
        worker: body.worker_id,
        status: body.status,
        unlock: body.unlock,
    };
    let user = users::update(state.core(), Some(&auth.0), UserId(id), change).await?;
    Ok(Json(UserInfo::from(&user)))
}

/// A password reset by an administrator.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    /// Absent: a one-time password is generated and returned.
    password: Option<String>,
    /// Default true.
    must_change_password: Option<bool>,
}

#[utoipa::path(post, path = "/api/users/{id}/password", tag = "auth", params(("id" = i64, Path)),
    request_body = ResetPassword,
    responses((status = 200, description = "reset: the lockout is cleared and every session of the account ended", body = IssuedUser),
        (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn reset_password(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<ResetPassword>,
) -> Result<Json<IssuedUser>, ApiError> {
    auth.require(Permission::ManageUsers)?;
    let reset = Reset {
        password: Some(body.password),
        must_change_password: body.must_change_password,
        totp: false,
    };
    let issued = users::reset(state.core(), Some(&auth.0), UserId(id), reset).await?;
    Ok(Json(issued.into()))
}

#[utoipa::path(post, path = "/api/users/{id}/totp", tag = "auth", params(("id" = i64, Path)),
    responses((status = 200, description = "a new TOTP secret, shown once; every session of the account ended", body = IssuedUser),
        (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn issue_totp(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
) -> Result<Json<IssuedUser>, ApiError> {
    auth.require(Permission::ManageUsers)?;
    let reset = Reset {
        totp: true,
        ..Reset::default()
    };
    let issued = users::reset(state.core(), Some(&auth.0), UserId(id), reset).await?;
    Ok(Json(issued.into()))
}
