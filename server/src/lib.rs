//! gridwatch: grid-based community management and patrol coordination.
//!
//! Data flow for every change: command → validate against the world → store transaction (row + event)
//! → apply to the in-memory world → publish. Reads are served from the world.

pub mod api;
pub mod auth;
pub mod cameras;
pub mod cases;
pub mod city;
pub mod clock;
pub mod config;
pub mod dispatch;
pub mod domain;
pub mod error;
pub mod geodesy;
pub mod live;
pub mod patrols;
pub mod plans;
pub mod state;
pub mod store;
pub mod tiles;
pub mod tracking;
pub mod world;

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
    use axum::serve::ListenerExt;
    tokio::spawn(live::hub::run(state.clone()));
    let send_buffer = state.hub().config.send_buffer;
    let listener = listener.tap_io(move |tcp| {
        if let Some(bytes) = send_buffer
            && let Err(error) = socket2::SockRef::from(&*tcp).set_send_buffer_size(bytes)
        {
            tracing::warn!(%error, bytes, "could not cap a connection's send buffer");
        }
    });
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}
