//! `GET /health`: liveness, the store kind and how current the world is. `GET /ready`: readiness —
//! whether the store answers now and the world is up with its log, for a load balancer to send
//! requests elsewhere while it is not.

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
    /// This node's name (`--node-id`).
    node: String,
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
        node: state.core().node_id().to_owned(),
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

/// How many events of the log a ready node's world may lack: what other nodes committed in the last
/// moments, on its way (the follower is woken by each commit; 1,000 events is two seconds at 500 cases
/// a second).
pub const READY_LAG: i64 = 1_000;

/// The readiness report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Ready {
    status: &'static str,
    /// This node's name (`--node-id`).
    node: String,
    store: StoreKind,
    /// The last event of the store's log, and the last the world applied.
    log_seq: i64,
    applied_seq: i64,
    /// Events of the log the world lacks (other nodes' writes on their way here).
    lag_events: i64,
    /// `connected` or `disconnected`: the position relay's link to NATS (`--nats-url`); absent on a
    /// node without one. A node away from NATS is still ready: it serves every request, and only
    /// positions reported through other nodes wait.
    #[serde(skip_serializing_if = "Option::is_none")]
    nats: Option<&'static str>,
}

#[utoipa::path(get, path = "/ready", tag = "system",
    responses((status = 200, description = "the store answered within a second and the world lacks at most 1,000 of its events", body = Ready),
        (status = 503, description = "the store did not answer within a second (`store-unavailable`), or the world is over 1,000 events behind the log (`catching-up`, with `lag_events`); `Retry-After`. Reads of the world still work")))]
pub async fn ready(State(state): State<AppState>) -> Result<Json<Ready>, ApiError> {
    state.store().ping(READY_WITHIN).await?;
    let log_seq = tokio::time::timeout(READY_WITHIN, state.store().last_seq())
        .await
        .map_err(|_| ApiError::unavailable("the store did not answer within a second"))??;
    let applied_seq = state.world().last_seq();
    let lag_events = (log_seq - applied_seq).max(0);
    if lag_events > READY_LAG {
        return Err(ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "catching-up",
            format!("this node's world is {lag_events} events behind the store's log"),
        )
        .retry_after(1)
        .with("lag_events", lag_events));
    }
    Ok(Json(Ready {
        status: "ready",
        node: state.core().node_id().to_owned(),
        nats: state
            .core()
            .nats_connected()
            .map(|up| if up { "connected" } else { "disconnected" }),
        store: state.store().kind(),
        log_seq,
        applied_seq,
        lag_events,
    }))
}
