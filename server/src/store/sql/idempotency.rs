//! [`Idempotency`] over a SQL dialect: the `idempotency_keys` table (migration 0014). Every text is in
//! `common/`; each method is one or a few statements on a pooled connection, outside any write's
//! transaction (a claim must be seen by other requests before the write it guards commits).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::conflict::Context;
use super::driver::Load;
use super::{Dialect, SqlStore};
use crate::store::StoreError;
use crate::store::idempotency::{Claimed, Idempotency, KeyClaim, KeyRecord, StoredAnswer};

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct KeyRow {
    request_hash: String,
    status: Option<i32>,
    content_type: Option<String>,
    location: Option<String>,
    body: Option<String>,
    created_at: DateTime<Utc>,
    committed_seq: Option<i64>,
}

impl Load for KeyRecord {
    type Row = KeyRow;
    fn from_row(row: KeyRow) -> Result<Self, StoreError> {
        let answer = match (row.status, row.body) {
            (Some(status), Some(body)) => Some(StoredAnswer {
                status: u16::try_from(status).map_err(|_| StoreError::Corrupt {
                    table: "idempotency_keys",
                    reason: format!("status {status}"),
                })?,
                content_type: row.content_type,
                location: row.location,
                body,
            }),
            _ => None,
        };
        Ok(KeyRecord {
            request_hash: row.request_hash,
            answer,
            created_at: row.created_at,
            committed_seq: row.committed_seq,
        })
    }
}

#[async_trait]
impl<D: Dialect> Idempotency for SqlStore<D> {
    async fn claim_key(
        &self,
        claim: &KeyClaim,
        expired_before: DateTime<Utc>,
        abandoned_before: DateTime<Utc>,
    ) -> Result<Claimed, StoreError> {
        let doing = "claiming an idempotency key";
        let mut conn = self.pool.acquire().await.context(doing)?;
        D::SQL
            .drop_stale_key
            .bind(&claim.principal)
            .bind(&claim.key)
            .bind(expired_before)
            .bind(abandoned_before)
            .execute(&mut conn, doing)
            .await?;
        // A claim released between the insert and the read is claimed again; a key released over and
        // over meanwhile is refused as a conflict rather than looping.
        for _ in 0..3 {
            let inserted = D::SQL
                .claim_key
                .bind(&claim.principal)
                .bind(&claim.key)
                .bind(&claim.request_hash)
                .bind(claim.at)
                .execute(&mut conn, doing)
                .await?;
            if inserted == 1 {
                return Ok(Claimed::New);
            }
            let record: Option<KeyRecord> = D::SQL
                .find_key
                .bind(&claim.principal)
                .bind(&claim.key)
                .fetch_optional(&mut conn, doing)
                .await?;
            if let Some(record) = record {
                return Ok(Claimed::Existing(record));
            }
        }
        Err(StoreError::Conflict(
            "an idempotency key claimed and released repeatedly".into(),
        ))
    }

    async fn finish_key(
        &self,
        principal: &str,
        key: &str,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError> {
        let doing = "keeping an idempotent answer";
        let mut conn = self.pool.acquire().await.context(doing)?;
        D::SQL
            .finish_key
            .bind(principal)
            .bind(key)
            .bind(i32::from(answer.status))
            .bind(&answer.content_type)
            .bind(&answer.location)
            .bind(&answer.body)
            .execute(&mut conn, doing)
            .await?;
        Ok(())
    }

    async fn release_key(&self, principal: &str, key: &str) -> Result<(), StoreError> {
        let doing = "releasing an idempotency key";
        let mut conn = self.pool.acquire().await.context(doing)?;
        D::SQL
            .release_key
            .bind(principal)
            .bind(key)
            .execute(&mut conn, doing)
            .await?;
        Ok(())
    }

    async fn prune_keys(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let doing = "pruning idempotency keys";
        let mut conn = self.pool.acquire().await.context(doing)?;
        D::SQL
            .prune_keys
            .bind(before)
            .execute(&mut conn, doing)
            .await
    }
}
