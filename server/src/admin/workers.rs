//! Workers (网格员 and other staff): create one, change one (name, kind, contacts, tracker, duty, grid
//! duties), and the rules a worker must keep: a name and contacts of sensible length, grid duties in the
//! caller's scope, one primary worker a grid. A tracker's device id is made by the server
//! (`domain::worker::DeviceId`), 128 random bits that no one else holds, so it needs no uniqueness
//! check here (the store's UNIQUE constraint still stands).

use std::collections::HashSet;

use crate::core::Core;
use crate::domain::{
    AccessError, GridDuty, GridId, Principal, Responsibility, Subject, Worker, WorkerId,
};
use crate::store::{NewWorker, StoreError};
use crate::world::{Visibility, World};

/// The longest worker name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// Why a worker was not created or changed; nothing was.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The worker, or a grid of its duties, is unknown or outside the caller's scope.
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error("name must have 1 to {MAX_NAME_CHARS} characters")]
    BadName,
    /// A contact field (`phone`) blank or longer than `max` characters.
    #[error("{field} must have 1 to {max} characters, or be null")]
    BadText { field: &'static str, max: usize },
    #[error("grid {0} is listed twice")]
    GridListedTwice(GridId),
    /// A grid has one primary worker.
    #[error("grid {grid} already has primary worker {holder}; make them a backup first")]
    PrimaryTaken { grid: GridId, holder: WorkerId },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates a worker (its fields already checked) after checking its duties against the world, with
/// `principal`'s scope.
pub async fn create(
    core: &Core,
    principal: &Principal,
    new: NewWorker,
) -> Result<Worker, WorkerError> {
    let principal = principal.clone();
    core.write(move |w| async move {
        {
            let world = w.world();
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
    edit: impl FnOnce(&World, &mut Worker) -> Result<(), WorkerError> + Send + 'static,
) -> Result<Worker, WorkerError> {
    change_as(core, Some(principal.clone()), id, edit).await
}

/// [`change`] made by the server's operator (the demo binding a tracker at start), not a caller: no
/// scope applies.
pub async fn change_as_operator(
    core: &Core,
    id: WorkerId,
    edit: impl FnOnce(&World, &mut Worker) -> Result<(), WorkerError> + Send + 'static,
) -> Result<Worker, WorkerError> {
    change_as(core, None, id, edit).await
}

async fn change_as(
    core: &Core,
    principal: Option<Principal>,
    id: WorkerId,
    edit: impl FnOnce(&World, &mut Worker) -> Result<(), WorkerError> + Send + 'static,
) -> Result<Worker, WorkerError> {
    core.write(move |w| async move {
        let changed = {
            let world = w.world();
            let mut worker = world
                .worker(id)
                .cloned()
                .ok_or(AccessError::NotFound(Subject::Worker(id)))?;
            if let Some(principal) = &principal
                && !can_manage(&world.visibility(principal), principal, &worker)
            {
                return Err(AccessError::OutOfScope(Subject::Worker(id)).into());
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

/// Whether `principal` may change `worker`: themself (the handler decides which fields), or every grid
/// the worker answers for is in scope — a commander of one community may not rename or take duties off
/// a worker who also serves another.
#[must_use]
pub fn can_manage(visibility: &Visibility, principal: &Principal, worker: &Worker) -> bool {
    principal.worker == Some(worker.id) || visibility.every(worker.grids.iter().map(|d| d.grid_id))
}

/// Whether `principal` may see `worker`: themself, everything, or a grid the worker answers for.
#[must_use]
pub fn can_see(visibility: &Visibility, principal: &Principal, worker: &Worker) -> bool {
    principal.worker == Some(worker.id)
        || matches!(visibility, Visibility::All)
        || visibility.any(worker.grids.iter().map(|d| d.grid_id))
}

/// A worker's name, trimmed: 1 to [`MAX_NAME_CHARS`] characters.
pub fn checked_name(name: &str) -> Result<String, WorkerError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(WorkerError::BadName);
    }
    Ok(name.to_owned())
}

/// An optional contact field, trimmed: absent, or 1 to `max` characters.
pub fn checked_text(
    field: &'static str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, WorkerError> {
    match value.map(|v| v.trim().to_owned()) {
        Some(v) if v.is_empty() || v.chars().count() > max => {
            Err(WorkerError::BadText { field, max })
        }
        other => Ok(other),
    }
}

/// Grid duties must name existing grids in the caller's scope, once each, and a grid has one primary.
pub fn check_duties(
    world: &World,
    principal: &Principal,
    me: Option<WorkerId>,
    duties: &[GridDuty],
) -> Result<(), WorkerError> {
    let visibility = world.visibility(principal);
    let mut seen = HashSet::new();
    for duty in duties {
        if !seen.insert(duty.grid_id) {
            return Err(WorkerError::GridListedTwice(duty.grid_id));
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
                return Err(WorkerError::PrimaryTaken {
                    grid: duty.grid_id,
                    holder: holder.id,
                });
            }
        }
    }
    Ok(())
}
