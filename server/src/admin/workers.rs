//! Workers (网格员 and other staff): create one, change one (name, kind, contacts, duty, grid duties),
//! and the rules a worker must keep: a device id used once, grid duties in the caller's scope, one
//! primary worker a grid.

use std::collections::HashSet;

use crate::core::Core;
use crate::domain::{GridDuty, Principal, Responsibility, Worker, WorkerId};
use crate::error::ApiError;
use crate::store::NewWorker;
use crate::world::{Visibility, World};

/// Creates a worker (its fields already checked) after checking its device id and duties against the
/// world, with `principal`'s scope.
pub async fn create(
    core: &Core,
    principal: &Principal,
    new: NewWorker,
) -> Result<Worker, ApiError> {
    let principal = principal.clone();
    core.write(move |w| async move {
        {
            let world = w.world();
            check_device(&world, None, new.device_id.as_deref())?;
            check_duties(&world, &principal, None, &new.grids)?;
        }
        let (worker, event) = w.store().insert_worker(&new).await?;
        let applied = worker.clone();
        w.stored(event, |world| world.apply_worker(applied));
        Ok(worker)
    })
    .await
}

/// The one path for every change to an existing worker: `edit` gets the world and the worker (which
/// `principal` must see) and changes it or refuses; the result is stored and applied.
pub async fn change(
    core: &Core,
    principal: &Principal,
    id: WorkerId,
    edit: impl FnOnce(&World, &mut Worker) -> Result<(), ApiError> + Send + 'static,
) -> Result<Worker, ApiError> {
    let principal = principal.clone();
    core.write(move |w| async move {
        let changed = {
            let world = w.world();
            let mut worker = world
                .worker(id)
                .cloned()
                .ok_or_else(|| ApiError::not_found(format!("worker {id}")))?;
            if !can_see(&world.visibility(&principal), &principal, &worker) {
                return Err(ApiError::forbidden(format!(
                    "worker {id} is outside your scope"
                )));
            }
            edit(&world, &mut worker)?;
            worker
        };
        let event = w.store().update_worker(&changed).await?;
        let applied = changed.clone();
        w.stored(event, |world| world.apply_worker(applied));
        Ok(changed)
    })
    .await
}

/// Whether `principal` may see `worker`: themself, everything, or a grid the worker answers for.
#[must_use]
pub fn can_see(visibility: &Visibility, principal: &Principal, worker: &Worker) -> bool {
    principal.worker == Some(worker.id)
        || matches!(visibility, Visibility::All)
        || visibility.any(worker.grids.iter().map(|d| d.grid_id))
}

/// 409 when another worker already uses the device id.
pub fn check_device(
    world: &World,
    me: Option<WorkerId>,
    device: Option<&str>,
) -> Result<(), ApiError> {
    match device.and_then(|d| world.worker_by_device(d)) {
        Some(other) if Some(other.id) != me => Err(ApiError::conflict(format!(
            "device id is already used by worker {}",
            other.id
        ))),
        _ => Ok(()),
    }
}

/// Grid duties must name existing grids in the caller's scope, once each, and a grid has one primary.
pub fn check_duties(
    world: &World,
    principal: &Principal,
    me: Option<WorkerId>,
    duties: &[GridDuty],
) -> Result<(), ApiError> {
    let visibility = world.visibility(principal);
    let mut seen = HashSet::new();
    for duty in duties {
        if !seen.insert(duty.grid_id) {
            return Err(ApiError::invalid(format!(
                "grid {} is listed twice",
                duty.grid_id
            )));
        }
        crate::auth::visible_grid(world, &visibility, duty.grid_id)?;
        if duty.responsibility == Responsibility::Primary {
            let holder = world.workers().find(|w| {
                Some(w.id) != me
                    && w.grids.iter().any(|d| {
                        d.grid_id == duty.grid_id && d.responsibility == Responsibility::Primary
                    })
            });
            if let Some(holder) = holder {
                return Err(ApiError::conflict(format!(
                    "grid {} already has primary worker {}; make them a backup first",
                    duty.grid_id, holder.id
                ))
                .with("primary_worker_id", holder.id.0));
            }
        }
    }
    Ok(())
}
