//! Boundary plans' errors.

use serde_json::json;

use super::{INTERNAL, database, problem, seen, with};
use crate::domain::{AccessError, RegionId, Subject};
use crate::plans::{PlanError, Problem, ProblemKind};

fn plan_problem(kind: ProblemKind, message: &str) -> Problem {
    Problem {
        kind,
        count: 2,
        cells: vec!["8c3c1a4b1a3c5ff".into()],
        grids: vec!["140202001001".into()],
        values: serde_json::Map::new(),
        message: message.into(),
    }
}

#[test]
fn refused_proposals_name_every_problem() {
    let slugs = [
        (
            ProblemKind::InvalidCell,
            "plan-invalid-cell",
            "invalid_cell",
        ),
        (
            ProblemKind::UnknownGrid,
            "plan-unknown-grid",
            "unknown_grid",
        ),
        (
            ProblemKind::DuplicateGrid,
            "plan-duplicate-grid",
            "duplicate_grid",
        ),
        (ProblemKind::EmptyGrid, "plan-empty-grid", "empty_grid"),
        (ProblemKind::Overlap, "plan-overlap", "overlap"),
        (
            ProblemKind::ForeignCell,
            "plan-foreign-cell",
            "foreign_cell",
        ),
        (ProblemKind::Gap, "plan-gap", "gap"),
        (ProblemKind::SplitGrid, "plan-split-grid", "split_grid"),
    ];
    for (kind, slug, name) in slugs {
        // The first problem gives the type; all are listed, their messages joined in the detail.
        let problems = vec![
            plan_problem(kind, "2 cells are wrong"),
            plan_problem(ProblemKind::Gap, "2 cells are in no grid"),
        ];
        let listed = |first: &str| {
            json!([
                {"kind": first, "count": 2, "cells": ["8c3c1a4b1a3c5ff"], "grids": ["140202001001"], "message": "2 cells are wrong"},
                {"kind": "gap", "count": 2, "cells": ["8c3c1a4b1a3c5ff"], "grids": ["140202001001"], "message": "2 cells are in no grid"},
            ])
        };
        // `code` and `cells` let a page word the refusal and outline it without the English detail;
        // the cell both problems name is listed once.
        assert_eq!(
            seen(PlanError::Invalid(problems.clone())),
            with(
                problem(422, slug, "2 cells are wrong; 2 cells are in no grid"),
                &json!({"problems": listed(name), "code": name, "cells": ["8c3c1a4b1a3c5ff"]})
            )
        );
        assert_eq!(
            seen(PlanError::NoLongerValid(problems)),
            with(
                problem(
                    409,
                    "plan-stale",
                    "2 cells are wrong; 2 cells are in no grid"
                ),
                &json!({"problems": listed(name), "code": name, "cells": ["8c3c1a4b1a3c5ff"]})
            )
        );
    }
}

#[test]
fn a_split_grid_names_its_cut_off_cells_and_parts() {
    let mut split = plan_problem(ProblemKind::SplitGrid, "1 grids are not connected");
    split.cells = vec!["8c3c1a4b1a3c5ff".into(), "8c3c1a4b1a3c1ff".into()];
    split
        .values
        .insert("parts".into(), json!({"140202001001": 2}));
    let seen = seen(PlanError::Invalid(vec![split]));
    assert_eq!(seen["code"], "split_grid");
    assert_eq!(seen["cells"], json!(["8c3c1a4b1a3c5ff", "8c3c1a4b1a3c1ff"]));
    assert_eq!(
        seen["problems"][0]["values"],
        json!({"parts": {"140202001001": 2}})
    );
}

#[test]
fn stale_applied_and_unknown_plans() {
    let stale = "plan 4 was drawn on the grids as imported, but community 3 is now at version 2; \
                 draft it again on the current grids";
    assert_eq!(
        seen(PlanError::Stale {
            plan: 4,
            community: RegionId(3),
            base_version: None,
            current_version: Some(2),
        }),
        with(
            problem(409, "plan-stale", stale),
            &json!({
                "code": "stale",
                "cells": [],
                "problems": [{"kind": "stale", "count": 1, "cells": [], "grids": [], "message": stale}],
                "base_version": null,
                "current_version": 2,
            })
        )
    );
    assert_eq!(
        seen(PlanError::BadName(" ".into())),
        with(
            problem(
                422,
                "invalid-input",
                "a grid name must be 1–200 characters, not \" \""
            ),
            &json!({"field": "grids[].name", "code": "bad_name", "max_chars": 200})
        )
    );
    assert_eq!(
        seen(PlanError::NoFreeCode(RegionId(3))),
        with(
            problem(
                422,
                "invalid-input",
                "community 3 has no free grid code left"
            ),
            &json!({"code": "no_free_code", "community": 3})
        )
    );
    assert_eq!(
        seen(PlanError::Applied {
            plan: 4,
            version: 2
        }),
        with(
            problem(409, "plan-applied", "plan 4 is already applied (version 2)"),
            &json!({"code": "applied", "plan": 4, "version": 2})
        )
    );
    assert_eq!(
        seen(PlanError::ApplyRefused("plan 4 is not a draft".into())),
        with(
            problem(409, "plan-applied", "plan 4 is not a draft"),
            &json!({"code": "applied"})
        )
    );
    assert_eq!(
        seen(PlanError::Access(AccessError::NotFound(Subject::Version {
            id: 9,
            community: RegionId(3)
        }))),
        problem(404, "not-found", "version 9 of community 3 does not exist")
    );
    assert_eq!(
        seen(PlanError::Access(AccessError::OutOfScope(
            Subject::Community(RegionId(3))
        ))),
        problem(403, "forbidden", "community 3 is outside your scope")
    );
    assert_eq!(
        seen(PlanError::Store(database())),
        problem(500, "internal", INTERNAL)
    );
}
