//! gridwatch: grid-based community management and patrol coordination.
//!
//! Data flow for every change: command → validate against the world → store transaction (row + event)
//! → apply to the in-memory world → publish. Reads are served from the world.

pub mod domain;
pub mod store;
pub mod world;
pub mod api;
pub mod auth;
pub mod error;
pub mod state;
pub mod city;
pub mod config;
pub mod dispatch;
pub mod clock;
pub mod cases;
pub mod live;

use std::future::Future;

pub use api::app;
pub use state::AppState;

/// Serves the API on `listener` until `shutdown` resolves, then finishes in-flight requests.
///
/// Tests bind `127.0.0.1:0` and pass the listener in, so they never race for a port.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tokio::spawn(live::hub::run(state.clone()));
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await
}
