//! `POST /api/tokens`: admins mint scoped tokens (`admin::tokens`). The secret is shown once, in the
//! response. `GET /api/me`: the caller.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::AppJson;
use crate::admin::tokens;
use crate::auth::Auth;
use crate::domain::{Role, TokenId, WorkerId};
use crate::error::ApiError;
use crate::state::AppState;

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
}

#[utoipa::path(post, path = "/api/tokens", tag = "auth", request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 403), (status = 422),
        (status = 404, description = "no such worker, region or grid")), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<CreateToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    auth.require(&[])?;
    let request = tokens::Request {
        role: body.role,
        scopes: body.scopes,
        worker: body.worker_id,
        label: body.label,
    };
    let (record, secret) = tokens::create(state.core(), request).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id: record.id,
            token: secret,
            role: record.role,
            scopes: record.scopes.iter().map(ToString::to_string).collect(),
            worker_id: record.worker,
            label: record.label,
        }),
    ))
}

/// The caller: its token, role, scopes and worker, and what the web map may offer it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    token_id: TokenId,
    role: Role,
    /// `region:<id>` / `grid:<id>`; empty means unrestricted.
    scopes: Vec<String>,
    worker_id: Option<WorkerId>,
    may: May,
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
}

#[utoipa::path(get, path = "/api/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401)), security(("bearer" = [])))]
pub async fn me(auth: Auth) -> Json<Me> {
    let may = May {
        act_on_cases: auth.require(super::incidents::ACTORS).is_ok(),
        read_kpi: auth.require(super::reports::READERS).is_ok(),
        change_boundaries: auth.require(crate::plans::PLANNERS).is_ok(),
        mint_tokens: auth.require(&[]).is_ok(),
    };
    let principal = auth.0;
    Json(Me {
        token_id: principal.token,
        role: principal.role,
        scopes: principal.scopes.iter().map(ToString::to_string).collect(),
        worker_id: principal.worker,
        may,
    })
}
