//! A transaction of the shared store, and the one way an event is written: [`Tx::append_event`].
//!
//! Every write appends its event(s) here, inside the transaction that writes its rows, so the row and
//! its event commit together or not at all. The dialect's `lock_events` runs first (PostgreSQL's
//! advisory lock, held to the commit), so sequence numbers become visible in order.

use std::ops::{Deref, DerefMut};

use sqlx::Transaction;
use sqlx::types::Json;

use super::Dialect;
use super::driver::Conn;
use crate::domain::{Change, Event};
use crate::store::StoreError;
use crate::store::sql::codec;
use crate::store::sql::conflict::Context;

/// A transaction of dialect `D`. Statements run on it as `&mut tx`; its events go through
/// [`Tx::append_event`].
pub struct Tx<D: Dialect>(pub(super) Transaction<'static, D::Db>);

impl<D: Dialect> Deref for Tx<D> {
    type Target = Conn<D>;
    fn deref(&self) -> &Conn<D> {
        &self.0
    }
}

impl<D: Dialect> DerefMut for Tx<D> {
    fn deref_mut(&mut self) -> &mut Conn<D> {
        &mut self.0
    }
}

impl<D: Dialect> Tx<D> {
    pub(crate) async fn commit(self, doing: &'static str) -> Result<(), StoreError> {
        self.0.commit().await.context(doing)
    }

    /// Appends the event of the write in progress; its `seq` is the one the database assigns.
    pub(crate) async fn append_event(&mut self, change: Change) -> Result<Event, StoreError> {
        D::lock_events(self).await?;
        self.insert_event(change).await
    }

    /// Appends several events in order, taking the events lock once.
    pub(crate) async fn append_events(
        &mut self,
        changes: Vec<Change>,
    ) -> Result<Vec<Event>, StoreError> {
        if !changes.is_empty() {
            D::lock_events(self).await?;
        }
        let mut appended = Vec::with_capacity(changes.len());
        for change in changes {
            appended.push(self.insert_event(change).await?);
        }
        Ok(appended)
    }

    /// The one `INSERT INTO events`: `Change::kind` and `Change::payload_json` (JSON text on `SQLite`,
    /// `jsonb` on PostgreSQL), read back by `Change::from_stored`. The caller holds the events lock.
    async fn insert_event(&mut self, change: Change) -> Result<Event, StoreError> {
        let at = codec::now();
        let seq: i64 = (D::SQL.insert_event)
            .bind(at)
            .bind(change.kind())
            .bind(Json(change.payload_json()))
            .scalar(self, "appending an event")
            .await?;
        Ok(Event { seq, at, change })
    }
}
