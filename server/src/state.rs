//! `AppState`: what every handler gets with `State` — the core and the handles of the running services,
//! Made by `services::start`; cheap to clone.
//!
//! It changes nothing itself: handlers read through the core (`world`, `store`, …) and write by calling
//! a service function, which goes through `Core::write`.

use std::sync::Arc;
use std::time::Instant;

use crate::cases::intake::Intake;
use crate::core::Core;
use crate::patrols::Patrols;
use crate::services::Shutdown;
use crate::tracking::Positions;

/// Shared state, cheap to clone. Reads go through the core (`state.world()` and the other readers below
/// are shorthands); a service function takes `state.core()` or its own handle.
#[derive(Clone)]
pub struct AppState {
    core: Core,
    services: Arc<Services>,
}

struct Services {
    intake: Intake,
    positions: Positions,
    patrols: Patrols,
    /// Tells websocket connections to close (1001) when the server shuts down.
    shutdown: Shutdown,
    started: Instant,
}

impl AppState {
    pub(crate) fn new(
        core: Core,
        intake: Intake,
        positions: Positions,
        patrols: Patrols,
        shutdown: Shutdown,
    ) -> Self {
        Self {
            core,
            services: Arc::new(Services {
                intake,
                positions,
                patrols,
                shutdown,
                started: Instant::now(),
            }),
        }
    }

    #[must_use]
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// A read guard on the world. Drop it before any `.await`.
    pub fn world(&self) -> std::sync::RwLockReadGuard<'_, crate::world::World> {
        self.core.world()
    }

    /// The store, for reads.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn crate::store::Store> {
        self.core.store()
    }

    #[must_use]
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.core.now()
    }

    #[must_use]
    pub fn dispatch(&self) -> &crate::dispatch::DispatchConfig {
        self.core.dispatch()
    }

    #[must_use]
    pub fn hub(&self) -> &Arc<crate::live::Hub> {
        self.core.hub()
    }

    #[must_use]
    pub fn tiles(&self) -> &crate::tiles::Tiles {
        self.core.tiles()
    }

    /// New cases: `intake().register(…)`.
    #[must_use]
    pub fn intake(&self) -> &Intake {
        &self.services.intake
    }

    /// Position fixes: `positions().report(…)`.
    #[must_use]
    pub fn positions(&self) -> &Positions {
        &self.services.positions
    }

    /// Patrols, checkpoints and cell visits.
    #[must_use]
    pub fn patrols(&self) -> &Patrols {
        &self.services.patrols
    }

    /// Resolves when connections should close.
    #[must_use]
    pub fn shutdown(&self) -> Shutdown {
        self.services.shutdown.clone()
    }

    #[must_use]
    pub fn uptime_s(&self) -> f64 {
        self.services.started.elapsed().as_secs_f64()
    }
}
