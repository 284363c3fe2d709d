//! People's accounts: signing in, passwords, ending sessions, managing users.

use chrono::{SubsecRound, TimeDelta, Utc};
use serde_json::json;

use super::{INTERNAL, database, problem, seen, with};
use crate::admin::tokens::TokenError;
use crate::admin::users::UserError;
use crate::domain::{AccessError, Role, SessionId, Subject, UserId};
use crate::error::ApiError;
use crate::identity::{ChangeError, EndError, LoginError, PasswordError};

#[test]
fn sign_in_refusals() {
    assert_eq!(
        seen(LoginError::BadCredentials),
        with(
            problem(401, "invalid-credentials", "wrong name, password or code"),
            &json!({"code": "bad_credentials"})
        )
    );
    assert_eq!(
        seen(LoginError::TotpRequired),
        with(
            problem(
                401,
                "totp-required",
                "this account needs a TOTP code from its authenticator app"
            ),
            &json!({"code": "totp_required"})
        )
    );
    assert_eq!(
        seen(LoginError::TotpNotSetUp),
        with(
            problem(
                403,
                "totp-not-set-up",
                "this account needs a TOTP secret; ask an administrator to issue one"
            ),
            &json!({"code": "totp_not_set_up"})
        )
    );
    assert_eq!(
        seen(LoginError::Disabled),
        with(
            problem(403, "account-disabled", "this account is disabled"),
            &json!({"code": "account_disabled"})
        )
    );
    assert_eq!(seen(LoginError::Store), problem(500, "internal", INTERNAL));
    // A lock says until when, in the body and in Retry-After.
    let until = (Utc::now() + TimeDelta::seconds(600)).trunc_subsecs(0);
    let locked: ApiError = LoginError::Locked { until }.into();
    assert!(
        locked
            .retry_after_s
            .is_some_and(|s| (590..=600).contains(&s)),
        "{:?}",
        locked.retry_after_s
    );
    assert_eq!(
        seen(LoginError::Locked { until }),
        with(
            problem(
                423,
                "account-locked",
                &format!("too many failed sign-ins: the account is locked until {until}")
            ),
            &json!({"code": "account_locked", "locked_until": until.to_rfc3339()})
        )
    );
    let address: ApiError = LoginError::AddressLocked { until }.into();
    assert_eq!(address.status.as_u16(), 429);
    assert!(address.retry_after_s.is_some());
    assert_eq!(
        seen(LoginError::AddressLocked { until }),
        with(
            problem(
                429,
                "too-many-failures",
                &format!("too many failed sign-ins from your address: try again after {until}")
            ),
            &json!({"code": "address_locked", "locked_until": until.to_rfc3339()})
        )
    );
}

#[test]
fn password_and_session_refusals() {
    let weak = |detail: &str| problem(422, "weak-password", detail);
    assert_eq!(
        seen(PasswordError::TooShort { min: 8 }),
        with(
            weak("a password needs at least 8 characters"),
            &json!({"code": "password_too_short", "min": 8})
        )
    );
    assert_eq!(
        seen(PasswordError::TooSimple { min: 3 }),
        with(
            weak(
                "a password needs characters from at least 3 of: lower case, upper case, digits, others"
            ),
            &json!({"code": "password_too_simple", "min_classes": 3})
        )
    );
    assert_eq!(
        seen(PasswordError::ContainsName),
        with(
            weak("a password may not contain the login name"),
            &json!({"code": "password_contains_name"})
        )
    );
    assert_eq!(
        seen(PasswordError::TooLong),
        with(
            weak("a password has at most 1024 characters"),
            &json!({"code": "password_too_long"})
        )
    );
    assert_eq!(
        seen(PasswordError::Unchanged),
        with(
            weak("the new password must differ from the current one"),
            &json!({"code": "password_unchanged"})
        )
    );
    assert_eq!(
        seen(ChangeError::NotAPerson),
        with(
            problem(
                403,
                "not-a-session",
                "only a signed-in person has a password to change"
            ),
            &json!({"code": "not_a_person"})
        )
    );
    assert_eq!(
        seen(ChangeError::WrongPassword),
        with(
            problem(403, "wrong-password", "the current password is wrong"),
            &json!({"code": "wrong_password"})
        )
    );
    assert_eq!(
        seen(ChangeError::Rules(PasswordError::TooLong)),
        with(
            weak("a password has at most 1024 characters"),
            &json!({"code": "password_too_long"})
        )
    );
    assert_eq!(
        seen(ChangeError::Gone),
        with(
            problem(401, "unauthorized", "the account no longer exists"),
            &json!({"code": "session_gone"})
        )
    );
    assert_eq!(
        seen(ChangeError::Store(database())),
        problem(500, "internal", INTERNAL)
    );
    assert_eq!(
        seen(EndError::NotYours(SessionId(9))),
        with(
            problem(404, "not-found", "session 9 does not exist"),
            &json!({"code": "session_not_yours"})
        )
    );
    assert_eq!(
        seen(EndError::Store(database())),
        problem(500, "internal", INTERNAL)
    );
}

#[test]
fn account_refusals() {
    let invalid = |detail: &str| problem(422, "invalid-input", detail);
    assert_eq!(
        seen(UserError::BadName("Bad Name!".into())),
        with(
            invalid(
                "a login name has 1 to 64 of a-z, 0-9, '.', '_', '-' and '@', not \"Bad Name!\""
            ),
            &json!({"code": "bad_name", "field": "name", "value": "Bad Name!"})
        )
    );
    assert_eq!(
        seen(UserError::BadDisplayName),
        with(
            invalid("a display name has 1 to 100 characters"),
            &json!({"code": "bad_display_name", "field": "display_name"})
        )
    );
    assert_eq!(
        seen(UserError::MachineOnly(Role::Device)),
        with(
            invalid("the device role belongs to a machine's token, not a person"),
            &json!({"code": "machine_only_role", "role": "device"})
        )
    );
    assert_eq!(
        seen(UserError::AuditorByCommandLine),
        with(
            problem(
                403,
                "forbidden",
                "auditors are managed from the command line only (three-role separation)"
            ),
            &json!({"code": "auditor_by_command_line"})
        )
    );
    assert_eq!(
        seen(UserError::TotpRequired(Role::Admin)),
        with(
            invalid(
                "the admin role signs in with a TOTP code: issue the account a TOTP secret first"
            ),
            &json!({"code": "totp_required_for_role", "role": "admin"})
        )
    );
    assert_eq!(
        seen(UserError::NoWorkerOrScope),
        with(
            invalid("a worker account needs a worker_id or scopes"),
            &json!({"code": "no_worker_or_scope"})
        )
    );
    assert_eq!(
        seen(UserError::Reach(TokenError::Unscoped)),
        seen(TokenError::Unscoped)
    );
    assert_eq!(
        seen(UserError::Password(PasswordError::TooShort { min: 8 })),
        with(
            problem(
                422,
                "weak-password",
                "a password needs at least 8 characters"
            ),
            &json!({"code": "password_too_short", "min": 8})
        )
    );
    assert_eq!(
        seen(UserError::Access(AccessError::OutOfScope(Subject::User(
            UserId(4)
        )))),
        problem(403, "forbidden", "user 4 is outside your scope")
    );
    assert_eq!(
        seen(UserError::Store(database())),
        problem(500, "internal", INTERNAL)
    );
}
