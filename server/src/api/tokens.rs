//! `/api/tokens`: admins mint, list and revoke tokens within their own reach (`admin::tokens`). The
//! secret is shown once, in the mint's response; a list shows its first characters only.
//! `GET /api/me`: the caller.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use chrono::{DateTime, Utc};

use super::{AppJson, AppPath};
use crate::admin::tokens;
use crate::auth::Auth;
use crate::domain::{Permission, Role, SessionId, TokenId, UserId, WorkerId};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::TokenRecord;

/// A token to mint.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    role: Role,
    /// `region:<id>` or `grid:<id>`; empty means unrestricted.
    #[serde(default)]
    scopes: Vec<String>,
    worker_id: Option<WorkerId>,
    label: Option<String>,
    /// Lifetime in days: default 90 (or the role's maximum, if less); at most 90 for admin, 180 for
    /// planner and commander, 365 for worker, reporter and device.
    #[schema(minimum = 1, maximum = 365)]
    expires_in_days: Option<u32>,
}

/// The minted token. `token` is the secret; it is not stored and cannot be shown again.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    id: TokenId,
    token: String,
    role: Role,
    scopes: Vec<String>,
    worker_id: Option<WorkerId>,
    label: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<DateTime<Utc>>,
}

/// A token as a list shows it: never its secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    id: TokenId,
    /// The secret's first characters (`gw_` and 8 hex digits), to tell tokens apart.
    prefix: Option<String>,
    role: Role,
    scopes: Vec<String>,
    worker_id: Option<WorkerId>,
    label: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    created_at: DateTime<Utc>,
    /// The token that minted it; `null` for the command line.
    created_by: Option<TokenId>,
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    last_used_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    revoked_at: Option<DateTime<Utc>>,
}

impl From<TokenRecord> for TokenInfo {
    fn from(t: TokenRecord) -> Self {
        Self {
            id: t.id,
            prefix: t.prefix,
            role: t.role,
            scopes: t.scopes.iter().map(ToString::to_string).collect(),
            worker_id: t.worker,
            label: t.label,
            created_at: t.created_at,
            created_by: t.created_by,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        }
    }
}

#[utoipa::path(post, path = "/api/tokens", tag = "auth", request_body = CreateToken,
    responses((status = 201, body = CreatedToken),
        (status = 403, description = "not an admin, or more role or scope than the caller's own"),
        (status = 422),
        (status = 404, description = "no such worker, region or grid")), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<CreateToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    auth.require(Permission::ManageTokens)?;
    let request = tokens::Request {
        role: body.role,
        scopes: body.scopes,
        worker: body.worker_id,
        label: body.label,
        expires_in_days: body.expires_in_days,
    };
    let (record, secret) = tokens::create(state.core(), &auth.0, request).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id: record.id,
            token: secret,
            role: record.role,
            scopes: record.scopes.iter().map(ToString::to_string).collect(),
            worker_id: record.worker,
            label: record.label,
            expires_at: record.expires_at,
        }),
    ))
}

#[utoipa::path(get, path = "/api/tokens", tag = "auth",
    responses((status = 200, description = "every token within the caller's reach, by id; never a secret", body = Vec<TokenInfo>),
        (status = 403)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    auth.require(Permission::ManageTokens)?;
    let tokens = tokens::list(state.core(), Some(&auth.0)).await?;
    Ok(Json(tokens.into_iter().map(TokenInfo::from).collect()))
}

#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "auth", params(("id" = i64, Path)),
    responses((status = 204, description = "revoked (or already revoked): refused everywhere within a second, open websockets closed"),
        (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
) -> Result<StatusCode, ApiError> {
    auth.require(Permission::ManageTokens)?;
    tokens::revoke(state.core(), Some(&auth.0), TokenId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller: its token, role, scopes and worker, and what the web map may offer it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// The token the caller holds (a machine); `null` for a person signed in.
    token_id: Option<TokenId>,
    /// The person signed in, and their session; `null` for a token.
    user_id: Option<UserId>,
    session_id: Option<SessionId>,
    role: Role,
    /// `region:<id>` / `grid:<id>`; empty means unrestricted.
    scopes: Vec<String>,
    worker_id: Option<WorkerId>,
    may: May,
    /// The deployment's time zone, minutes east of UTC (the dispatch calendar's): pages show times in it.
    tz_offset_minutes: i32,
}

/// What the caller may do beyond reading, each decided by the same role check as its endpoint.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "the answer's shape: one flag a capability, read by clients"
)]
pub struct May {
    /// `POST /api/incidents/{id}/actions` (which actions, per case: its `your_actions`).
    act_on_cases: bool,
    /// `GET /api/reports/kpi`.
    read_kpi: bool,
    /// Boundary plans: create, apply, roll back.
    change_boundaries: bool,
    /// `POST /api/tokens`.
    mint_tokens: bool,
    /// `GET /api/alarms` and the live `alarms` layer.
    read_alarms: bool,
    /// `POST /api/alarms/{id}/acknowledge`.
    acknowledge_alarms: bool,
    /// `GET /api/warnings` and the live `warnings` layer.
    read_warnings: bool,
    /// `GET /api/replay/state` and the websocket `replay`.
    replay_map: bool,
}

#[utoipa::path(get, path = "/api/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401)), security(("bearer" = []), ("session" = [])))]
pub async fn me(State(state): State<AppState>, auth: Auth) -> Json<Me> {
    let may = May {
        act_on_cases: auth.may(Permission::ActOnCases),
        read_kpi: auth.may(Permission::ReadKpi),
        change_boundaries: auth.may(Permission::ChangeBoundaries),
        mint_tokens: auth.may(Permission::ManageTokens),
        read_alarms: auth.may(Permission::ReadAlarms),
        acknowledge_alarms: auth.may(Permission::AcknowledgeAlarms),
        read_warnings: auth.may(Permission::ReadWarnings),
        replay_map: auth.may(Permission::ReplayMap),
    };
    let principal = auth.0;
    Json(Me {
        token_id: principal.token(),
        user_id: principal.user(),
        session_id: principal.session(),
        role: principal.role,
        scopes: principal.scopes.iter().map(ToString::to_string).collect(),
        worker_id: principal.worker,
        may,
        tz_offset_minutes: state.dispatch().calendar.tz_offset_minutes,
    })
}
