//! API tokens: minting one (only the SHA-256 of its secret is stored), and the checks a token request
//! must pass against the world — shared with `gridwatch token create`.

use crate::auth::{hash_secret, new_secret};
use crate::core::Core;
use crate::domain::{AccessError, Role, Scope, Subject, WorkerId};
use crate::store::{NewToken, StoreError, TokenRecord};
use crate::world::World;

/// The longest token label accepted, in characters.
pub const MAX_LABEL_CHARS: usize = 200;

/// Why a token was not minted; nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("scope {0:?} is not region:<id> or grid:<id>")]
    BadScope(String),
    /// The worker, or a scope's region or grid, does not exist.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// A worker or device token that would act for no one, everywhere.
    #[error("a worker or device token needs a worker_id or scopes")]
    NoWorkerOrScope,
    #[error("label must have at most {MAX_LABEL_CHARS} characters")]
    LabelTooLong,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A token to mint, as asked for.
#[derive(Debug, Clone)]
pub struct Request {
    pub role: Role,
    /// `region:<id>` or `grid:<id>`; empty means unrestricted.
    pub scopes: Vec<String>,
    pub worker: Option<WorkerId>,
    pub label: Option<String>,
}

/// Checks the request against the world and mints the token. Returns the stored record and the
/// secret, which is not stored and cannot be shown again.
pub async fn create(core: &Core, request: Request) -> Result<(TokenRecord, String), TokenError> {
    core.write(move |w| async move {
        let new = {
            let world = w.world();
            let scopes = checked_scopes(&world, &request.scopes)?;
            new_token(&world, request.role, scopes, request.worker, request.label)?
        };
        let secret = new_secret();
        let token = NewToken {
            hash: hash_secret(&secret),
            ..new
        };
        let (record, event) = w.store().insert_token(&token).await?;
        w.stored(event, |_| {});
        Ok((record, secret))
    })
    .await
}

/// Parses `region:<id>` / `grid:<id>` scopes and checks each names something that exists.
pub fn checked_scopes(world: &World, scopes: &[String]) -> Result<Vec<Scope>, TokenError> {
    scopes
        .iter()
        .map(|text| {
            let scope = Scope::parse(text).ok_or_else(|| TokenError::BadScope(text.clone()))?;
            let exists = match scope {
                Scope::Region(id) => world.region(id).is_some(),
                Scope::Grid(id) => world.grid(id).is_some(),
            };
            if exists {
                Ok(scope)
            } else {
                Err(AccessError::NotFound(Subject::ScopeTarget(scope)).into())
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
) -> Result<NewToken, TokenError> {
    if let Some(id) = worker {
        world
            .worker(id)
            .ok_or(AccessError::NotFound(Subject::Worker(id)))?;
    }
    if matches!(role, Role::Worker | Role::Device) && worker.is_none() && scopes.is_empty() {
        return Err(TokenError::NoWorkerOrScope);
    }
    if label
        .as_ref()
        .is_some_and(|l| l.chars().count() > MAX_LABEL_CHARS)
    {
        return Err(TokenError::LabelTooLong);
    }
    Ok(NewToken {
        hash: String::new(),
        role,
        scopes,
        worker,
        label,
    })
}
