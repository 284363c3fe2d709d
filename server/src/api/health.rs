//! `GET /health`: liveness, the store kind and how current the world is.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

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
    uptime_s: f64,
    live: crate::live::hub::LiveStats,
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
        uptime_s: state.uptime_s(),
        live: state.hub().stats(),
    })
}
