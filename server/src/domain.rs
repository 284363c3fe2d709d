//! Plain domain types: regions, grids, buildings, workers, access roles, and (`event`) the one enum of
//! everything that can change.
//!
//! Owns the vocabulary of `DOMAIN.md`. No IO, no async, no HTTP: these types are built by the stores,
//! indexed by the world and serialised by the API.

pub mod access;
pub mod alarm;
pub mod basemap;
pub mod building;
pub mod camera;
pub mod category;
pub mod event;
pub mod fix;
pub mod grid;
pub mod ids;
pub mod incident;
pub mod patrol;
pub mod permission;
pub mod region;
pub mod user;
pub mod worker;

pub use access::{AccessError, Credential, Principal, Role, Scope, Subject};
pub use alarm::{Alarm, AlarmId, AlarmKind};
pub use basemap::{BaseArea, BaseFeature, BaseLine};
pub use building::Building;
pub use category::{Category, CategoryClass, Department, TimeLimits};
pub use event::{Change, Event};
pub use fix::Fix;
pub use grid::{Grid, GridFlag};
pub use ids::{
    BuildingId, CameraId, CheckpointId, GridId, PatrolId, RegionId, SessionId, TokenId, UserId,
    WorkerId,
};
pub use incident::{Case, Incident, IncidentId, Photo, Place};
pub use permission::Permission;
pub use region::{Region, RegionLevel};
pub use user::{UserStatus, UserSummary};
pub use worker::{DutyStatus, GridDuty, Responsibility, Worker, WorkerKind};
