//! Boundary plans' errors as problems: a proposal's problems (422, the first kind gives the `type`,
//! all are listed in `problems`), a stale or already applied plan (409).

use axum::http::StatusCode;
use serde_json::json;

use super::ApiError;
use crate::plans::{PlanError, ProblemKind};

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

impl From<PlanError> for ApiError {
    fn from(error: PlanError) -> Self {
        let detail = error.to_string();
        match error {
            PlanError::Access(e) => e.into(),
            PlanError::Invalid(problems) => {
                let slug = problems.first().map_or("plan-invalid", |p| slug(p.kind));
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, slug, detail)
                    .with("problems", json!(problems))
            }
            PlanError::NoLongerValid(problems) => {
                Self::new(StatusCode::CONFLICT, "plan-stale", detail)
                    .with("problems", json!(problems))
            }
            PlanError::Stale {
                base_version,
                current_version,
                ..
            } => {
                let problem = json!({"kind": "stale", "count": 1, "cells": [], "grids": [], "message": detail});
                Self::new(StatusCode::CONFLICT, "plan-stale", detail)
                    .with("problems", json!([problem]))
                    .with("base_version", base_version)
                    .with("current_version", current_version)
            }
            PlanError::BadName(_) => Self::invalid(detail).with("field", "grids[].name"),
            PlanError::NoFreeCode(_) => Self::invalid(detail),
            PlanError::Applied { .. } | PlanError::ApplyRefused(_) => {
                Self::new(StatusCode::CONFLICT, "plan-applied", detail)
            }
            PlanError::Store(e) => e.into(),
        }
    }
}
