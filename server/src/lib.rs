//! gridwatch: grid-based community management and patrol coordination.
//!
//! Data flow for every change: command → validate against the world → store transaction (row + event)
//! → apply to the in-memory world → publish, all inside `Core::write` (`core`). Reads are served from
//! the world. Services (`services`) hold the core; `serve` starts them and stops them on shutdown.

pub mod admin;
pub mod alarms;
pub mod alerts;
pub mod api;
pub mod audit;
pub mod auth;
pub mod cameras;
pub mod cases;
pub mod city;
pub mod clock;
pub mod config;
pub mod core;
pub mod dispatch;
pub mod domain;
pub mod error;
pub mod follow;
pub mod geodesy;
pub mod identity;
pub mod lease;
pub mod live;
pub mod patrols;
pub mod plans;
pub mod relay;
pub mod replay;
pub mod services;
pub mod simulation;
pub mod state;
pub mod store;
pub mod throttle;
pub mod tiles;
pub mod tracking;
pub mod transport;
pub mod warnings;
pub mod world;

use std::future::Future;
use std::time::Duration;

pub use crate::core::Core;
pub use api::app;
pub use state::AppState;

/// How long requests in flight may take to finish once shutdown begins, before the services stop anyway.
const REQUESTS_GRACE: Duration = Duration::from_secs(4);

/// How the server meets its clients: the connections ([`transport::Settings`]: header-read timeout,
/// connection cap, TLS) and what one request may cost ([`api::Limits`]: request timeout, rate limits).
#[derive(Debug, Clone, Default)]
pub struct ServeConfig {
    pub transport: transport::Settings,
    pub limits: api::Limits,
}

/// Serves the API on `listener` with every service started on `core`, until `shutdown` resolves; then
/// shuts down gracefully and returns:
///
/// 1. stop accepting; websockets close with 1001 (Going Away); requests in flight are finished — the
///    intake and positions writers still commit and answer them (at most [`REQUESTS_GRACE`]);
/// 2. stop the services: the writers refuse later work with 503, commit and answer what they had
///    queued and end; the hub's feed and escalation end (`services::Running::stop`).
///
/// Tests bind `127.0.0.1:0` and pass the listener in, so they never race for a port.
pub async fn serve(
    listener: tokio::net::TcpListener,
    core: Core,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, core, config, services::Which::ALL, shutdown).await
}

/// [`serve`] with only `which` services: for a test that leaves out the timed ones (the follower, say,
/// to see a node behind the log).
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    core: Core,
    config: ServeConfig,
    which: services::Which,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_beside(listener, core, config, which, shutdown, |_| async {}).await
}

/// [`serve_with`], and `beside` run as a task on the running services' state: `gridwatch demo`'s
/// simulation (`simulation`). `beside` must end once the state's shutdown signal says connections
/// close; it is waited for (at most [`REQUESTS_GRACE`]) before the services stop, so the writers still
/// answer its last writes.
pub async fn serve_beside<Beside, Running>(
    listener: tokio::net::TcpListener,
    core: Core,
    mut config: ServeConfig,
    which: services::Which,
    shutdown: impl Future<Output = ()> + Send + 'static,
    beside: Beside,
) -> std::io::Result<()>
where
    Beside: FnOnce(AppState) -> Running,
    Running: Future<Output = ()> + Send + 'static,
{
    let (state, running) = services::start(&core, which);
    let beside = tokio::spawn(beside(state.clone()));
    if config.transport.send_buffer.is_none() {
        config.transport.send_buffer = core.hub().config.send_buffer;
    }
    let closer = running.closer();
    let mut closing = running.signal();
    let http = transport::run(
        listener,
        api::app_with(state, &config.limits),
        config.transport,
        async move {
            shutdown.await;
            closer.close_connections();
        },
    );
    let grace = async move {
        closing.closing().await;
        tokio::time::sleep(REQUESTS_GRACE).await;
    };
    tokio::select! {
        served = http => served?,
        () = grace => tracing::warn!(
            "requests still in flight {REQUESTS_GRACE:?} after the shutdown signal; stopping anyway"
        ),
    }
    if tokio::time::timeout(REQUESTS_GRACE, beside).await.is_err() {
        tracing::warn!("the task beside the server did not end in time; stopping anyway");
    }
    running.stop().await;
    Ok(())
}
