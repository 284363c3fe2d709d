//! [`History`] over a SQL dialect: `replay_keyframes` and `events_at` (migration 0017) and the
//! `positions` table. Every text is in `common/`; each method is one statement on a pooled connection.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::codec::cell_from_i64;
use super::conflict::Context;
use super::driver::Load;
use super::{Dialect, SqlStore};
use crate::domain::{Change, Event, GridId, IncidentId, WorkerId};
use crate::replay::Keyframe;
use crate::store::StoreError;
use crate::store::history::{History, ReportedCase};
use crate::world::Position;

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct KeyframeRow {
    seq: i64,
    at: DateTime<Utc>,
    state: Vec<u8>,
}

impl Load for Keyframe {
    type Row = KeyframeRow;
    fn from_row(row: KeyframeRow) -> Result<Self, StoreError> {
        Ok(Self {
            seq: row.seq,
            at: row.at,
            state: row.state,
        })
    }
}

#[async_trait]
impl<D: Dialect> History for SqlStore<D> {
    async fn insert_keyframe(&self, keyframe: &Keyframe) -> Result<(), StoreError> {
        let doing = "storing a replay keyframe";
        let mut conn = self.pool.acquire().await.context(doing)?;
        D::SQL
            .insert_keyframe
            .bind(keyframe.seq)
            .bind(keyframe.at)
            .bind(keyframe.state.clone())
            .execute(&mut conn, doing)
            .await?;
        Ok(())
    }

    async fn keyframe_at(&self, seq: i64) -> Result<Option<Keyframe>, StoreError> {
        self.row(D::SQL.keyframe_at.bind(seq), "reading a replay keyframe")
            .await
    }

    async fn first_keyframe(&self) -> Result<Option<(i64, DateTime<Utc>)>, StoreError> {
        self.row(
            D::SQL.first_keyframe.query(),
            "reading the first replay keyframe",
        )
        .await
    }

    async fn seq_at(&self, at: DateTime<Utc>) -> Result<Option<i64>, StoreError> {
        let row: Option<(Option<i64>,)> = self
            .row(D::SQL.seq_at.bind(at), "finding the last event by a moment")
            .await?;
        Ok(row.and_then(|(seq,)| seq))
    }

    async fn positions_at(
        &self,
        at: DateTime<Utc>,
    ) -> Result<Vec<(WorkerId, Position)>, StoreError> {
        let rows: Vec<(i64, DateTime<Utc>, f64, f64)> = self
            .rows(
                D::SQL.positions_at.bind(at),
                "reading positions at a moment",
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(worker, at, lat, lon)| (WorkerId(worker), Position { lat, lon, at }))
            .collect())
    }

    async fn cases_since(&self, since: DateTime<Utc>) -> Result<Vec<ReportedCase>, StoreError> {
        type Row = (i64, DateTime<Utc>, f64, f64, i64, i64, String);
        let rows: Vec<Row> = self
            .rows(
                D::SQL.cases_since.bind(since),
                "reading the cases reported since a moment",
            )
            .await?;
        rows.into_iter()
            .map(|(id, created_at, lat, lon, cell, grid, category)| {
                Ok(ReportedCase {
                    id: IncidentId(id),
                    created_at,
                    lat,
                    lon,
                    cell: cell_from_i64("incidents", cell)?,
                    grid: GridId(grid),
                    category,
                })
            })
            .collect()
    }

    async fn insert_warnings(&self, changes: &[Change]) -> Result<Vec<Event>, StoreError> {
        let mut tx = self.begin_write("starting to record warnings").await?;
        let mut events = Vec::with_capacity(changes.len());
        for change in changes {
            events.push(tx.append_event(change.clone()).await?);
        }
        tx.commit("committing warnings").await?;
        Ok(events)
    }

    async fn fixes_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(WorkerId, Position, DateTime<Utc>)>, StoreError> {
        type Row = (i64, DateTime<Utc>, f64, f64, DateTime<Utc>);
        let stmt = D::SQL
            .fixes_between
            .bind(after)
            .bind(until)
            .bind(i64::from(limit));
        let rows: Vec<Row> = self.rows(stmt, "reading fixes between two moments").await?;
        Ok(rows
            .into_iter()
            .map(|(worker, at, lat, lon, received)| {
                (WorkerId(worker), Position { lat, lon, at }, received)
            })
            .collect())
    }
}
