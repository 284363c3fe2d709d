//! API tokens: minting one (only the SHA-256 of its secret is stored), listing and revoking them, and the
//! checks a token request must pass against the world and against whoever asks — shared with
//! `gridwatch token`.
//!
//! Nobody mints or revokes beyond their own reach: a scoped minter's token gets scopes inside its own
//! (never none, which would mean everywhere), a worker it manages entirely, and a role no higher than
//! its own. Every token expires ([`max_days`] per role, [`DEFAULT_DAYS`] unless asked otherwise).

use chrono::{DateTime, Duration, SubsecRound, Utc};

use crate::auth::{hash_secret, new_secret, secret_prefix};
use crate::core::Core;
use crate::domain::{AccessError, Principal, Role, Scope, Subject, TokenId, WorkerId};
use crate::store::{NewToken, StoreError, TokenRecord};
use crate::world::{Visibility, World};

/// The longest token label accepted, in characters.
pub const MAX_LABEL_CHARS: usize = 200;
/// A token's lifetime unless the request asks for less (or its role allows less).
pub const DEFAULT_DAYS: u32 = 90;

/// The longest lifetime a token of `role` may have, days: people's roles a quarter, machines' a year.
#[must_use]
pub const fn max_days(role: Role) -> u32 {
    match role {
        Role::Admin | Role::Auditor => 90,
        Role::Planner | Role::Commander => 180,
        Role::Worker | Role::Reporter | Role::Device => 365,
    }
}

/// How high a role reaches, for "no more role than your own".
const fn rank(role: Role) -> u8 {
    match role {
        Role::Admin => 3,
        Role::Planner | Role::Commander => 2,
        Role::Worker | Role::Auditor => 1,
        Role::Reporter | Role::Device => 0,
    }
}

/// Why a token was not minted or revoked; nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("scope {0:?} is not region:<id> or grid:<id>")]
    BadScope(String),
    /// The worker, a scope's region or grid, or the token to revoke does not exist, or lies outside
    /// the caller's scope.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// A worker or device token that would act for no one, everywhere.
    #[error("a worker or device token needs a worker_id or scopes")]
    NoWorkerOrScope,
    #[error("label must have at most {MAX_LABEL_CHARS} characters")]
    LabelTooLong,
    /// A lifetime outside 1..=max for the role.
    #[error("a token of the {} role lives 1 to {} days, not {days}", .role.as_str(), max_days(*.role))]
    BadLifetime { role: Role, days: u32 },
    /// An auditor token is minted only on the server's command line (for a log collector that pulls
    /// the trail); over the API, nobody — not even an admin — makes one (three-role separation).
    #[error("a token of the {} role is minted only with `gridwatch token create` on the server", .0.as_str())]
    CommandLineOnly(Role),
    /// More role than the minter's own.
    #[error("the {} role may not mint a token of the {} role", .minter.as_str(), .role.as_str())]
    HigherRole { minter: Role, role: Role },
    /// A scoped minter asked for an unscoped token (which would reach everywhere).
    #[error("your token is scoped, so the new one needs scopes inside yours")]
    Unscoped,
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
    /// Lifetime in days; `None` is [`DEFAULT_DAYS`] or the role's maximum, whichever is less.
    pub expires_in_days: Option<u32>,
}

/// Checks the request against the world and against `minter` (`None`: the command line, which may do
/// anything) and mints the token. Returns the stored record and the secret, which is not stored and
/// cannot be shown again.
pub async fn create(
    core: &Core,
    minter: &Principal,
    request: Request,
) -> Result<(TokenRecord, String), TokenError> {
    let minter = minter.clone();
    core.write(move |w| async move {
        let new = checked(&w.world(), Some(&minter), request, w.now())?;
        let (token, secret) = mint(new);
        let (record, event) = w.store().insert_token(&token).await?;
        w.stored(event, |_| {});
        Ok((record, secret))
    })
    .await
}

/// A new secret for a checked token: the token with its hash and prefix filled in, and the secret.
#[must_use]
pub fn mint(new: NewToken) -> (NewToken, String) {
    let secret = new_secret();
    let token = NewToken {
        hash: hash_secret(&secret),
        prefix: secret_prefix(&secret),
        ..new
    };
    (token, secret)
}

/// Checks a token request; the hash and prefix are left empty for [`mint`].
pub fn checked(
    world: &World,
    minter: Option<&Principal>,
    request: Request,
    now: DateTime<Utc>,
) -> Result<NewToken, TokenError> {
    let Request {
        role,
        scopes,
        worker,
        label,
        expires_in_days,
    } = request;
    if role == Role::Auditor && minter.is_some() {
        return Err(TokenError::CommandLineOnly(role));
    }
    let scopes = checked_scopes(world, &scopes)?;
    if let Some(id) = worker {
        world
            .worker(id)
            .ok_or(AccessError::NotFound(Subject::Worker(id)))?;
    }
    if matches!(role, Role::Worker | Role::Device) && worker.is_none() && scopes.is_empty() {
        return Err(TokenError::NoWorkerOrScope);
    }
    if let Some(minter) = minter {
        within_reach(world, minter, role, &scopes, worker)?;
    }
    if label
        .as_ref()
        .is_some_and(|l| l.chars().count() > MAX_LABEL_CHARS)
    {
        return Err(TokenError::LabelTooLong);
    }
    let days = expires_in_days.unwrap_or_else(|| DEFAULT_DAYS.min(max_days(role)));
    if days == 0 || days > max_days(role) {
        return Err(TokenError::BadLifetime { role, days });
    }
    Ok(NewToken {
        hash: String::new(),
        prefix: String::new(),
        role,
        scopes,
        worker,
        label,
        expires_at: (now + Duration::days(i64::from(days))).trunc_subsecs(6),
        created_by: minter.and_then(Principal::token),
    })
}

/// Refuses a token that would reach further than `minter`: a higher role, an unscoped token from a
/// scoped minter, a scope outside the minter's, or a worker the minter does not wholly manage.
pub(crate) fn within_reach(
    world: &World,
    minter: &Principal,
    role: Role,
    scopes: &[Scope],
    worker: Option<WorkerId>,
) -> Result<(), TokenError> {
    if rank(role) > rank(minter.role) {
        return Err(TokenError::HigherRole {
            minter: minter.role,
            role,
        });
    }
    let visibility = world.visibility(minter);
    if matches!(visibility, Visibility::All) {
        return Ok(());
    }
    let acts_for_worker_only = matches!(role, Role::Worker | Role::Device) && worker.is_some();
    if scopes.is_empty() && !acts_for_worker_only {
        return Err(TokenError::Unscoped);
    }
    for &scope in scopes {
        let inside = match scope {
            Scope::Grid(id) => visibility.grid(id),
            Scope::Region(id) => world.region_in_scope(minter, id),
        };
        if !inside {
            return Err(AccessError::OutOfScope(Subject::ScopeTarget(scope)).into());
        }
    }
    if let Some(id) = worker {
        let found = world
            .worker(id)
            .ok_or(AccessError::NotFound(Subject::Worker(id)))?;
        if !crate::admin::workers::can_manage(&visibility, minter, found) {
            return Err(AccessError::OutOfScope(Subject::Worker(id)).into());
        }
    }
    Ok(())
}

/// Whether `token` lies within `principal`'s reach: its own, or one `principal` could have minted.
#[must_use]
pub fn reaches(world: &World, principal: &Principal, token: &TokenRecord) -> bool {
    principal.token() == Some(token.id)
        || within_reach(world, principal, token.role, &token.scopes, token.worker).is_ok()
}

/// Every token `principal` reaches (`None`: every token), by id.
pub async fn list(
    core: &Core,
    principal: Option<&Principal>,
) -> Result<Vec<TokenRecord>, TokenError> {
    let all = core.store().tokens().await?;
    let Some(principal) = principal else {
        return Ok(all);
    };
    let world = core.world();
    Ok(all
        .into_iter()
        .filter(|t| reaches(&world, principal, t))
        .collect())
}

/// Revokes a token `principal` reaches (`None`: the command line). Takes effect on this node at once,
/// and on every other within the revocation watch's interval. Revoking a revoked token changes nothing.
pub async fn revoke(
    core: &Core,
    principal: Option<&Principal>,
    id: TokenId,
) -> Result<(), TokenError> {
    let principal = principal.cloned();
    let revoked = core
        .write(move |w| async move {
            let token = w
                .store()
                .token(id)
                .await?
                .ok_or(AccessError::NotFound(Subject::Token(id)))?;
            if let Some(principal) = &principal
                && !reaches(&w.world(), principal, &token)
            {
                return Err(AccessError::OutOfScope(Subject::Token(id)).into());
            }
            let by = principal.as_ref().and_then(Principal::token);
            match w.store().revoke_token(id, by).await {
                Ok(Some(event)) => w.stored(event, |_| {}),
                Ok(None) => {}
                Err(StoreError::NotFound(_)) => {
                    return Err(AccessError::NotFound(Subject::Token(id)).into());
                }
                Err(e) => return Err(e.into()),
            }
            Ok::<_, TokenError>(())
        })
        .await;
    // Whatever the outcome of the write, a token asked to be revoked is refused here from now on when
    // the store says so; on success that is now.
    revoked?;
    core.credentials().revoke(id);
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_are_capped_per_role_and_people_outrank_machines() {
        for role in Role::ALL {
            assert!(DEFAULT_DAYS.min(max_days(role)) >= 1);
        }
        assert!(max_days(Role::Admin) < max_days(Role::Device));
        assert!(rank(Role::Admin) > rank(Role::Commander));
        assert!(rank(Role::Commander) > rank(Role::Worker));
        assert!(rank(Role::Worker) > rank(Role::Device));
    }
}
