//! The services beside the HTTP API, each holding the core: the intake writer (`cases::intake`), the
//! positions writer (`tracking`), the patrol book (`patrols`), the hub's feed (`live::hub::feed`) and
//! the escalation scheduler (`cases::escalation`), the revocation watch (`auth::credentials`), the
//! follower of other writers' events (`follow`), the replay keyframe writer (`replay::keyframes`) and,
//! on a node with `--nats-url`, the position relay between nodes (`relay`).
//! [`start`] starts them on a core and returns the
//! [`AppState`] handlers get and the [`Running`] guard that stops them.
//!
//! No task holds the sending end of a channel it waits on: the writers' queues are fed through the
//! handles in `AppState`; the hub's feed and escalation read the core's event channel through a
//! [`crate::core::WeakCore`], which does not keep that channel open. Each ends on the guard's
//! [`Shutdown`] signal (or when what it waits on closes); dropping the guard is enough to stop them
//! (mini-redis's `DbDropGuard`), and [`Running::stop`] also waits for them.
//!
//! Shutdown has two steps, so nothing acknowledged is lost: `Closing` (websockets close with 1001,
//! while the HTTP server stops accepting and finishes its requests — the writers still run and answer
//! them), then `Stopping` (the writers refuse what comes later with 503, commit and answer what they
//! had queued, and end; the feeds end). This module does not know HTTP: `serve` drives the steps.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cases::intake::Intake;
use crate::core::Core;
use crate::patrols::Patrols;
use crate::state::AppState;
use crate::tracking::Positions;

/// How long `stop` waits for the websockets to close, then for the services to end.
const CONNECTIONS_GRACE: Duration = Duration::from_secs(2);
const SERVICES_GRACE: Duration = Duration::from_secs(3);

/// Where a server is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Serving,
    /// Connections close (websockets: 1001); requests in flight are still answered.
    Closing,
    /// Services finish what they took and end.
    Stopping,
}

/// Which services [`start`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Which {
    /// The escalation scheduler. Its timers move a paused tokio clock, so a test that sets up cases on
    /// one starts it later (stopping the first services and starting them all again on the same core).
    pub escalation: bool,
    /// The revocation watch (`auth::credentials::watch`), which reads the store twice a second, the
    /// store watch ([`store_watch`]), which asks an unreachable store every second whether it is
    /// back, the follower (`follow::run`), which reads the log's last seq every second, and the replay
    /// keyframe writer, which reads it every five: a test on a paused clock leaves them out.
    pub revocation_watch: bool,
}

impl Which {
    /// Every service: what `serve` runs.
    pub const ALL: Self = Self {
        escalation: true,
        revocation_watch: true,
    };
}

/// The shutdown signal, as services and connections see it. Cheap to clone.
#[derive(Clone)]
pub struct Shutdown(watch::Receiver<Phase>);

impl Shutdown {
    /// Resolves once connections should close. Also when the [`Running`] guard is gone.
    pub async fn closing(&mut self) {
        let _ = self.0.wait_for(|phase| *phase >= Phase::Closing).await;
    }

    /// Resolves once services should finish what they took and end. Also when the guard is gone.
    pub async fn stopping(&mut self) {
        let _ = self.0.wait_for(|phase| *phase >= Phase::Stopping).await;
    }
}

/// The running services: stop them with [`Running::stop`], or drop this to tell them to end.
#[must_use = "dropping the guard stops the services"]
pub struct Running {
    phase: watch::Sender<Phase>,
    tasks: Vec<(&'static str, JoinHandle<()>)>,
    core: Core,
}

/// Starts `which` services on `core`. Call inside a tokio runtime.
pub fn start(core: &Core, which: Which) -> (AppState, Running) {
    let (phase, signal) = watch::channel(Phase::Serving);
    let shutdown = Shutdown(signal);
    let patrols = Patrols::new(core.clone());
    let (intake, intake_task) = Intake::start(core.clone(), shutdown.clone());
    let (relay, relay_task) = crate::relay::start(core, core.relay_settings(), &shutdown);
    let (positions, positions_task) =
        Positions::start(core.clone(), patrols.clone(), relay, shutdown.clone());
    let mut tasks = vec![
        ("intake writer", intake_task),
        ("positions writer", positions_task),
        (
            "hub feed",
            tokio::spawn(crate::live::hub::feed(
                core.downgrade(),
                core.subscribe(),
                shutdown.clone(),
            )),
        ),
    ];
    if let Some(task) = relay_task {
        tasks.push(("relay", task));
    }
    if which.escalation {
        tasks.push((
            "escalation",
            tokio::spawn(crate::lease::escalation(core.downgrade(), shutdown.clone())),
        ));
    }
    if which.revocation_watch {
        tasks.push((
            "revocation watch",
            tokio::spawn(crate::auth::credentials::watch(
                core.downgrade(),
                shutdown.clone(),
            )),
        ));
        tasks.push((
            "store watch",
            tokio::spawn(store_watch(core.downgrade(), shutdown.clone())),
        ));
        tasks.push((
            "follower",
            tokio::spawn(crate::follow::run(core.downgrade(), shutdown.clone())),
        ));
        tasks.push((
            "replay keyframes",
            tokio::spawn(crate::replay::keyframes::run(
                core.downgrade(),
                shutdown.clone(),
            )),
        ));
    }
    let state = AppState::new(core.clone(), intake, positions, patrols, shutdown);
    (
        state,
        Running {
            phase,
            tasks,
            core: core.clone(),
        },
    )
}

/// How often the store watch asks an unreachable store whether it answers again.
const STORE_WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// The store watch: while a write has found the store unreachable (and writes are refused at once, see
/// `core`), asks it every [`STORE_WATCH_INTERVAL`] to answer, so writes are taken again within about a
/// second of its return; while it answers, reloads the world after a COMMIT whose outcome was unknown
/// (`Core::catch_up_now`). Every second it also archives the finished cases past the archive window
/// (`Core::archive_now`). Holds the core weakly and ends on `shutdown`.
async fn store_watch(core: crate::core::WeakCore, mut shutdown: Shutdown) {
    let mut ticker = tokio::time::interval(STORE_WATCH_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.stopping() => return,
            _ = ticker.tick() => {}
        }
        let Some(core) = core.upgrade() else { return };
        core.archive_now();
        if core.store().reachable() {
            // A COMMIT whose outcome was unknown: the world reloads from the store.
            core.catch_up_now().await;
        } else {
            // The outcome is noted by the store; a failure was logged when it was first found.
            let _ = core.store().ping(STORE_WATCH_INTERVAL).await;
        }
    }
}

/// Starts the first step of a shutdown from elsewhere (the HTTP server's shutdown future).
#[derive(Clone)]
pub struct Closer(watch::Sender<Phase>);

impl Closer {
    /// Websockets close with 1001 (Going Away). Requests in flight are still answered: the services
    /// keep running until [`Running::stop`].
    pub fn close_connections(&self) {
        self.0
            .send_if_modified(|phase| advance(phase, Phase::Closing));
    }
}

impl Running {
    /// See [`Closer::close_connections`].
    pub fn close_connections(&self) {
        self.closer().close_connections();
    }

    #[must_use]
    pub fn closer(&self) -> Closer {
        Closer(self.phase.clone())
    }

    /// The signal as connections see it: `closing()` resolves once the connections were told to close
    /// (for a grace timer).
    #[must_use]
    pub fn signal(&self) -> Shutdown {
        Shutdown(self.phase.subscribe())
    }

    /// Closes the connections (if not yet), waits a little for the websockets to go, then stops the
    /// services — the writers commit and answer what they had queued — and waits for them to end.
    /// Bounded: a task still running after the grace period is left to the runtime's end; the answer
    /// names those (empty when every service ended).
    pub async fn stop(mut self) -> Vec<&'static str> {
        self.close_connections();
        let deadline = tokio::time::Instant::now() + CONNECTIONS_GRACE;
        while self.core.hub().connections() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.phase
            .send_if_modified(|phase| advance(phase, Phase::Stopping));
        let deadline = tokio::time::Instant::now() + SERVICES_GRACE;
        let mut late = Vec::new();
        for (name, task) in std::mem::take(&mut self.tasks) {
            match tokio::time::timeout_at(deadline, task).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(service = name, error = %e, "a service failed"),
                Err(_) => {
                    tracing::warn!(service = name, "a service did not stop in time");
                    late.push(name);
                }
            }
        }
        late
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.phase
            .send_if_modified(|phase| advance(phase, Phase::Stopping));
    }
}

/// Moves `phase` forward to `to` (never back); whether it moved.
fn advance(phase: &mut Phase, to: Phase) -> bool {
    if *phase < to {
        *phase = to;
        true
    } else {
        false
    }
}
