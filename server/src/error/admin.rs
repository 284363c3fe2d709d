//! The reference data's errors as problems: workers, regions, categories and departments, tokens,
//! buildings.

use axum::http::StatusCode;

use super::ApiError;
use crate::admin::buildings::BuildingError;
use crate::admin::categories::CategoryError;
use crate::admin::regions::RegionError;
use crate::admin::tokens::TokenError;
use crate::admin::workers::WorkerError;

impl From<WorkerError> for ApiError {
    fn from(error: WorkerError) -> Self {
        let code = super::codes::worker(&error);
        let detail = error.to_string();
        let problem = match error {
            WorkerError::Access(e) => e.into(),
            WorkerError::BadName
            | WorkerError::BadText { .. }
            | WorkerError::GridListedTwice(_) => Self::invalid(detail),
            WorkerError::PrimaryTaken { holder, .. } => {
                Self::conflict(detail).with("primary_worker_id", holder.0)
            }
            WorkerError::Store(e) => e.into(),
        };
        problem.coded(code)
    }
}

impl From<RegionError> for ApiError {
    fn from(error: RegionError) -> Self {
        let code = super::codes::region(&error);
        let detail = error.to_string();
        let problem = match error {
            RegionError::BadCode { .. }
            | RegionError::BadName
            | RegionError::DistrictWithParent
            | RegionError::NoParent { .. }
            | RegionError::WrongParentLevel { .. }
            | RegionError::CodeOutsideParent { .. } => Self::invalid(detail),
            RegionError::CodeTaken(_) => Self::conflict(detail),
            RegionError::Access(e) => e.into(),
            RegionError::Store(e) => e.into(),
        };
        problem.coded(code)
    }
}

impl From<CategoryError> for ApiError {
    fn from(error: CategoryError) -> Self {
        let code = super::codes::category(&error);
        let detail = error.to_string();
        let problem = match error {
            CategoryError::UnknownDepartment(_) => {
                Self::invalid(detail).with("field", "department")
            }
            CategoryError::UnknownMember(_) => Self::invalid(detail).with("field", "members"),
            CategoryError::Store(e) => e.into(),
        };
        problem.coded(code)
    }
}

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> Self {
        let code = super::codes::token(&error);
        let detail = error.to_string();
        let problem = match error {
            TokenError::BadScope(_)
            | TokenError::NoWorkerOrScope
            | TokenError::LabelTooLong
            | TokenError::BadLifetime { .. }
            | TokenError::CommandLineOnly(_) => Self::invalid(detail),
            // Asking for more than one's own reach is a refusal of the caller, not of the input.
            TokenError::HigherRole { .. } | TokenError::Unscoped => Self::forbidden(detail),
            TokenError::Access(e) => e.into(),
            TokenError::Store(e) => e.into(),
        };
        problem.coded(code)
    }
}

impl From<BuildingError> for ApiError {
    fn from(error: BuildingError) -> Self {
        let code = super::codes::building(&error);
        let detail = error.to_string();
        let problem = match error {
            BuildingError::NoArea => Self::geometry(detail),
            BuildingError::Coordinate(e) => e.into(),
            BuildingError::OutsideGrids => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "outside-grids", detail)
            }
            BuildingError::Access(e) => e.into(),
            BuildingError::Store(e) => e.into(),
        };
        problem.coded(code)
    }
}
