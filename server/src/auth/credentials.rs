//! What this node knows of credentials: tokens and sessions already looked up, by the hash of their
//! secret, the accounts behind the sessions, and what was revoked. A change reaches it two ways: at
//! once from a change made through this node (`admin::tokens::revoke`, `admin::users`, signing out),
//! and within [`WATCH_INTERVAL`] from one made anywhere else (the command line, another node) through
//! [`watch`], which reads the store's revoked tokens, recently revoked sessions and every account's
//! version. Every change bumps a counter that open websockets wait on, so a revoked token's or
//! session's sockets, and a changed or disabled account's, close within a second.
//!
//! A session's last use is kept here and written to the store at most every [`touch_every`] (a
//! quarter of the idle timeout, at most a minute), so using a session is not a write per request.
//!
//! It never decides who may do what (`domain::permission`) and never answers HTTP.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use chrono::{DateTime, TimeDelta, Utc};

use crate::core::WeakCore;
use crate::domain::{SessionId, TokenId, UserId};
use crate::services::Shutdown;
use crate::store::{SessionRecord, TokenRecord, UserRecord};

/// How often [`watch`] reads the store's revoked tokens: a revocation made elsewhere takes effect on
/// this node within this interval (plus one store read).
pub const WATCH_INTERVAL: Duration = Duration::from_millis(500);
/// A token's `last_used_at` is written at most this often, so using a token is not a write per request.
const TOUCH_EVERY: Duration = Duration::from_mins(1);

/// The token cache and revocation list of one node.
#[derive(Debug)]
pub struct Credentials {
    known: Mutex<Known>,
    /// Bumped on every revocation; open websockets wait on it and re-check their token.
    changed: watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct Known {
    by_hash: HashMap<String, TokenRecord>,
    revoked: HashSet<TokenId>,
    touched: HashMap<TokenId, Instant>,
    sessions: HashMap<String, SessionRecord>,
    revoked_sessions: HashSet<SessionId>,
    /// A session's last use seen here, and when it was last written to the store.
    seen: HashMap<SessionId, (DateTime<Utc>, DateTime<Utc>)>,
    users: HashMap<UserId, UserRecord>,
}

/// How often a session's last use is written: a quarter of the idle timeout, at most a minute.
#[must_use]
pub fn touch_every(idle_timeout: TimeDelta) -> TimeDelta {
    (idle_timeout / 4).min(TimeDelta::minutes(1))
}

impl Default for Credentials {
    fn default() -> Self {
        Self {
            known: Mutex::default(),
            changed: watch::Sender::new(0),
        }
    }
}

impl Credentials {
    fn known(&self) -> std::sync::MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The token whose secret hashes to `hash`, if looked up before and not revoked since.
    #[must_use]
    pub fn cached(&self, hash: &str) -> Option<TokenRecord> {
        let known = self.known();
        known
            .by_hash
            .get(hash)
            .filter(|r| !known.revoked.contains(&r.id))
            .cloned()
    }

    /// Keeps a token read from the store, unless it has been revoked meanwhile.
    pub fn remember(&self, hash: String, record: TokenRecord) {
        let mut known = self.known();
        if !known.revoked.contains(&record.id) {
            known.by_hash.insert(hash, record);
        }
    }

    /// Forgets a token for good; `true` when this node did not know it was revoked.
    pub fn revoke(&self, id: TokenId) -> bool {
        let fresh = {
            let mut known = self.known();
            known.by_hash.retain(|_, r| r.id != id);
            known.touched.remove(&id);
            known.revoked.insert(id)
        };
        if fresh {
            self.changed.send_modify(|n| *n += 1);
        }
        fresh
    }

    #[must_use]
    pub fn is_revoked(&self, id: TokenId) -> bool {
        self.known().revoked.contains(&id)
    }

    /// A receiver that wakes on every revocation.
    #[must_use]
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// The session whose id hashes to `hash`, if looked up before and not revoked since.
    #[must_use]
    pub fn cached_session(&self, hash: &str) -> Option<SessionRecord> {
        let known = self.known();
        known
            .sessions
            .get(hash)
            .filter(|s| !known.revoked_sessions.contains(&s.id))
            .cloned()
    }

    /// Keeps a session read from the store, unless it has been revoked meanwhile.
    pub fn remember_session(&self, hash: String, record: SessionRecord) {
        let mut known = self.known();
        if !known.revoked_sessions.contains(&record.id) {
            known.sessions.insert(hash, record);
        }
    }

    /// Ends a session for good; `true` when this node did not know it had ended.
    pub fn revoke_session(&self, id: SessionId) -> bool {
        let fresh = {
            let mut known = self.known();
            known.sessions.retain(|_, s| s.id != id);
            known.seen.remove(&id);
            known.revoked_sessions.insert(id)
        };
        if fresh {
            self.changed.send_modify(|n| *n += 1);
        }
        fresh
    }

    #[must_use]
    pub fn is_session_revoked(&self, id: SessionId) -> bool {
        self.known().revoked_sessions.contains(&id)
    }

    /// The account `id` as last read, unless it changed since.
    #[must_use]
    pub fn cached_user(&self, id: UserId) -> Option<UserRecord> {
        self.known().users.get(&id).cloned()
    }

    pub fn remember_user(&self, record: UserRecord) {
        self.known().users.insert(record.id, record);
    }

    /// Forgets what this node knew of an account that changed (its role, scopes, status, password),
    /// so the next request reads it again, and wakes the open websockets to check theirs.
    pub fn user_changed(&self, id: UserId) {
        self.known().users.remove(&id);
        self.changed.send_modify(|n| *n += 1);
    }

    /// The accounts this node holds and their versions, for the watch to compare.
    fn user_versions(&self) -> Vec<(UserId, i64)> {
        self.known()
            .users
            .values()
            .map(|u| (u.id, u.version))
            .collect()
    }

    /// The last use of a session seen here.
    #[must_use]
    pub fn last_seen(&self, id: SessionId) -> Option<DateTime<Utc>> {
        self.known().seen.get(&id).map(|(at, _)| *at)
    }

    /// Notes a use of session `id` at `now`; `true` when it is time to write it to the store (first use
    /// here, or `every` since the last write).
    pub fn session_used(&self, id: SessionId, now: DateTime<Utc>, every: TimeDelta) -> bool {
        let mut known = self.known();
        let entry = known.seen.entry(id).or_insert((now, now - every));
        entry.0 = entry.0.max(now);
        if now - entry.1 >= every {
            entry.1 = now;
            true
        } else {
            false
        }
    }

    /// Whether to write the token's `last_used_at` now (at most once per [`TOUCH_EVERY`]).
    #[must_use]
    pub fn should_touch(&self, id: TokenId, now: Instant) -> bool {
        let mut known = self.known();
        match known.touched.get(&id) {
            Some(last) if now.duration_since(*last) < TOUCH_EVERY => false,
            _ => {
                known.touched.insert(id, now);
                true
            }
        }
    }
}

/// The revocation watch, a service started by `services::start`: every [`WATCH_INTERVAL`] it reads the
/// store's revoked tokens and revokes here those this node did not know of. Holds the core weakly and
/// ends on `shutdown`.
pub async fn watch(core: WeakCore, mut shutdown: Shutdown) {
    let mut ticker = tokio::time::interval(WATCH_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.stopping() => return,
            _ = ticker.tick() => {}
        }
        let Some(core) = core.upgrade() else { return };
        let credentials = core.credentials();
        match core.store().revoked_tokens().await {
            Ok(ids) => {
                for id in ids {
                    if credentials.revoke(id) {
                        tracing::info!(token = %id, "token revoked elsewhere; refused from now on");
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "could not read revoked tokens"),
        }
        // A session revoked before its longest life ago has ended by itself anyway.
        let since = core.now() - core.identity().absolute_timeout - TimeDelta::minutes(1);
        match core.store().revoked_sessions(since).await {
            Ok(ids) => {
                for id in ids {
                    if credentials.revoke_session(id) {
                        tracing::info!(session = %id, "session ended elsewhere; refused from now on");
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "could not read revoked sessions"),
        }
        let cached = credentials.user_versions();
        if !cached.is_empty() {
            match core.store().user_versions().await {
                Ok(stored) => {
                    let stored: HashMap<UserId, i64> = stored.into_iter().collect();
                    for (id, version) in cached {
                        if stored.get(&id) != Some(&version) {
                            tracing::info!(user = %id, "account changed elsewhere; read again");
                            credentials.user_changed(id);
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "could not read account versions"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn record(id: i64) -> TokenRecord {
        TokenRecord {
            id: TokenId(id),
            role: Role::Worker,
            scopes: vec![],
            worker: None,
            label: None,
            created_at: chrono::Utc::now(),
            expires_at: None,
            prefix: None,
            created_by: None,
            last_used_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn a_revoked_token_is_forgotten_and_never_remembered_again() {
        let credentials = Credentials::default();
        let mut changes = credentials.changes();
        credentials.remember("a".into(), record(1));
        credentials.remember("b".into(), record(2));
        assert!(credentials.cached("a").is_some());
        assert!(credentials.revoke(TokenId(1)));
        assert!(changes.has_changed().unwrap_or(false));
        assert!(credentials.cached("a").is_none());
        assert!(credentials.cached("b").is_some());
        // A lookup that raced the revocation cannot bring it back.
        credentials.remember("a".into(), record(1));
        assert!(credentials.cached("a").is_none());
        assert!(credentials.is_revoked(TokenId(1)));
        // Revoking again is not news.
        changes.mark_unchanged();
        assert!(!credentials.revoke(TokenId(1)));
        assert!(!changes.has_changed().unwrap_or(true));
    }

    #[test]
    fn a_session_is_written_at_most_every_interval_and_a_revoked_one_forgotten() {
        let credentials = Credentials::default();
        let t0: DateTime<Utc> = "2026-03-01T08:00:00Z".parse().expect("a time");
        let every = touch_every(TimeDelta::minutes(30));
        assert_eq!(every, TimeDelta::minutes(1));
        assert_eq!(
            touch_every(TimeDelta::seconds(2)),
            TimeDelta::milliseconds(500)
        );
        let id = SessionId(3);
        assert!(credentials.session_used(id, t0, every));
        assert!(!credentials.session_used(id, t0 + TimeDelta::seconds(30), every));
        assert_eq!(credentials.last_seen(id), Some(t0 + TimeDelta::seconds(30)));
        assert!(credentials.session_used(id, t0 + TimeDelta::seconds(61), every));
        let changes = credentials.changes();
        assert!(credentials.revoke_session(id));
        assert!(changes.has_changed().unwrap_or(false));
        assert!(credentials.is_session_revoked(id));
        assert_eq!(credentials.last_seen(id), None);
        assert!(!credentials.revoke_session(id));
    }

    #[test]
    fn last_use_is_written_at_most_once_a_minute() {
        let credentials = Credentials::default();
        let t0 = Instant::now();
        assert!(credentials.should_touch(TokenId(1), t0));
        assert!(!credentials.should_touch(TokenId(1), t0 + Duration::from_secs(59)));
        assert!(credentials.should_touch(TokenId(1), t0 + Duration::from_secs(61)));
        assert!(credentials.should_touch(TokenId(2), t0));
    }
}
