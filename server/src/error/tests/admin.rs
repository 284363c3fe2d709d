//! The reference data's errors: workers, categories, regions, tokens, buildings.

use serde_json::json;

use super::{INTERNAL, database, problem, seen, with};
use crate::admin::buildings::BuildingError;
use crate::admin::categories::CategoryError;
use crate::admin::regions::RegionError;
use crate::admin::tokens::TokenError;
use crate::admin::workers::WorkerError;
use crate::domain::{AccessError, GridId, RegionId, RegionLevel, Role, Scope, Subject, WorkerId};
use crate::world::LocateError;

#[test]
fn worker_and_category_refusals() {
    let invalid = |detail: &str| problem(422, "invalid-input", detail);
    assert_eq!(
        seen(WorkerError::Access(AccessError::NotFound(Subject::Grid(
            GridId(3)
        )))),
        problem(404, "not-found", "grid 3 does not exist")
    );
    assert_eq!(
        seen(WorkerError::Access(AccessError::OutOfScope(
            Subject::Worker(WorkerId(2))
        ))),
        problem(403, "forbidden", "worker 2 is outside your scope")
    );
    assert_eq!(
        seen(WorkerError::BadName),
        with(
            invalid("name must have 1 to 200 characters"),
            &json!({"code": "bad_name", "field": "name"})
        )
    );
    assert_eq!(
        seen(WorkerError::BadText {
            field: "phone",
            max: 40
        }),
        with(
            invalid("phone must have 1 to 40 characters, or be null"),
            &json!({"code": "text_too_long", "field": "phone", "max": 40})
        )
    );
    assert_eq!(
        seen(WorkerError::GridListedTwice(GridId(3))),
        with(
            invalid("grid 3 is listed twice"),
            &json!({"code": "grid_listed_twice", "field": "grids", "value": 3})
        )
    );
    assert_eq!(
        seen(WorkerError::PrimaryTaken {
            grid: GridId(3),
            holder: WorkerId(6),
        }),
        with(
            problem(
                409,
                "conflict",
                "grid 3 already has primary worker 6; make them a backup first"
            ),
            &json!({"code": "primary_taken", "primary_worker_id": 6, "grid_id": 3})
        )
    );
    assert_eq!(
        seen(WorkerError::Store(database())),
        problem(500, "internal", INTERNAL)
    );
    assert_eq!(
        seen(CategoryError::UnknownDepartment("power".into())),
        with(
            invalid("unknown department \"power\""),
            &json!({"code": "unknown_department", "field": "department", "value": "power"})
        )
    );
    assert_eq!(
        seen(CategoryError::UnknownMember(WorkerId(41))),
        with(
            invalid("unknown worker 41"),
            &json!({"code": "unknown_member", "field": "members", "value": 41})
        )
    );
    assert_eq!(
        seen(CategoryError::Store(database())),
        problem(500, "internal", INTERNAL)
    );
}

#[test]
fn region_refusals() {
    let invalid = |detail: &str| problem(422, "invalid-input", detail);
    for (error, detail, members) in [
        (
            RegionError::BadCode {
                level: RegionLevel::Street,
                code: "1234".into(),
            },
            "a street code has 9 digits, got \"1234\"",
            json!({"code": "bad_region_code", "field": "code", "level": "street", "value": "1234"}),
        ),
        (
            RegionError::BadName,
            "name must have 1 to 200 characters",
            json!({"code": "bad_name", "field": "name"}),
        ),
        (
            RegionError::DistrictWithParent,
            "a district has no parent",
            json!({"code": "district_with_parent"}),
        ),
        (
            RegionError::NoParent {
                level: RegionLevel::Community,
                parent: RegionLevel::Street,
            },
            "a community needs a parent street",
            json!({"code": "no_parent", "level": "community", "parent_level": "street"}),
        ),
        (
            RegionError::WrongParentLevel {
                level: RegionLevel::Street,
                parent: RegionLevel::District,
            },
            "the parent of a street must be a district",
            json!({"code": "wrong_parent_level", "level": "street", "parent_level": "district"}),
        ),
        (
            RegionError::CodeOutsideParent {
                code: "140201001".into(),
                parent_code: "140202".into(),
            },
            "code 140201001 must extend its parent's code 140202",
            json!({"code": "code_outside_parent", "field": "code", "value": "140201001",
                "parent_code": "140202"}),
        ),
    ] {
        assert_eq!(seen(error), with(invalid(detail), &members));
    }
    assert_eq!(
        seen(RegionError::CodeTaken("140202".into())),
        with(
            problem(409, "conflict", "region code 140202 is taken"),
            &json!({"code": "code_taken", "field": "code", "value": "140202"})
        )
    );
    assert_eq!(
        seen(RegionError::Access(AccessError::NotFound(
            Subject::ParentRegion(RegionId(9))
        ))),
        problem(404, "not-found", "parent region 9 does not exist")
    );
    assert_eq!(
        seen(RegionError::Store(database())),
        problem(500, "internal", INTERNAL)
    );
}

#[test]
fn token_refusals() {
    let invalid = |detail: &str| problem(422, "invalid-input", detail);

    assert_eq!(
        seen(TokenError::BadScope("street:1".into())),
        with(
            invalid("scope \"street:1\" is not region:<id> or grid:<id>"),
            &json!({"code": "bad_scope", "field": "scopes", "value": "street:1"})
        )
    );
    assert_eq!(
        seen(TokenError::Access(AccessError::NotFound(
            Subject::ScopeTarget(Scope::Region(RegionId(77)))
        ))),
        problem(404, "not-found", "scope target region:77 does not exist")
    );
    assert_eq!(
        seen(TokenError::NoWorkerOrScope),
        with(
            invalid("a worker or device token needs a worker_id or scopes"),
            &json!({"code": "no_worker_or_scope"})
        )
    );
    assert_eq!(
        seen(TokenError::LabelTooLong),
        with(
            invalid("label must have at most 200 characters"),
            &json!({"code": "label_too_long", "field": "label"})
        )
    );
    assert_eq!(
        seen(TokenError::BadLifetime {
            role: Role::Admin,
            days: 91
        }),
        with(
            invalid("a token of the admin role lives 1 to 90 days, not 91"),
            &json!({"code": "bad_lifetime", "role": "admin", "days": 91})
        )
    );
    assert_eq!(
        seen(TokenError::CommandLineOnly(Role::Auditor)),
        with(
            invalid(
                "a token of the auditor role is minted only with `gridwatch token create` on the server"
            ),
            &json!({"code": "command_line_only", "role": "auditor"})
        )
    );
    assert_eq!(
        seen(TokenError::Unscoped),
        with(
            problem(
                403,
                "forbidden",
                "your token is scoped, so the new one needs scopes inside yours"
            ),
            &json!({"code": "unscoped"})
        )
    );
    assert_eq!(
        seen(TokenError::HigherRole {
            minter: Role::Commander,
            role: Role::Admin
        }),
        with(
            problem(
                403,
                "forbidden",
                "the commander role may not mint a token of the admin role"
            ),
            &json!({"code": "higher_role", "minter_role": "commander", "role": "admin"})
        )
    );
    assert_eq!(
        seen(TokenError::Store(database())),
        problem(500, "internal", INTERNAL)
    );
}

#[test]
fn building_refusals() {
    assert_eq!(
        seen(BuildingError::NoArea),
        with(
            problem(422, "invalid-geometry", "the footprint has no area"),
            &json!({"code": "no_area"})
        )
    );
    assert_eq!(
        seen(BuildingError::Coordinate(LocateError::Latitude(f64::NAN))),
        with(
            problem(
                400,
                "invalid-coordinate",
                "latitude NaN is not a number in -90..=90"
            ),
            &json!({"code": "invalid_latitude", "field": "lat", "value": "NaN"})
        )
    );
    assert_eq!(
        seen(BuildingError::OutsideGrids),
        with(
            problem(
                422,
                "outside-grids",
                "the building lies in no grid: every household must belong to one"
            ),
            &json!({"code": "outside_grids"})
        )
    );
    assert_eq!(
        seen(BuildingError::Access(AccessError::OutOfScope(
            Subject::Grid(GridId(12))
        ))),
        problem(403, "forbidden", "grid 12 is outside your scope")
    );
    assert_eq!(
        seen(BuildingError::Store(database())),
        problem(500, "internal", INTERNAL)
    );
}
