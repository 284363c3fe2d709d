//! People's accounts (issue 18): creating, changing, disabling and resetting users, shared by the API
//! (`/api/users`) and `gridwatch user`. Only the Argon2id hash of a password is stored; a generated
//! one-time password and a TOTP secret are returned once, to be handed to the person.
//!
//! Nobody manages an account beyond their own reach, by the token rules (`admin::tokens`): no higher
//! role, scopes inside one's own, a worker one wholly manages — judged on the account as it is and as it
//! would become. People's roles only (reporters and devices are machines, with tokens). The auditor
//! role is managed from the command line only, so the administrator cannot give itself the audit trail
//! (three-role separation). A role that signs in with TOTP cannot be given to an account without a
//! secret. Every change bumps the account's version, so every node re-reads it within a second.

use crate::admin::tokens::{TokenError, checked_scopes, within_reach};
use crate::audit;
use crate::core::Core;
use crate::domain::user::is_person_role;
use crate::domain::{AccessError, Principal, Role, Scope, Subject, UserId, UserStatus, WorkerId};
use crate::identity::{PasswordError, Policy, passwords, totp};
use crate::store::{NewUser, Store, StoreError, UserRecord, UserUpdate};
use crate::world::World;

/// The longest display name, in characters.
pub const MAX_DISPLAY_CHARS: usize = 100;
/// The longest login name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Why an account was not created or changed; nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("a login name has 1 to {MAX_NAME_CHARS} of a-z, 0-9, '.', '_', '-' and '@', not {0:?}")]
    BadName(String),
    #[error("a display name has 1 to {MAX_DISPLAY_CHARS} characters")]
    BadDisplayName,
    /// Reporters and devices are machines: they hold tokens.
    #[error("the {} role belongs to a machine's token, not a person", .0.as_str())]
    MachineOnly(Role),
    /// Only the command line makes, changes or resets auditors.
    #[error("auditors are managed from the command line only (three-role separation)")]
    AuditorByCommandLine,
    /// The role signs in with TOTP, and the account has no secret.
    #[error("the {} role signs in with a TOTP code: issue the account a TOTP secret first", .0.as_str())]
    TotpRequired(Role),
    /// A worker account that would act for no one, everywhere.
    #[error("a worker account needs a worker_id or scopes")]
    NoWorkerOrScope,
    /// The role, scopes or worker reach beyond the caller's own (the token rules).
    #[error(transparent)]
    Reach(#[from] TokenError),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An account to create, as asked for.
#[derive(Debug, Clone)]
pub struct Request {
    pub name: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub scopes: Vec<String>,
    pub worker: Option<WorkerId>,
    /// `None`: a one-time password is generated.
    pub password: Option<String>,
    /// Whether the person must choose a new password at first sign-in (`None`: yes).
    pub must_change_password: Option<bool>,
    /// Issue a TOTP secret even where the role does not need one.
    pub totp: bool,
}

/// A change to an account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub scopes: Option<Vec<String>>,
    /// `Some(None)` takes the worker away.
    pub worker: Option<Option<WorkerId>>,
    pub status: Option<UserStatus>,
    /// Clear a lockout.
    pub unlock: bool,
}

/// A created or reset account with what is shown only once.
#[derive(Debug, Clone)]
pub struct Issued {
    pub user: UserRecord,
    /// The password generated, when none was given.
    pub one_time_password: Option<String>,
    /// A TOTP secret issued now (base32).
    pub totp_secret: Option<String>,
}

/// The login name as stored, or why it cannot be one.
pub fn checked_name(name: &str) -> Result<String, UserError> {
    let normal = crate::identity::normal_name(name);
    let ok = !normal.is_empty()
        && normal.chars().count() <= MAX_NAME_CHARS
        && normal
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c));
    if ok {
        Ok(normal)
    } else {
        Err(UserError::BadName(name.to_owned()))
    }
}

fn checked_display(display: &str) -> Result<String, UserError> {
    let display = display.trim();
    if display.is_empty() || display.chars().count() > MAX_DISPLAY_CHARS {
        return Err(UserError::BadDisplayName);
    }
    Ok(display.to_owned())
}

/// Checks what an account would be against the world and against `by` (`None`: the command line).
fn checked_fields(
    world: &World,
    by: Option<&Principal>,
    role: Role,
    scopes: &[Scope],
    worker: Option<WorkerId>,
) -> Result<(), UserError> {
    if !is_person_role(role) {
        return Err(UserError::MachineOnly(role));
    }
    if let Some(id) = worker {
        world
            .worker(id)
            .ok_or(AccessError::NotFound(Subject::Worker(id)))?;
    }
    if role == Role::Worker && worker.is_none() && scopes.is_empty() {
        return Err(UserError::NoWorkerOrScope);
    }
    if let Some(by) = by {
        if role == Role::Auditor {
            return Err(UserError::AuditorByCommandLine);
        }
        within_reach(world, by, role, scopes, worker)?;
    }
    Ok(())
}

/// Whether `by` may manage `user` as it stands (the command line may manage anyone).
fn reaches(world: &World, by: Option<&Principal>, user: &UserRecord) -> Result<(), UserError> {
    let Some(by) = by else { return Ok(()) };
    if user.role == Role::Auditor {
        return Err(UserError::AuditorByCommandLine);
    }
    if by.user() == Some(user.id)
        || within_reach(world, by, user.role, &user.scopes, user.worker).is_ok()
    {
        Ok(())
    } else {
        Err(AccessError::OutOfScope(Subject::User(user.id)).into())
    }
}

/// Creates an account. The password is checked and hashed before the write lock is taken.
pub async fn create(
    core: &Core,
    by: Option<&Principal>,
    request: Request,
) -> Result<Issued, UserError> {
    let name = checked_name(&request.name)?;
    let (password, one_time) = if let Some(p) = request.password.clone() {
        (p, None)
    } else {
        let p = passwords::one_time();
        (p.clone(), Some(p))
    };
    core.identity().passwords.check(&password, &name)?;
    let hash = passwords::hash(password).await;
    let by = by.cloned();
    let policy = core.identity().clone();
    let generated = one_time.is_some();
    let (user, totp_secret) = core
        .write(move |w| async move {
            let new = {
                let world = w.world();
                new_user(
                    &world,
                    by.as_ref(),
                    &policy,
                    &request,
                    name,
                    hash,
                    generated,
                )?
            };
            let (record, event) = w.store().insert_user(&new.0).await?;
            w.stored(event, |_| {});
            Ok::<_, UserError>((record, new.1))
        })
        .await?;
    Ok(Issued {
        user,
        one_time_password: one_time,
        totp_secret,
    })
}

/// The row of a checked new account, and the TOTP secret issued with it.
fn new_user(
    world: &World,
    by: Option<&Principal>,
    policy: &Policy,
    request: &Request,
    name: String,
    password_hash: String,
    generated: bool,
) -> Result<(NewUser, Option<String>), UserError> {
    let scopes = checked_scopes(world, &request.scopes)?;
    checked_fields(world, by, request.role, &scopes, request.worker)?;
    let display_name = checked_display(request.display_name.as_deref().unwrap_or(&name))?;
    let totp_secret = (request.totp || policy.needs_totp(request.role)).then(totp::new_secret);
    Ok((
        NewUser {
            name,
            display_name,
            role: request.role,
            scopes,
            worker: request.worker,
            password_hash,
            must_change_password: generated || request.must_change_password.unwrap_or(true),
            totp_secret: totp_secret.clone(),
        },
        totp_secret,
    ))
}

/// Creates an account from the command line, on a store no server may be running against (the
/// credentials watch of a running one sees it on first use).
pub async fn create_offline(
    store: &std::sync::Arc<dyn Store>,
    world: &World,
    policy: &Policy,
    request: Request,
) -> Result<Issued, UserError> {
    let name = checked_name(&request.name)?;
    let generated = request.password.is_none();
    let password = request.password.clone().unwrap_or_else(passwords::one_time);
    policy.passwords.check(&password, &name)?;
    let hash = passwords::hash(password.clone()).await;
    let (new, totp_secret) = new_user(world, None, policy, &request, name, hash, generated)?;
    let (user, _) = store.insert_user(&new).await?;
    Ok(Issued {
        user,
        one_time_password: generated.then_some(password),
        totp_secret,
    })
}

/// Every account `by` reaches (`None`: every account), by id.
pub async fn list(core: &Core, by: Option<&Principal>) -> Result<Vec<UserRecord>, UserError> {
    let all = core.store().users().await?;
    let world = core.world();
    Ok(all
        .into_iter()
        .filter(|u| reaches(&world, by, u).is_ok())
        .collect())
}

/// One account `by` reaches.
pub async fn one(core: &Core, by: Option<&Principal>, id: UserId) -> Result<UserRecord, UserError> {
    let user = core
        .store()
        .user(id)
        .await?
        .ok_or(AccessError::NotFound(Subject::User(id)))?;
    reaches(&core.world(), by, &user)?;
    Ok(user)
}

/// The new record of `user` under `change`, checked against the world, the policy and `by`.
pub fn changed(
    world: &World,
    by: Option<&Principal>,
    policy: &Policy,
    user: UserRecord,
    change: &Change,
) -> Result<UserRecord, UserError> {
    reaches(world, by, &user)?;
    let scopes = match &change.scopes {
        Some(scopes) => checked_scopes(world, scopes)?,
        None => user.scopes.clone(),
    };
    let role = change.role.unwrap_or(user.role);
    let worker = change.worker.unwrap_or(user.worker);
    checked_fields(world, by, role, &scopes, worker)?;
    if policy.needs_totp(role) && user.totp_secret.is_none() {
        return Err(UserError::TotpRequired(role));
    }
    let display_name = match &change.display_name {
        Some(d) => checked_display(d)?,
        None => user.display_name.clone(),
    };
    Ok(UserRecord {
        display_name,
        role,
        scopes,
        worker,
        status: change.status.unwrap_or(user.status),
        ..user
    })
}

/// The one way an account changes: inside the write lock, `edit` turns the stored account (and the
/// world) into the update to store; its `user.updated` event is committed with it and every node
/// re-reads the account within a second. The place the audit trail records account changes.
async fn rewrite<F>(core: &Core, id: UserId, edit: F) -> Result<UserRecord, UserError>
where
    F: FnOnce(&World, UserRecord) -> Result<UserUpdate, UserError> + Send + 'static,
{
    let user = core
        .write(move |w| async move {
            let user = w
                .store()
                .user(id)
                .await?
                .ok_or(AccessError::NotFound(Subject::User(id)))?;
            let update = edit(&w.world(), user)?;
            let (record, event) = w.store().update_user(&update).await?;
            w.stored(event, |_| {});
            Ok::<_, UserError>(record)
        })
        .await?;
    core.credentials().user_changed(id);
    Ok(user)
}

/// Changes an account. A disabled account's sessions end; every node re-reads it within a second.
pub async fn update(
    core: &Core,
    by: Option<&Principal>,
    id: UserId,
    change: Change,
) -> Result<UserRecord, UserError> {
    let by = by.cloned();
    let policy = core.identity().clone();
    rewrite(core, id, move |world, user| {
        let new = changed(world, by.as_ref(), &policy, user, &change)?;
        Ok(UserUpdate {
            end_sessions: new.status == UserStatus::Disabled,
            keep: None,
            unlock: change.unlock,
            user: new,
            note: None,
        })
    })
    .await
}

/// What a reset issues: a new password (given or generated) and/or a new TOTP secret.
#[derive(Debug, Clone, Default)]
pub struct Reset {
    /// `Some(None)`: generate a one-time password; `Some(Some(p))`: set `p`.
    pub password: Option<Option<String>>,
    pub must_change_password: Option<bool>,
    /// Issue a new TOTP secret.
    pub totp: bool,
}

/// Resets an account's password and/or TOTP secret: its lockout is cleared and every session ends.
pub async fn reset(
    core: &Core,
    by: Option<&Principal>,
    id: UserId,
    reset: Reset,
) -> Result<Issued, UserError> {
    let current = one(core, by, id).await?;
    let (hash, one_time) = match &reset.password {
        Some(given) => {
            let password = given.clone().unwrap_or_else(passwords::one_time);
            core.identity().passwords.check(&password, &current.name)?;
            let generated = given.is_none().then(|| password.clone());
            (Some(passwords::hash(password).await), generated)
        }
        None => (None, None),
    };
    let totp_secret = reset.totp.then(totp::new_secret);
    let by = by.cloned();
    let secret = totp_secret.clone();
    let generated = one_time.is_some();
    let what: Vec<&str> = [
        reset.password.is_some().then_some("password"),
        reset.totp.then_some("TOTP secret"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let note = audit::Entry::new(
        audit::current().as_ref(),
        "user.credentials_reset",
        Some(format!("user:{}", id.0)),
        audit::Outcome::Ok,
        Some(format!("new {}; every session ended", what.join(" and "))),
    );
    let user = rewrite(core, id, move |world, user| {
        reaches(world, by.as_ref(), &user)?;
        let must_change = match &hash {
            Some(_) => generated || reset.must_change_password.unwrap_or(true),
            None => user.must_change_password,
        };
        Ok(UserUpdate {
            user: UserRecord {
                password_hash: hash.unwrap_or_else(|| user.password_hash.clone()),
                must_change_password: must_change,
                totp_secret: secret.or_else(|| user.totp_secret.clone()),
                ..user
            },
            end_sessions: true,
            keep: None,
            unlock: true,
            note: Some(note),
        })
    })
    .await?;
    Ok(Issued {
        user,
        one_time_password: one_time,
        totp_secret,
    })
}
