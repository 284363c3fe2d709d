//! People's accounts in the store (issue 18): users, their sign-in counters and their sessions.
//!
//! [`Accounts`] is a supertrait of `Store`, so every store keeps accounts and `dyn Store` offers these
//! methods; `sql/accounts.rs` implements it once over the dialect. Creating and changing a user appends
//! `user.created` / `user.updated` in the same transaction, like every write; the sign-in counters, a
//! session's rows and its last use are not events (nothing anyone watches changes, as with a token's
//! last use). Must not decide anything: the lockout, the timeouts and the password rules are
//! `identity`'s; a session stores only the SHA-256 of its id and of its CSRF token.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::audit;
use crate::domain::{Event, Role, Scope, SessionId, UserId, UserStatus, UserSummary, WorkerId};

/// A stored account. `Debug` leaves out the password hash and the TOTP secret.
#[derive(Clone, PartialEq)]
pub struct UserRecord {
    pub id: UserId,
    /// The login name, lower-case.
    pub name: String,
    pub display_name: String,
    pub role: Role,
    pub scopes: Vec<Scope>,
    pub worker: Option<WorkerId>,
    /// Argon2id, as a PHC string.
    pub password_hash: String,
    pub status: UserStatus,
    /// Sign-in attempts counted since the last success or lockout.
    pub failed_attempts: u32,
    pub locked_until: Option<DateTime<Utc>>,
    pub must_change_password: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    /// RFC 6238 secret, base32.
    pub totp_secret: Option<String>,
    /// The last time step a code was accepted for.
    pub totp_last_step: Option<i64>,
    /// Bumped by every change; the credentials watch compares it with what a node cached.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("scopes", &self.scopes)
            .field("worker", &self.worker)
            .field("status", &self.status)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl UserRecord {
    /// What events and lists may show of the account.
    #[must_use]
    pub fn summary(&self) -> UserSummary {
        UserSummary {
            id: self.id,
            name: self.name.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            scopes: self.scopes.clone(),
            worker: self.worker,
            status: self.status,
        }
    }
}

/// An account to create (already checked).
#[derive(Clone)]
pub struct NewUser {
    pub name: String,
    pub display_name: String,
    pub role: Role,
    pub scopes: Vec<Scope>,
    pub worker: Option<WorkerId>,
    pub password_hash: String,
    pub must_change_password: bool,
    pub totp_secret: Option<String>,
}

/// A change to an account: its new fields (all but the sign-in counters, the last login and the
/// TOTP step, which sign-in keeps), and whether its sessions end with it.
#[derive(Debug, Clone)]
pub struct UserUpdate {
    pub user: UserRecord,
    /// End every session of the user but `keep` (a password change keeps the session that made it).
    pub end_sessions: bool,
    pub keep: Option<SessionId>,
    /// Clear the lockout and the failure count (an administrator's password reset or unlock).
    pub unlock: bool,
    /// An audit row of its own, beside `user.updated`, for what the update means (a password changed
    /// or reset); written in the same transaction.
    pub note: Option<audit::Entry>,
}

/// A stored session. Only hashes of its id and CSRF token are kept.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub id: SessionId,
    pub user: UserId,
    pub csrf_hash: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The absolute end.
    pub expires_at: DateTime<Utc>,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A session to open.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// SHA-256 (hex) of the session id the cookie carries.
    pub hash: String,
    pub csrf_hash: String,
    pub user: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// Users and sessions; see the module docs.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// Inserts an account and appends `user.created`; `Conflict` when the name is taken.
    async fn insert_user(&self, user: &NewUser) -> Result<(UserRecord, Event), StoreError>;

    /// Writes the account's fields, bumps its version and appends `user.updated`, ending its sessions
    /// when asked, in one transaction. `NotFound` for an unknown id.
    async fn update_user(&self, update: &UserUpdate) -> Result<(UserRecord, Event), StoreError>;

    async fn user(&self, id: UserId) -> Result<Option<UserRecord>, StoreError>;

    /// The account with this (lower-case) login name.
    async fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>, StoreError>;

    /// Every account, by id.
    async fn users(&self) -> Result<Vec<UserRecord>, StoreError>;

    /// Every account's id and version: what the credentials watch compares with its cache.
    async fn user_versions(&self) -> Result<Vec<(UserId, i64)>, StoreError>;

    /// Counts one more sign-in attempt against the account, before its password is checked, and
    /// returns the new count: concurrent guesses each take a number, so no more than the limit are ever
    /// checked before the lockout.
    async fn count_login_attempt(&self, id: UserId) -> Result<u32, StoreError>;

    /// Locks the account until `until` and starts its count again; `entry` (the lockout) is its audit
    /// row, in the same transaction.
    async fn lock_user(
        &self,
        id: UserId,
        until: DateTime<Utc>,
        entry: audit::Entry,
    ) -> Result<(), StoreError>;

    /// A successful sign-in, in one transaction: the count and the lock cleared, the last login and
    /// the TOTP step noted, the session opened, and `entry` (the sign-in) in the audit trail with the
    /// new session's id as its detail.
    async fn open_session(
        &self,
        session: &NewSession,
        totp_step: Option<i64>,
        entry: audit::Entry,
    ) -> Result<SessionRecord, StoreError>;

    /// The session whose id hashes to `hash`, unless revoked.
    async fn session_by_hash(&self, hash: &str) -> Result<Option<SessionRecord>, StoreError>;

    async fn session(&self, id: SessionId) -> Result<Option<SessionRecord>, StoreError>;

    /// A user's sessions that are not revoked, by id (expired ones too: the caller knows the clock).
    async fn sessions_of(&self, user: UserId) -> Result<Vec<SessionRecord>, StoreError>;

    /// Revokes a session and writes `entry` (a sign-out, or a session ended) in the audit trail, in
    /// one transaction; `false`, and no row, when it was already revoked or does not exist.
    async fn revoke_session(
        &self,
        id: SessionId,
        at: DateTime<Utc>,
        entry: audit::Entry,
    ) -> Result<bool, StoreError>;

    /// Notes a session's last use (its idle timeout counts from here).
    async fn touch_session(&self, id: SessionId, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Sessions revoked at or after `since`: what the credentials watch reads (older ones have
    /// passed their absolute end anyway).
    async fn revoked_sessions(&self, since: DateTime<Utc>) -> Result<Vec<SessionId>, StoreError>;
}
