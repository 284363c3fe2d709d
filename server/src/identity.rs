//! Identity (issue 18, GB/T 22239-2019 level 3 §8.1.4.1): how a person signs in and how long a session
//! lasts. [`Policy`] holds the rules, configurable with level 3's defaults (a password of at least 8
//! characters from 3 of 4 classes; 5 failures lock the account for 15 minutes, counted per account and
//! per client address; sessions end after 30 minutes idle or 12 hours in all; a TOTP code for the admin
//! and auditor roles). [`login`] checks a name, a password and a code and opens a session;
//! [`change_password`] is the one thing a session that must change its password may do.
//!
//! What changes the store writes its audit row in the same transaction: a sign-in (`session.login`,
//! with the session it opened), a lockout (`session.locked`), a sign-out (`session.logout`), another
//! session ended (`session.ended`), a password change (`user.password_changed`, beside
//! `user.updated`). Every sign-in also returns its facts ([`LoginAttempt`]: who, from where, when, the
//! outcome) for the caller to log, and to record a refusal, which changes nothing, beside it. Must not
//! answer HTTP (`api/session.rs` does, through `error.rs`) or cache credentials (`auth::credentials`).

pub mod passwords;
pub mod totp;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};

use crate::audit::{self, Actor, ActorKind, Entry, Outcome};
use crate::auth::{hash_secret, new_session_secret};
use crate::core::Core;
use crate::domain::{Principal, Role, SessionId, UserId, UserStatus};
use crate::store::{NewSession, SessionRecord, StoreError, UserRecord, UserUpdate};
pub use passwords::{PasswordError, Rules};

/// Names (of no account) whose failures are counted in memory, at most; past it the oldest half goes.
const PHANTOM_NAMES: usize = 10_000;
/// Client addresses whose failures are counted, at most.
const ADDRESSES: usize = 100_000;

/// The identity rules of a deployment.
#[derive(Debug, Clone)]
pub struct Policy {
    pub passwords: Rules,
    /// Failed sign-ins that lock an account.
    pub max_failures: u32,
    /// Failed sign-ins from one client address (on any names) within [`Policy::lockout`] that refuse
    /// that address for [`Policy::lockout`].
    pub address_max_failures: u32,
    pub lockout: TimeDelta,
    /// A session unused this long has ended.
    pub idle_timeout: TimeDelta,
    /// A session ends this long after sign-in, however busy.
    pub absolute_timeout: TimeDelta,
    /// Roles that must give a TOTP code at sign-in.
    pub totp_roles: Vec<Role>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            passwords: Rules::default(),
            max_failures: 5,
            address_max_failures: 5,
            lockout: TimeDelta::minutes(15),
            idle_timeout: TimeDelta::minutes(30),
            absolute_timeout: TimeDelta::hours(12),
            totp_roles: vec![Role::Admin, Role::Auditor],
        }
    }
}

impl Policy {
    /// Whether a user of `role` must give a TOTP code.
    #[must_use]
    pub fn needs_totp(&self, role: Role) -> bool {
        self.totp_roles.contains(&role)
    }

    /// Whether the session has ended at `now`, with `last_seen` its last use.
    #[must_use]
    pub fn ended(
        &self,
        session: &SessionRecord,
        last_seen: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> bool {
        session.revoked_at.is_some()
            || now >= session.expires_at
            || now >= last_seen + self.idle_timeout
    }

    /// When the session ends if it is not used again.
    #[must_use]
    pub fn ends_at(&self, session: &SessionRecord, last_seen: DateTime<Utc>) -> DateTime<Utc> {
        session.expires_at.min(last_seen + self.idle_timeout)
    }
}

/// Failures counted in memory: per client address, and per name no account has (so a name that does
/// not exist locks exactly like one that does, and answers do not tell them apart).
#[derive(Debug, Default)]
pub struct Throttle {
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    addresses: HashMap<IpAddr, Window>,
    names: HashMap<String, Window>,
}

/// Failures since `since`, and the lock they led to.
#[derive(Debug, Clone, Copy)]
struct Window {
    failures: u32,
    since: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
}

impl Window {
    fn locked(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.locked_until.filter(|until| *until > now)
    }

    /// One more failure at `now`: the lock it leads to, if any.
    fn fail(&mut self, now: DateTime<Utc>, max: u32, lockout: TimeDelta) -> Option<DateTime<Utc>> {
        if now - self.since > lockout {
            self.failures = 0;
            self.since = now;
        }
        self.failures += 1;
        if self.failures >= max {
            self.failures = 0;
            self.since = now;
            self.locked_until = Some(now + lockout);
        }
        self.locked(now)
    }
}

fn fail_in<K: std::hash::Hash + Eq + Clone>(
    map: &mut HashMap<K, Window>,
    cap: usize,
    key: &K,
    now: DateTime<Utc>,
    max: u32,
    lockout: TimeDelta,
) -> Option<DateTime<Utc>> {
    if map.len() >= cap {
        // Keep the locked and the recent; a flood of new keys cannot grow the map without bound.
        map.retain(|_, w| w.locked(now).is_some() || now - w.since <= lockout);
        if map.len() >= cap {
            map.clear();
        }
    }
    map.entry(key.clone())
        .or_insert(Window {
            failures: 0,
            since: now,
            locked_until: None,
        })
        .fail(now, max, lockout)
}

impl Throttle {
    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn address_locked(&self, address: Option<IpAddr>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let address = address?;
        self.counts().addresses.get(&address)?.locked(now)
    }

    fn address_failed(&self, address: Option<IpAddr>, now: DateTime<Utc>, policy: &Policy) {
        if let Some(address) = address {
            let mut counts = self.counts();
            fail_in(
                &mut counts.addresses,
                ADDRESSES,
                &address,
                now,
                policy.address_max_failures,
                policy.lockout,
            );
        }
    }

    fn name_locked(&self, name: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.counts().names.get(name)?.locked(now)
    }

    fn name_failed(
        &self,
        name: &str,
        now: DateTime<Utc>,
        policy: &Policy,
    ) -> Option<DateTime<Utc>> {
        let mut counts = self.counts();
        fail_in(
            &mut counts.names,
            PHANTOM_NAMES,
            &name.to_owned(),
            now,
            policy.max_failures,
            policy.lockout,
        )
    }
}

/// A sign-in as asked.
#[derive(Debug, Clone)]
pub struct LoginRequest {
    pub name: String,
    pub password: String,
    pub totp: Option<String>,
    /// The client's address, when the transport knows it.
    pub address: Option<IpAddr>,
    pub user_agent: Option<String>,
}

/// What happened to a sign-in: the facts an audit trail records.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginAttempt {
    /// The name as given (normalised).
    pub name: String,
    /// The account it named, if any.
    pub user: Option<UserId>,
    pub address: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub at: DateTime<Utc>,
    /// `Ok(session)` or why it was refused.
    pub outcome: Result<SessionId, LoginError>,
}

/// Why a sign-in was refused; nothing was opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// A wrong name, password or code: never says which.
    #[error("wrong name, password or code")]
    BadCredentials,
    /// The password was right; the account needs a TOTP code as well.
    #[error("this account needs a TOTP code from its authenticator app")]
    TotpRequired,
    /// The account must give a TOTP code but has no secret yet.
    #[error("this account needs a TOTP secret; ask an administrator to issue one")]
    TotpNotSetUp,
    #[error("too many failed sign-ins: the account is locked until {until}")]
    Locked { until: DateTime<Utc> },
    #[error("too many failed sign-ins from your address: try again after {until}")]
    AddressLocked { until: DateTime<Utc> },
    /// The password was right, but the account is disabled.
    #[error("this account is disabled")]
    Disabled,
    #[error("the store failed while signing in")]
    Store,
}

/// An open session: its record, the account, and the two secrets only the client gets (the session
/// id for the cookie and the CSRF token), shown once.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: SessionRecord,
    pub user: UserRecord,
    pub secret: String,
    pub csrf: String,
}

/// The login name as stored: trimmed, lower case.
#[must_use]
pub fn normal_name(name: &str) -> String {
    name.trim().to_lowercase()
}

/// An audit row of a sign-in or session change under the current request's context (address, user
/// agent), its actor the person: by account when one is known, by the name given otherwise.
#[must_use]
pub fn person_entry(
    action: &str,
    user: Option<UserId>,
    role: Option<Role>,
    name: &str,
    outcome: Outcome,
    detail: Option<String>,
) -> Entry {
    let mut entry = Entry::new(
        audit::current().as_ref(),
        action,
        user.map(|u| format!("user:{}", u.0)),
        outcome,
        detail,
    );
    entry.actor = Actor {
        kind: ActorKind::User,
        id: user.map(|u| u.0),
        name: Some(name.chars().take(64).collect()),
        role,
    };
    entry
}

/// Signs in: returns the attempt's facts and, on success, the session. Refusals that need no
/// password check (a locked account or address) never run one; every check that does runs the same
/// Argon2 work whether or not the name exists.
pub async fn login(
    core: &Core,
    request: LoginRequest,
) -> (LoginAttempt, Result<SignedIn, LoginError>) {
    let now = core.now();
    let name = normal_name(&request.name);
    let result = attempt(core, &name, &request, now).await;
    let (user, outcome) = match &result {
        Ok(signed) => (Some(signed.user.id), Ok(signed.session.id)),
        Err((user, e)) => (*user, Err(e.clone())),
    };
    let facts = LoginAttempt {
        name,
        user,
        address: request.address,
        user_agent: request.user_agent,
        at: now,
        outcome,
    };
    (facts, result.map_err(|(_, e)| e))
}

type Refused = (Option<UserId>, LoginError);

fn stored(user: Option<UserId>) -> impl Fn(StoreError) -> Refused {
    move |error| {
        tracing::error!(%error, "store failure while signing in");
        (user, LoginError::Store)
    }
}

async fn attempt(
    core: &Core,
    name: &str,
    request: &LoginRequest,
    now: DateTime<Utc>,
) -> Result<SignedIn, Refused> {
    let policy = core.identity();
    let throttle = core.throttle();
    if let Some(until) = throttle.address_locked(request.address, now) {
        return Err((None, LoginError::AddressLocked { until }));
    }
    let store = core.store();
    let user = store.user_by_name(name).await.map_err(stored(None))?;
    let id = user.as_ref().map(|u| u.id);
    let mut counted = 0;
    match &user {
        Some(user) => {
            if let Some(until) = user.locked_until.filter(|until| *until > now) {
                return Err((id, LoginError::Locked { until }));
            }
            let count = store
                .count_login_attempt(user.id)
                .await
                .map_err(stored(id))?;
            counted = count;
            if count > policy.max_failures {
                // Guesses sent together each took a number; those past the limit are not checked.
                let until = now + policy.lockout;
                store
                    .lock_user(user.id, until, locked_entry(user, until))
                    .await
                    .map_err(stored(id))?;
                return Err((id, LoginError::Locked { until }));
            }
        }
        None => {
            if let Some(until) = throttle.name_locked(name, now) {
                return Err((None, LoginError::Locked { until }));
            }
        }
    }
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let right = passwords::verify(request.password.clone(), hash).await;
    let checked = match (&user, right) {
        (Some(user), true) => second_factor(policy, user, request.totp.as_deref(), now),
        _ => Err(LoginError::BadCredentials),
    };
    let step = match checked {
        Ok(step) => step,
        Err(error) => {
            // A missing code after a right password is the first step of a two-step sign-in: it
            // keeps the number it took, but locks nothing by itself.
            let counts = error == LoginError::BadCredentials;
            if counts {
                throttle.address_failed(request.address, now, policy);
            }
            let locked = match &user {
                Some(user) if counts => {
                    if counted >= policy.max_failures {
                        let until = now + policy.lockout;
                        store
                            .lock_user(user.id, until, locked_entry(user, until))
                            .await
                            .map_err(stored(id))?;
                        Some(until)
                    } else {
                        None
                    }
                }
                Some(_) => None,
                None => throttle.name_failed(name, now, policy),
            };
            return Err((
                id,
                locked.map_or(error, |until| LoginError::Locked { until }),
            ));
        }
    };
    let Some(user) = user else {
        return Err((None, LoginError::BadCredentials));
    };
    open(core, user, request, step, now)
        .await
        .map_err(stored(id))
}

/// Opens a session for `user`, who has passed every check: the sign-in noted, the session stored and
/// its audit row written, in one transaction.
async fn open(
    core: &Core,
    user: UserRecord,
    request: &LoginRequest,
    totp_step: Option<i64>,
    now: DateTime<Utc>,
) -> Result<SignedIn, StoreError> {
    let (secret, csrf) = (new_session_secret(), new_session_secret());
    let new = NewSession {
        hash: hash_secret(&secret),
        csrf_hash: hash_secret(&csrf),
        user: user.id,
        created_at: now,
        expires_at: now + core.identity().absolute_timeout,
        address: request.address.map(|a| a.to_string()),
        user_agent: request
            .user_agent
            .as_ref()
            .map(|a| a.chars().take(300).collect()),
    };
    let entry = person_entry(
        "session.login",
        Some(user.id),
        Some(user.role),
        &user.name,
        Outcome::Ok,
        None,
    );
    let session = core.store().open_session(&new, totp_step, entry).await?;
    Ok(SignedIn {
        session,
        user,
        secret,
        csrf,
    })
}

/// The audit row of an account locked by failed sign-ins.
fn locked_entry(user: &UserRecord, until: DateTime<Utc>) -> Entry {
    person_entry(
        "session.locked",
        Some(user.id),
        Some(user.role),
        &user.name,
        Outcome::Denied,
        Some(format!("locked until {until}")),
    )
}

/// After a right password: whether the account may sign in and, for one with a TOTP secret, the code
/// (the step it matched, kept so it is not accepted again).
fn second_factor(
    policy: &Policy,
    user: &UserRecord,
    code: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, LoginError> {
    if user.status == UserStatus::Disabled {
        return Err(LoginError::Disabled);
    }
    let Some(secret) = &user.totp_secret else {
        return if policy.needs_totp(user.role) {
            Err(LoginError::TotpNotSetUp)
        } else {
            Ok(None)
        };
    };
    let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
        return Err(LoginError::TotpRequired);
    };
    totp::verify(secret, code, now.timestamp(), user.totp_last_step)
        .map(Some)
        .ok_or(LoginError::BadCredentials)
}

/// Why a session was not ended.
#[derive(Debug, thiserror::Error)]
pub enum EndError {
    /// Unknown, or another person's: the two answer alike.
    #[error("session {0} does not exist")]
    NotYours(SessionId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Ends session `session` of person `user` (signing out, or ending another of one's sessions): refused
/// at once on this node and within a second on every other, its websockets closed. The one place a
/// person ends a session, for the audit trail to record.
/// `principal`'s session is the one asking: the same one is a sign-out (`session.logout`), another one is
/// `session.ended`.
pub async fn end_session(
    core: &Core,
    principal: &Principal,
    session: SessionId,
) -> Result<(), EndError> {
    let (Some(user), Some(by)) = (principal.user(), principal.session()) else {
        return Err(EndError::NotYours(session));
    };
    match core.store().session(session).await? {
        Some(record) if record.user == user => {}
        _ => return Err(EndError::NotYours(session)),
    }
    let action = if session == by {
        "session.logout"
    } else {
        "session.ended"
    };
    // The request's context names the person (authentication did).
    let entry = Entry::new(
        audit::current().as_ref(),
        action,
        Some(format!("session:{}", session.0)),
        Outcome::Ok,
        None,
    );
    core.store()
        .revoke_session(session, core.now(), entry)
        .await?;
    core.credentials().revoke_session(session);
    Ok(())
}

/// Why a password was not changed; nothing was.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// Only a person signed in has a password (a token does not).
    #[error("only a signed-in person has a password to change")]
    NotAPerson,
    #[error("the current password is wrong")]
    WrongPassword,
    #[error(transparent)]
    Rules(#[from] PasswordError),
    #[error("the account no longer exists")]
    Gone,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Changes the password of the person signed in as `principal`, who must give the current one. Ends
/// every other session of the account and clears must-change-password; the session that asked stays.
pub async fn change_password(
    core: &Core,
    principal: &Principal,
    current: String,
    new: String,
) -> Result<(), ChangeError> {
    let (Some(user), Some(session)) = (principal.user(), principal.session()) else {
        return Err(ChangeError::NotAPerson);
    };
    let record = core.store().user(user).await?.ok_or(ChangeError::Gone)?;
    core.identity().passwords.check(&new, &record.name)?;
    if current == new {
        return Err(PasswordError::Unchanged.into());
    }
    if !passwords::verify(current, Some(record.password_hash.clone())).await {
        return Err(ChangeError::WrongPassword);
    }
    let hash = passwords::hash(new).await;
    core.write(move |w| async move {
        let record = w.store().user(user).await?.ok_or(ChangeError::Gone)?;
        let update = UserUpdate {
            user: UserRecord {
                password_hash: hash,
                must_change_password: false,
                ..record
            },
            end_sessions: true,
            keep: Some(session),
            unlock: false,
            note: Some(Entry::new(
                audit::current().as_ref(),
                "user.password_changed",
                Some(format!("user:{}", user.0)),
                Outcome::Ok,
                Some(format!("the other sessions ended; session {session} kept")),
            )),
        };
        let (_, event) = w.store().update_user(&update).await?;
        w.stored(event, |_| {});
        Ok::<_, ChangeError>(())
    })
    .await?;
    core.credentials().user_changed(user);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_locks_at_the_limit_and_forgets_old_failures() {
        let t0: DateTime<Utc> = "2026-03-01T08:00:00Z".parse().expect("a time");
        let lockout = TimeDelta::minutes(15);
        let mut w = Window {
            failures: 0,
            since: t0,
            locked_until: None,
        };
        for i in 1..5 {
            assert_eq!(w.fail(t0 + TimeDelta::seconds(i), 5, lockout), None);
        }
        assert_eq!(
            w.fail(t0 + TimeDelta::seconds(5), 5, lockout),
            Some(t0 + TimeDelta::seconds(5) + lockout)
        );
        assert!(w.locked(t0 + TimeDelta::minutes(10)).is_some());
        assert!(w.locked(t0 + TimeDelta::minutes(21)).is_none());
        // Four failures, then a quiet window: the count starts again.
        let mut w = Window {
            failures: 0,
            since: t0,
            locked_until: None,
        };
        for i in 1..5 {
            w.fail(t0 + TimeDelta::seconds(i), 5, lockout);
        }
        assert_eq!(w.fail(t0 + TimeDelta::minutes(16), 5, lockout), None);
        assert_eq!(w.failures, 1);
    }
}
