//! Idempotency keys in the store (issue 19): the first answer to a write sent with an
//! `Idempotency-Key`, kept so a retry after a lost reply, a restart or on another node is answered
//! again instead of being done twice.
//!
//! [`Idempotency`] is a supertrait of `Store`; `sql/idempotency.rs` implements it once over the dialect.
//! A key belongs to a principal (`token:ID`, `user:ID`) and is first *claimed* (a row with no answer:
//! the request is in flight), then *finished* with the answer, or *released* when the answer must not be
//! kept (a 5xx, a timeout, a rate limit: the client may send it again). A write done under a key marks
//! it committed in its own transaction (`Tx::commit`); a committed claim is never released or taken
//! over. Keys are not events: nothing
//! anyone watches changes. Must not decide anything: what is kept, for how long and what a reused key
//! is answered is `api/idempotency.rs`'s.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;

/// A claim on a key: who, which key, which request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyClaim {
    /// `token:ID` or `user:ID`.
    pub principal: String,
    pub key: String,
    /// SHA-256 (lower-case hex) of the method, the path and the body.
    pub request_hash: String,
    pub at: DateTime<Utc>,
}

/// A key already claimed: the request it was claimed for and, once answered, the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub request_hash: String,
    /// `None` while the first request is in flight, or when its answer was not kept.
    pub answer: Option<StoredAnswer>,
    pub created_at: DateTime<Utc>,
    /// The seq of the last event its write appended, set in the write's own transaction: the write
    /// committed even when no answer was kept (a 503 `outcome-unknown`).
    pub committed_seq: Option<i64>,
}

/// The answer kept for a key: what a retry gets again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: String,
}

/// Where a claim stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// The key is this request's now: do the write, then finish or release it.
    New,
    /// The key was claimed before (by this request or another one).
    Existing(KeyRecord),
}

#[async_trait]
pub trait Idempotency: Send + Sync {
    /// Claims `claim.key` for `claim.principal`, first dropping that key's row if it was created before
    /// `expired_before` (its answer is too old to keep), or if it is a claim with no answer created
    /// before `abandoned_before` (its node died in flight).
    async fn claim_key(
        &self,
        claim: &KeyClaim,
        expired_before: DateTime<Utc>,
        abandoned_before: DateTime<Utc>,
    ) -> Result<Claimed, StoreError>;

    /// Keeps `answer` for a key this request claimed.
    async fn finish_key(
        &self,
        principal: &str,
        key: &str,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError>;

    /// Drops a claim with no answer, so the key may be sent again.
    async fn release_key(&self, principal: &str, key: &str) -> Result<(), StoreError>;

    /// Drops every key created before `before`; returns how many.
    async fn prune_keys(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
}
