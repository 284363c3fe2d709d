//! `POST /api/tokens`: admins mint scoped tokens. The secret is shown once, in the response.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::AppJson;
use crate::auth::{Auth, hash_secret, new_secret};
use crate::domain::{Role, Scope, TokenId, WorkerId};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::NewToken;
use crate::world::World;

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
    let _writing = state.write_lock().await;
    let new = {
        let world = state.world();
        let scopes = checked_scopes(&world, &body.scopes)?;
        new_token(&world, body.role, scopes, body.worker_id, body.label)?
    };
    let secret = new_secret();
    let token = NewToken {
        hash: hash_secret(&secret),
        ..new
    };
    let (record, event) = state.store().insert_token(&token).await?;
    state.commit(event, |_| {});
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

/// Parses `region:<id>` / `grid:<id>` scopes and checks each names something that exists.
pub fn checked_scopes(world: &World, scopes: &[String]) -> Result<Vec<Scope>, ApiError> {
    scopes
        .iter()
        .map(|text| {
            let scope = Scope::parse(text).ok_or_else(|| {
                ApiError::invalid(format!("scope {text:?} is not region:<id> or grid:<id>"))
            })?;
            let exists = match scope {
                Scope::Region(id) => world.region(id).is_some(),
                Scope::Grid(id) => world.grid(id).is_some(),
            };
            if exists {
                Ok(scope)
            } else {
                Err(ApiError::not_found(format!("scope target {scope}")))
            }
        })
        .collect()
}

/// Checks a token request against the world; the hash is filled in by the caller.
pub fn new_token(
    world: &World,
    role: Role,
    scopes: Vec<Scope>,
    worker: Option<WorkerId>,
    label: Option<String>,
) -> Result<NewToken, ApiError> {
    if let Some(id) = worker {
        world
            .worker(id)
            .ok_or_else(|| ApiError::not_found(format!("worker {id}")))?;
    }
    if matches!(role, Role::Worker | Role::Device) && worker.is_none() && scopes.is_empty() {
        return Err(ApiError::invalid(
            "a worker or device token needs a worker_id or scopes",
        ));
    }
    if label.as_ref().is_some_and(|l| l.chars().count() > 200) {
        return Err(ApiError::invalid("label must have at most 200 characters"));
    }
    Ok(NewToken {
        hash: String::new(),
        role,
        scopes,
        worker,
        label,
    })
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
