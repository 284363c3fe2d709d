//! Leases (issue 20, point 4): a timed job that must run once for a whole deployment — the escalation
//! scheduler — runs on the one node holding its lease.
//!
//! - **How a lease is held.** On PostgreSQL a lease is a session advisory lock, taken with
//!   `pg_try_advisory_lock` on a connection of its own (`store/postgres.rs`). It lasts while that
//!   connection does. When the holder dies, its connection closes and PostgreSQL releases the lock.
//! - **Taking over.** Every node that does not hold the lease asks for it every [`RETRY`], so another
//!   takes over within about that long. The new holder first reads the log up to now
//!   (`Core::follow_now`), so what the last holder did is in its world before it acts.
//! - **Even so, nothing is done twice.** An escalation appends the case's next history entry, and
//!   `(incident_id, n)` is unique in the store. If two holders ever overlapped (a connection that
//!   looked alive), the second escalation of a case would be refused, not stored.
//! - **The embedded store** has one process: the lease is always granted ([`Sole`]).
//!
//! `/metrics` shows `gridwatch_lease_held{lease="escalation"}`: 1 on the node that holds it.

use std::time::Duration;

use async_trait::async_trait;

use crate::core::WeakCore;
use crate::services::Shutdown;

/// The escalation scheduler's lease.
pub const ESCALATION: i64 = 0x6777_5f65_7363_616c; // "gw_escal"

/// How often a node without the lease asks for it.
pub const RETRY: Duration = Duration::from_secs(2);

/// How often the holder checks that its lease's connection still answers, and how long it waits.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);
pub const CHECK_WITHIN: Duration = Duration::from_secs(2);

/// A lease this process holds, until it is dropped or [`Lease::lost`] resolves.
#[async_trait]
pub trait Lease: Send {
    /// Resolves once the lease is no longer this process's (its connection stopped answering).
    async fn lost(&mut self);
}

/// The lease of the one process of an embedded store: never lost.
#[derive(Debug)]
pub struct Sole;

#[async_trait]
impl Lease for Sole {
    async fn lost(&mut self) {
        std::future::pending::<()>().await;
    }
}

/// The escalation scheduler under its lease, a service started by `services::start`: waits for the
/// lease, catches up with the log, runs `cases::escalation::run` until the lease is lost (then waits for
/// it again) or `shutdown`.
pub async fn escalation(core: WeakCore, mut shutdown: Shutdown) {
    let mut retry = tokio::time::interval(RETRY);
    retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let held = || metrics::gauge!("gridwatch_lease_held", "lease" => "escalation");
    held().set(0.0);
    loop {
        let mut lease = loop {
            tokio::select! {
                () = shutdown.stopping() => return,
                _ = retry.tick() => {}
            }
            let Some(core) = core.upgrade() else { return };
            match core.store().try_lease(ESCALATION).await {
                Ok(Some(lease)) => break lease,
                Ok(None) => {}
                Err(error) => tracing::debug!(%error, "asking for the escalation lease"),
            }
        };
        let Some(strong) = core.upgrade() else { return };
        tracing::info!("this node holds the escalation lease");
        held().set(1.0);
        // What the last holder escalated must be in the world before this node escalates.
        if let Err(error) = strong.follow_now().await {
            tracing::warn!(%error, "catching up with the log before escalating");
        }
        let job =
            crate::cases::escalation::run(strong.downgrade(), strong.subscribe(), shutdown.clone());
        // The early warnings have one writer too: the same node.
        let warnings = crate::warnings::service::run(
            strong.downgrade(),
            strong.subscribe(),
            shutdown.clone(),
            strong.warnings_every(),
        );
        drop(strong);
        tokio::select! {
            () = async { tokio::join!(job, warnings); } => {
                held().set(0.0);
                return;
            }
            () = lease.lost() => {
                tracing::warn!("the escalation lease was lost; another node takes over");
                held().set(0.0);
            }
        }
    }
}
