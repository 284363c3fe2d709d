//! Changes to the reference data a deployment administers — workers and their duties, categories and
//! departments, regions, buildings, API tokens, people's accounts — as service functions. Each validates against the world
//! and commits through `Core::write`; the handlers in `api/` parse HTTP, check roles and call these.
//!
//! Each module returns its own error enum (`WorkerError`, `CategoryError`, `RegionError`,
//! `BuildingError`, `TokenError`, `UserError`) naming the value refused and why; `error.rs` maps them to HTTP.
//!
//! What it must not touch: HTTP types (requests, status codes, problem slugs, JSON shapes of answers)
//! and the store's internals. Cases, cameras, patrols, plans and alerts have their own services
//! (`cases`, `cameras`, `patrols`, `plans`, `alerts`).

pub mod audit;
pub mod buildings;
pub mod categories;
pub mod regions;
pub mod tokens;
pub mod users;
pub mod workers;
