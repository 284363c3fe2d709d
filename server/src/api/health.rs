//! `GET /health`: liveness, the store kind and how current the world is. `GET /ready`: readiness —
//! whether the store answers now, for a load balancer to take writes elsewhere while it does not.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::StoreKind;

/// The health report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    status: &'static str,
    version: &'static str,
    store: StoreKind,
    /// Sequence number of the last event applied to the in-memory world.
    last_seq: i64,
    /// H3 resolution of grid cells.
    cell_resolution: u8,
    grids: usize,
    /// The cases the world holds: every open or deferred one, and the finished ones changed since
    /// `archived_before` (older finished cases are only in the store).
    cases: WorldCases,
    uptime_s: f64,
    live: crate::live::hub::LiveStats,
}

/// What the world holds of the cases.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WorldCases {
    held: usize,
    /// Of those, closed, cancelled or merged.
    finished: usize,
    /// The archive line: finished cases last changed before it are read from the store; `null` while
    /// no case has been archived.
    #[schema(value_type = Option<String>, format = DateTime)]
    archived_before: Option<chrono::DateTime<chrono::Utc>>,
}

#[utoipa::path(get, path = "/health", tag = "system", responses((status = 200, body = Health)))]
pub async fn health(State(state): State<AppState>) -> Json<Health> {
    let world = state.world();
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        store: state.store().kind(),
        last_seq: world.last_seq(),
        cell_resolution: u8::from(world.resolution()),
        grids: world.grids().count(),
        cases: {
            let (held, finished) = world.case_counts();
            WorldCases {
                held,
                finished,
                archived_before: world.archive_line(),
            }
        },
        uptime_s: state.uptime_s(),
        live: state.hub().stats(),
    })
}

/// How long `/ready` waits for the store to answer.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(1);

/// The readiness report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Ready {
    status: &'static str,
    store: StoreKind,
}

#[utoipa::path(get, path = "/ready", tag = "system",
    responses((status = 200, description = "the store answered within a second", body = Ready),
        (status = 503, description = "the store did not answer within a second (`store-unavailable`, `Retry-After`); reads of the world still work, writes are refused")))]
pub async fn ready(State(state): State<AppState>) -> Result<Json<Ready>, ApiError> {
    state.store().ping(READY_WITHIN).await?;
    Ok(Json(Ready {
        status: "ready",
        store: state.store().kind(),
    }))
}
