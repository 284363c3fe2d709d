//! The `code` member of the reference data's, the field services', accounts' and alarms' problems: one
//! `snake_case` code per error variant, with the variant's values as members, so a page can say the
//! refusal in its own language without reading `detail`. Variants that hand over to another error
//! (`Access`, `Store`, a coordinate, a password rule) take that error's members and have none here.

use serde_json::{Value, json};

use crate::admin::buildings::BuildingError;
use crate::admin::categories::CategoryError;
use crate::admin::regions::RegionError;
use crate::admin::tokens::TokenError;
use crate::admin::users::UserError;
use crate::admin::workers::WorkerError;
use crate::alarms::AlarmError;
use crate::cameras::CameraError;
use crate::identity::{ChangeError, EndError, LoginError, PasswordError};
use crate::patrols::PatrolError;
use crate::tracking::PositionError;

/// A code and its members (an object, maybe empty).
pub(super) type Code = Option<(&'static str, Value)>;

// `Some` here, so each arm of the matches below reads as one call.
#[allow(clippy::unnecessary_wraps)]
fn code(code: &'static str) -> Code {
    Some((code, json!({})))
}

#[allow(clippy::unnecessary_wraps)]
fn code_with(code: &'static str, members: Value) -> Code {
    Some((code, members))
}

pub(super) fn worker(error: &WorkerError) -> Code {
    match error {
        WorkerError::BadName => code_with("bad_name", json!({"field": "name"})),
        WorkerError::BadText { field, max } => {
            code_with("text_too_long", json!({"field": field, "max": max}))
        }
        WorkerError::GridListedTwice(grid) => code_with(
            "grid_listed_twice",
            json!({"field": "grids", "value": grid}),
        ),
        WorkerError::PrimaryTaken { grid, .. } => {
            code_with("primary_taken", json!({"grid_id": grid}))
        }
        WorkerError::Access(_) | WorkerError::Store(_) => None,
    }
}

pub(super) fn region(error: &RegionError) -> Code {
    match error {
        RegionError::BadCode { level, code } => code_with(
            "bad_region_code",
            json!({"field": "code", "level": level, "value": code}),
        ),
        RegionError::BadName => code_with("bad_name", json!({"field": "name"})),
        RegionError::CodeTaken(taken) => {
            code_with("code_taken", json!({"field": "code", "value": taken}))
        }
        RegionError::DistrictWithParent => code("district_with_parent"),
        RegionError::NoParent { level, parent } => {
            code_with("no_parent", json!({"level": level, "parent_level": parent}))
        }
        RegionError::WrongParentLevel { level, parent } => code_with(
            "wrong_parent_level",
            json!({"level": level, "parent_level": parent}),
        ),
        RegionError::CodeOutsideParent { code, parent_code } => code_with(
            "code_outside_parent",
            json!({"field": "code", "value": code, "parent_code": parent_code}),
        ),
        RegionError::Access(_) | RegionError::Store(_) => None,
    }
}

pub(super) fn category(error: &CategoryError) -> Code {
    match error {
        CategoryError::UnknownDepartment(d) => code_with("unknown_department", json!({"value": d})),
        CategoryError::UnknownMember(w) => code_with("unknown_member", json!({"value": w})),
        CategoryError::Store(_) => None,
    }
}

pub(super) fn token(error: &TokenError) -> Code {
    match error {
        TokenError::BadScope(s) => code_with("bad_scope", json!({"field": "scopes", "value": s})),
        TokenError::NoWorkerOrScope => code("no_worker_or_scope"),
        TokenError::LabelTooLong => code_with("label_too_long", json!({"field": "label"})),
        TokenError::BadLifetime { role, days } => {
            code_with("bad_lifetime", json!({"role": role, "days": days}))
        }
        TokenError::CommandLineOnly(role) => code_with("command_line_only", json!({"role": role})),
        TokenError::HigherRole { minter, role } => {
            code_with("higher_role", json!({"minter_role": minter, "role": role}))
        }
        TokenError::Unscoped => code("unscoped"),
        TokenError::Access(_) | TokenError::Store(_) => None,
    }
}

pub(super) fn building(error: &BuildingError) -> Code {
    match error {
        BuildingError::NoArea => code("no_area"),
        BuildingError::OutsideGrids => code("outside_grids"),
        BuildingError::Coordinate(_) | BuildingError::Access(_) | BuildingError::Store(_) => None,
    }
}

pub(super) fn login(error: &LoginError) -> Code {
    match error {
        LoginError::BadCredentials => code("bad_credentials"),
        LoginError::TotpRequired => code("totp_required"),
        LoginError::TotpNotSetUp => code("totp_not_set_up"),
        LoginError::Locked { .. } => code("account_locked"),
        LoginError::AddressLocked { .. } => code("address_locked"),
        LoginError::Disabled => code("account_disabled"),
        LoginError::Store => None,
    }
}

pub(super) fn password(error: &PasswordError) -> Code {
    match error {
        PasswordError::TooShort { min } => code_with("password_too_short", json!({"min": min})),
        PasswordError::TooSimple { min } => {
            code_with("password_too_simple", json!({"min_classes": min}))
        }
        PasswordError::ContainsName => code("password_contains_name"),
        PasswordError::TooLong => code("password_too_long"),
        PasswordError::Unchanged => code("password_unchanged"),
    }
}

pub(super) fn change(error: &ChangeError) -> Code {
    match error {
        ChangeError::NotAPerson => code("not_a_person"),
        ChangeError::WrongPassword => code("wrong_password"),
        ChangeError::Gone => code("session_gone"),
        ChangeError::Rules(_) | ChangeError::Store(_) => None,
    }
}

pub(super) fn end(error: &EndError) -> Code {
    match error {
        EndError::NotYours(_) => code("session_not_yours"),
        EndError::Store(_) => None,
    }
}

pub(super) fn user(error: &UserError) -> Code {
    match error {
        UserError::BadName(name) => code_with("bad_name", json!({"field": "name", "value": name})),
        UserError::BadDisplayName => {
            code_with("bad_display_name", json!({"field": "display_name"}))
        }
        UserError::MachineOnly(role) => code_with("machine_only_role", json!({"role": role})),
        UserError::AuditorByCommandLine => code("auditor_by_command_line"),
        UserError::TotpRequired(role) => code_with("totp_required_for_role", json!({"role": role})),
        UserError::NoWorkerOrScope => code("no_worker_or_scope"),
        UserError::Reach(_)
        | UserError::Password(_)
        | UserError::Access(_)
        | UserError::Store(_) => None,
    }
}

pub(super) fn position(error: &PositionError) -> Code {
    match error {
        PositionError::Empty => code("no_positions"),
        PositionError::TooMany(n) => code_with("too_many_positions", json!({"count": n})),
        PositionError::Refused { count, .. } => {
            code_with("positions_refused", json!({"count": count}))
        }
        PositionError::WriterStopped => code("writer_stopped"),
        PositionError::StoreRefused => code("store_refused"),
        PositionError::StoreFull => code("store_full"),
    }
}

pub(super) fn patrol(error: &PatrolError) -> Code {
    match error {
        PatrolError::AlreadyOnPatrol { .. } => code("already_on_patrol"),
        PatrolError::AlreadyEnded { .. } => code("patrol_already_ended"),
        PatrolError::Access(_) | PatrolError::Store(_) => None,
    }
}

pub(super) fn camera(error: &CameraError) -> Code {
    match error {
        CameraError::Invalid(_) => code("invalid_camera"),
        CameraError::Unchanged => code("camera_unchanged"),
        CameraError::OutOfScope { index } => {
            code_with("camera_out_of_scope", json!({"index": index}))
        }
        CameraError::Access(_) | CameraError::Store(_) => None,
    }
}

pub(super) fn alarm(error: &AlarmError) -> Code {
    match error {
        AlarmError::AlreadyAcknowledged { .. } => code("already_acknowledged"),
        AlarmError::Access(_) | AlarmError::Store(_) => None,
    }
}
