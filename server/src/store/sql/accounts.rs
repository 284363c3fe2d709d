//! [`Accounts`] over a SQL dialect: users (with their `user.*` events) and sessions. Rows beside
//! their statements; every text is in `common/` (both dialects run the same SQL).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::codec::{self, parse_enum, scopes_from_text, scopes_json};
use super::conflict::Context;
use super::driver::Load;
use super::{Dialect, SqlStore};
use crate::audit;
use crate::domain::{Change, Event, Role, SessionId, UserId, UserStatus, WorkerId};
use crate::store::StoreError;
use crate::store::accounts::{
    Accounts, NewSession, NewUser, SessionRecord, UserRecord, UserUpdate,
};

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserRow {
    id: i64,
    name: String,
    display_name: String,
    role: String,
    scopes: String,
    worker_id: Option<i64>,
    password_hash: String,
    status: String,
    failed_attempts: i32,
    locked_until: Option<DateTime<Utc>>,
    must_change_password: bool,
    last_login_at: Option<DateTime<Utc>>,
    totp_secret: Option<String>,
    totp_last_step: Option<i64>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Load for UserRecord {
    type Row = UserRow;
    fn from_row(row: UserRow) -> Result<Self, StoreError> {
        Ok(UserRecord {
            id: UserId(row.id),
            name: row.name,
            display_name: row.display_name,
            role: parse_enum("users", "role", &row.role, Role::parse)?,
            scopes: scopes_from_text(&row.scopes)?,
            worker: row.worker_id.map(WorkerId),
            password_hash: row.password_hash,
            status: parse_enum("users", "status", &row.status, UserStatus::parse)?,
            failed_attempts: u32::try_from(row.failed_attempts).unwrap_or(0),
            locked_until: row.locked_until,
            must_change_password: row.must_change_password,
            last_login_at: row.last_login_at,
            totp_secret: row.totp_secret,
            totp_last_step: row.totp_last_step,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SessionRow {
    id: i64,
    user_id: i64,
    csrf_hash: String,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    address: Option<String>,
    user_agent: Option<String>,
    revoked_at: Option<DateTime<Utc>>,
}

impl Load for SessionRecord {
    type Row = SessionRow;
    fn from_row(row: SessionRow) -> Result<Self, StoreError> {
        Ok(SessionRecord {
            id: SessionId(row.id),
            user: UserId(row.user_id),
            csrf_hash: row.csrf_hash,
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
            expires_at: row.expires_at,
            address: row.address,
            user_agent: row.user_agent,
            revoked_at: row.revoked_at,
        })
    }
}

#[async_trait]
impl<D: Dialect> Accounts for SqlStore<D> {
    async fn insert_user(&self, user: &NewUser) -> Result<(UserRecord, Event), StoreError> {
        let mut tx = self.begin_write("starting a user insert").await?;
        let record: UserRecord = (D::SQL.insert_user)
            .bind(&user.name)
            .bind(&user.display_name)
            .bind(user.role.as_str())
            .bind(scopes_json(&user.scopes))
            .bind(user.worker.map(|w| w.0))
            .bind(&user.password_hash)
            .bind(user.must_change_password)
            .bind(&user.totp_secret)
            .bind(codec::now())
            .fetch_one(&mut tx, "inserting a user")
            .await?;
        let event = tx
            .append_event(Change::UserCreated(record.summary()))
            .await?;
        tx.commit("committing a user").await?;
        Ok((record, event))
    }

    async fn update_user(&self, update: &UserUpdate) -> Result<(UserRecord, Event), StoreError> {
        let user = &update.user;
        let at = codec::now();
        let mut tx = self.begin_write("starting a user update").await?;
        let record: Option<UserRecord> = (D::SQL.update_user)
            .bind(user.id.0)
            .bind(&user.display_name)
            .bind(user.role.as_str())
            .bind(scopes_json(&user.scopes))
            .bind(user.worker.map(|w| w.0))
            .bind(&user.password_hash)
            .bind(user.status.as_str())
            .bind(user.must_change_password)
            .bind(&user.totp_secret)
            .bind(at)
            .bind(update.unlock)
            .fetch_optional(&mut tx, "updating a user")
            .await?;
        let record = record.ok_or_else(|| StoreError::NotFound(format!("user {}", user.id)))?;
        if update.end_sessions {
            (D::SQL.end_user_sessions)
                .bind(user.id.0)
                .bind(at)
                .bind(update.keep.map(|s| s.0))
                .execute(&mut tx, "ending a user's sessions")
                .await?;
        }
        let event = tx
            .append_event(Change::UserUpdated(record.summary()))
            .await?;
        if let Some(note) = &update.note {
            tx.note_entries(vec![note.clone()]);
        }
        tx.commit("committing a user update").await?;
        Ok((record, event))
    }

    async fn user(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        self.row(D::SQL.find_user.bind(id.0), "reading a user")
            .await
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        self.row(D::SQL.user_by_name.bind(name), "looking up a user")
            .await
    }

    async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.rows(D::SQL.load_users.query(), "listing users").await
    }

    async fn user_versions(&self) -> Result<Vec<(UserId, i64)>, StoreError> {
        let rows: Vec<(i64, i64)> = self
            .rows(D::SQL.user_versions.query(), "reading user versions")
            .await?;
        Ok(rows.into_iter().map(|(id, v)| (UserId(id), v)).collect())
    }

    async fn count_login_attempt(&self, id: UserId) -> Result<u32, StoreError> {
        let doing = "counting a sign-in attempt";
        let mut conn = self.pool.acquire().await.context(doing)?;
        let count: i32 = D::SQL
            .count_login_attempt
            .bind(id.0)
            .scalar(&mut conn, doing)
            .await?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn lock_user(
        &self,
        id: UserId,
        until: DateTime<Utc>,
        entry: audit::Entry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write("starting a lockout").await?;
        D::SQL
            .lock_user
            .bind(id.0)
            .bind(until)
            .execute(&mut tx, "locking an account")
            .await?;
        tx.note_entries(vec![entry]);
        tx.commit("committing a lockout").await
    }

    async fn open_session(
        &self,
        session: &NewSession,
        totp_step: Option<i64>,
        mut entry: audit::Entry,
    ) -> Result<SessionRecord, StoreError> {
        let mut tx = self.begin_write("starting a sign-in").await?;
        D::SQL
            .login_succeeded
            .bind(session.user.0)
            .bind(session.created_at)
            .bind(totp_step)
            .execute(&mut tx, "noting a sign-in")
            .await?;
        let record: SessionRecord = D::SQL
            .insert_session
            .bind(&session.hash)
            .bind(&session.csrf_hash)
            .bind(session.user.0)
            .bind(session.created_at)
            .bind(session.expires_at)
            .bind(&session.address)
            .bind(&session.user_agent)
            .fetch_one(&mut tx, "opening a session")
            .await?;
        entry.detail = Some(format!("session {}", record.id));
        tx.note_entries(vec![entry]);
        tx.commit("committing a sign-in").await?;
        Ok(record)
    }

    async fn session_by_hash(&self, hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.row(D::SQL.session_by_hash.bind(hash), "looking up a session")
            .await
    }

    async fn session(&self, id: SessionId) -> Result<Option<SessionRecord>, StoreError> {
        self.row(D::SQL.find_session.bind(id.0), "reading a session")
            .await
    }

    async fn sessions_of(&self, user: UserId) -> Result<Vec<SessionRecord>, StoreError> {
        self.rows(D::SQL.sessions_of.bind(user.0), "listing sessions")
            .await
    }

    async fn revoke_session(
        &self,
        id: SessionId,
        at: DateTime<Utc>,
        entry: audit::Entry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write("starting to end a session").await?;
        let changed = D::SQL
            .revoke_session
            .bind(id.0)
            .bind(at)
            .execute(&mut tx, "revoking a session")
            .await?;
        if changed > 0 {
            tx.note_entries(vec![entry]);
        }
        tx.commit("committing a session's end").await?;
        Ok(changed > 0)
    }

    async fn touch_session(&self, id: SessionId, at: DateTime<Utc>) -> Result<(), StoreError> {
        let doing = "noting a session's last use";
        let mut conn = self.pool.acquire().await.context(doing)?;
        D::SQL
            .touch_session
            .bind(id.0)
            .bind(at)
            .execute(&mut conn, doing)
            .await?;
        Ok(())
    }

    async fn revoked_sessions(&self, since: DateTime<Utc>) -> Result<Vec<SessionId>, StoreError> {
        let rows: Vec<(i64,)> = self
            .rows(
                D::SQL.revoked_sessions.bind(since),
                "reading revoked sessions",
            )
            .await?;
        Ok(rows.into_iter().map(|(id,)| SessionId(id)).collect())
    }
}
