//! Bearer tokens: minting, hashing and the `Auth` extractor that every protected handler takes.
//!
//! A token is `gw_` + 64 hex digits of randomness; only its SHA-256 is stored. A missing or unknown
//! token is a 401 — never an anonymous caller. A token minted by the CLI while the server runs is found
//! on first use because a cache miss asks the store. [`visible_grid`] is the scope rule for one grid,
//! used by handlers and services alike; it answers with the domain's [`AccessError`], the extractor
//! and [`Auth::require`] (HTTP-side) with `ApiError`.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::{AccessError, Principal, Role, Subject};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::StoreError;

/// Prefix that makes a gridwatch token easy to spot in a leaked log or config file.
pub const TOKEN_PREFIX: &str = "gw_";

/// A new random token secret.
#[must_use]
pub fn new_secret() -> String {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// The stored form of a secret: lower-case hex SHA-256.
#[must_use]
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The authenticated caller. Extracting it fails with 401 for a missing, malformed or unknown token.
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

impl Auth {
    /// 403 unless the caller has one of `roles` (admins always pass).
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if self.0.role == Role::Admin || roles.contains(&self.0.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "the {} role may not do this",
                self.0.role.as_str()
            )))
        }
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let secret = bearer(parts)?;
        authenticate(state, secret).await.map(Self)
    }
}

/// The caller a token secret stands for; 401 for an unknown or revoked one.
pub async fn authenticate(state: &AppState, secret: &str) -> Result<Principal, ApiError> {
    principal(state, secret)
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown or revoked token"))
}

/// The caller a token secret stands for, or `None` for an unknown or revoked one. Shared by the bearer
/// extractor and Open311's `api_key`, so both see the same tokens and the same cache.
pub async fn principal(state: &AppState, secret: &str) -> Result<Option<Principal>, StoreError> {
    let hash = hash_secret(secret);
    let record = if let Some(record) = state.cached_token(&hash) {
        record
    } else {
        let Some(record) = state.store().token_by_hash(&hash).await? else {
            return Ok(None);
        };
        state.cache_token(hash, record.clone());
        record
    };
    Ok(Some(Principal {
        token: record.id,
        role: record.role,
        scopes: record.scopes,
        worker: record.worker,
    }))
}

/// The secret of an `Authorization: Bearer` header.
pub fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token>"))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized("malformed Authorization header"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized(
            "expected Authorization: Bearer <token>",
        ));
    }
    Ok(token.trim())
}

/// The grid `id` if it exists and the caller may see it.
pub fn visible_grid<'w>(
    world: &'w crate::world::World,
    visibility: &crate::world::Visibility,
    id: crate::domain::GridId,
) -> Result<&'w crate::domain::Grid, AccessError> {
    let grid = world
        .grid(id)
        .ok_or(AccessError::NotFound(Subject::Grid(id)))?;
    if visibility.grid(id) {
        Ok(grid)
    } else {
        Err(AccessError::OutOfScope(Subject::Grid(id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_hash_stably() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 64);
        // SHA-256("abc"), FIPS 180-2 test vector.
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
