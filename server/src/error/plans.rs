//! Boundary plans' errors as problems: a proposal's problems (422, the first kind gives the `type`,
//! all are listed in `problems`), a stale or already applied plan (409).
//!
//! Every refusal also carries what a page needs to word it in its own language and to show it on the
//! map, so it never has to print the English `detail`: a stable `code` (the first problem's `kind`, or
//! `stale`, `applied`, `bad_name`, `no_free_code`), the figures of the message (`base_version`,
//! `current_version`, `plan`, `version`, `max_chars`, `community`) and `cells`: every H3 cell (as a
//! string) the problems name, in order and once each, for the planner to outline.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::ApiError;
use crate::plans::validate::MAX_NAME_CHARS;
use crate::plans::{PlanError, Problem, ProblemKind};

/// The `type` of a refused proposal whose first problem is of this kind.
fn slug(kind: ProblemKind) -> &'static str {
    match kind {
        ProblemKind::InvalidCell => "plan-invalid-cell",
        ProblemKind::UnknownGrid => "plan-unknown-grid",
        ProblemKind::DuplicateGrid => "plan-duplicate-grid",
        ProblemKind::EmptyGrid => "plan-empty-grid",
        ProblemKind::Overlap => "plan-overlap",
        ProblemKind::ForeignCell => "plan-foreign-cell",
        ProblemKind::Gap => "plan-gap",
        ProblemKind::SplitGrid => "plan-split-grid",
    }
}

/// Every cell the problems name, once each, in the order named.
fn cells(problems: &[Problem]) -> Value {
    let mut seen = std::collections::HashSet::new();
    let cells: Vec<&str> = problems
        .iter()
        .flat_map(|p| p.cells.iter().map(String::as_str))
        .filter(|c| seen.insert(*c))
        .collect();
    json!(cells)
}

/// A refused proposal (422) or a stored plan no longer valid (409), with its problems.
fn refused(
    status: StatusCode,
    slug: &'static str,
    detail: String,
    problems: &[Problem],
) -> ApiError {
    let code = problems.first().map_or(Value::Null, |p| json!(p.kind));
    ApiError::new(status, slug, detail)
        .with("code", code)
        .with("cells", cells(problems))
        .with("problems", json!(problems))
}

impl From<PlanError> for ApiError {
    fn from(error: PlanError) -> Self {
        let detail = error.to_string();
        match error {
            PlanError::Access(e) => e.into(),
            PlanError::Invalid(problems) => {
                let slug = problems.first().map_or("plan-invalid", |p| slug(p.kind));
                refused(StatusCode::UNPROCESSABLE_ENTITY, slug, detail, &problems)
            }
            PlanError::NoLongerValid(problems) => {
                refused(StatusCode::CONFLICT, "plan-stale", detail, &problems)
            }
            PlanError::Stale {
                base_version,
                current_version,
                ..
            } => {
                let problem = json!({"kind": "stale", "count": 1, "cells": [], "grids": [], "message": detail});
                Self::new(StatusCode::CONFLICT, "plan-stale", detail)
                    .code("stale")
                    .with("cells", json!([]))
                    .with("problems", json!([problem]))
                    .with("base_version", base_version)
                    .with("current_version", current_version)
            }
            PlanError::BadName(_) => Self::invalid(detail)
                .with("field", "grids[].name")
                .code("bad_name")
                .with("max_chars", MAX_NAME_CHARS),
            PlanError::NoFreeCode(community) => Self::invalid(detail)
                .code("no_free_code")
                .with("community", json!(community)),
            PlanError::Applied { plan, version } => {
                Self::new(StatusCode::CONFLICT, "plan-applied", detail)
                    .code("applied")
                    .with("plan", plan)
                    .with("version", version)
            }
            PlanError::ApplyRefused(_) => {
                Self::new(StatusCode::CONFLICT, "plan-applied", detail).code("applied")
            }
            PlanError::Store(e) => e.into(),
        }
    }
}
