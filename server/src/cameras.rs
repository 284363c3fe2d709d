//! The camera service (视频监控点): create, import, change and delete cameras.
//!
//! Every change is one `Core::write`: commit (row + `camera.*` event), then apply the camera to the
//! world and publish the event. New cameras are checked by the caller (`NewCamera::checked`) before
//! they get here; a change is checked here, against the camera as it is under the writer lock. What a
//! camera sees (its sector and covered cells, [`CameraView`]) costs time in proportion to the cells it
//! covers, so it is worked out on the blocking pool — before the writer lock for new cameras — and the
//! world only files it.

use crate::core::Core;
use crate::domain::camera::{Camera, InvalidCamera, NewCamera};
use crate::domain::{AccessError, CameraId, Change, Principal, Subject};
use crate::live::filter::{Item, Layer};
use crate::store::StoreError;
use crate::world::{CameraView, World};

/// Why a camera was not changed; nothing was.
#[derive(Debug, thiserror::Error)]
pub enum CameraError {
    #[error(transparent)]
    Access(#[from] AccessError),
    /// The camera the change makes is not a valid camera.
    #[error(transparent)]
    Invalid(#[from] InvalidCamera),
    #[error("the change changes nothing")]
    Unchanged,
    /// A new camera (the `index`th of the request) stands outside the caller's scope.
    #[error("camera {index} of the request stands outside your scope")]
    OutOfScope { index: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Stores checked cameras in one transaction (all or none) and applies them. Every camera must stand in
/// a grid the principal's scope covers.
pub async fn create(
    core: &Core,
    principal: &Principal,
    new: Vec<NewCamera>,
) -> Result<Vec<Camera>, CameraError> {
    let principal = principal.clone();
    // Refused before its views are worked out, and checked again under the writer lock.
    outside_scope(&core.world(), &principal, &new)?;
    let resolution = core.world().resolution();
    let params = new.clone();
    let views = off_thread(move || {
        params
            .iter()
            .map(|c| CameraView::of(c, resolution))
            .collect::<Vec<_>>()
    })
    .await;
    core.write(move |w| async move {
        outside_scope(&w.world(), &principal, &new)?;
        let stored = w.store().insert_cameras(&new).await?;
        let mut cameras = Vec::with_capacity(stored.len());
        for ((camera, event), view) in stored.into_iter().zip(views) {
            cameras.push(camera.clone());
            w.stored(event, |world| world.apply_camera_view(camera, view));
        }
        Ok(cameras)
    })
    .await
}

/// Changes a camera: `change` gets its current parameters and returns the new ones, which must be a
/// valid camera ([`NewCamera::checked`]) and differ from the current ones.
pub async fn update(
    core: &Core,
    principal: &Principal,
    id: CameraId,
    change: impl FnOnce(NewCamera) -> NewCamera + Send + 'static,
) -> Result<Camera, CameraError> {
    let principal = principal.clone();
    core.write(move |w| async move {
        let (current, resolution) = {
            let world = w.world();
            (in_scope(&world, &principal, id)?, world.resolution())
        };
        let changed = change(current.clone()).checked()?;
        // Nor may a change move it out of scope.
        {
            let world = w.world();
            if !world.point_visible(&world.visibility(&principal), changed.lat, changed.lon) {
                return Err(AccessError::OutOfScope(Subject::Camera(id)).into());
            }
        }
        if changed == current {
            return Err(CameraError::Unchanged);
        }
        let camera = changed.with_id(id);
        let view = off_thread(move || CameraView::of(&changed, resolution)).await;
        let event = w.store().update_camera(&camera).await?;
        w.stored(event, |world| world.apply_camera_view(camera.clone(), view));
        Ok(camera)
    })
    .await
}

/// Runs `work` on the blocking pool and waits for it; a panic there goes on here.
async fn off_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

/// Deletes a camera; refused for an unknown one.
pub async fn delete(core: &Core, principal: &Principal, id: CameraId) -> Result<(), CameraError> {
    let principal = principal.clone();
    core.write(move |w| async move {
        in_scope(&w.world(), &principal, id)?;
        let event = w.store().delete_camera(id).await?;
        w.stored(event, |world| world.remove_camera(id));
        Ok(())
    })
    .await
}

/// Refuses new cameras of which one stands outside `principal`'s scope.
fn outside_scope(
    world: &World,
    principal: &Principal,
    new: &[NewCamera],
) -> Result<(), CameraError> {
    let visibility = world.visibility(principal);
    match new
        .iter()
        .position(|c| !world.point_visible(&visibility, c.lat, c.lon))
    {
        Some(index) => Err(CameraError::OutOfScope { index }),
        None => Ok(()),
    }
}

/// The camera's current parameters, if it exists and stands inside `principal`'s scope.
fn in_scope(world: &World, principal: &Principal, id: CameraId) -> Result<NewCamera, AccessError> {
    let camera = world
        .camera(id)
        .ok_or(AccessError::NotFound(Subject::Camera(id)))?;
    let params = camera.camera.params();
    if world.point_visible(&world.visibility(principal), params.lat, params.lon) {
        Ok(params)
    } else {
        Err(AccessError::OutOfScope(Subject::Camera(id)))
    }
}

/// How a `camera.*` event reaches the live map: layer `cameras`, at the camera's position, with the
/// camera's id. `None` for every other kind.
#[must_use]
pub fn live_item(change: &Change) -> Option<(Item, i64)> {
    let camera = match change {
        Change::CameraCreated(c) | Change::CameraUpdated(c) | Change::CameraDeleted(c) => c,
        Change::CityImported(_)
        | Change::RegionCreated(_)
        | Change::BuildingCreated(_)
        | Change::WorkerCreated(_)
        | Change::WorkerUpdated(_)
        | Change::TokenCreated(_)
        | Change::TokenRevoked(_)
        | Change::UserCreated(_)
        | Change::UserUpdated(_)
        | Change::IncidentCreated(_)
        | Change::IncidentUpdated(_)
        | Change::IncidentPhotoAdded(_)
        | Change::CategoryUpdated(_)
        | Change::DepartmentUpdated(_)
        | Change::AlertRaised(_)
        | Change::PatrolStarted(_)
        | Change::PatrolEnded(_)
        | Change::PatrolGridEntered(_)
        | Change::PatrolGridExited(_)
        | Change::PatrolCheckedIn(_)
        | Change::CheckpointCreated(_)
        | Change::PlanCreated(_)
        | Change::AlarmAcknowledged(_)
        | Change::WarningRaised(_)
        | Change::WarningCleared(_)
        | Change::BoundaryChanged(_) => return None,
    };
    Some((
        Item {
            layer: Layer::Cameras,
            point: Some((camera.lat, camera.lon)),
            grids: Vec::new(),
            workers: [None, None, None],
            open: true,
        },
        camera.id.0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::camera::{CameraKind, CameraStatus};

    #[test]
    fn camera_events_reach_the_cameras_layer_at_the_camera() {
        let camera = Camera {
            id: CameraId(4),
            name: "gate".into(),
            lat: 36.19,
            lon: 113.11,
            heading_deg: 0.0,
            fov_deg: 60.0,
            range_m: 100.0,
            kind: CameraKind::Fixed,
            status: CameraStatus::Online,
        };
        for change in [
            Change::CameraCreated(camera.clone()),
            Change::CameraUpdated(camera.clone()),
            Change::CameraDeleted(camera.clone()),
        ] {
            let (item, id) = live_item(&change).expect("an item");
            assert_eq!(
                (id, item.layer, item.point, item.grids.len()),
                (4, Layer::Cameras, Some((36.19, 113.11)), 0)
            );
        }
        let plan = Change::PlanCreated(crate::domain::event::PlanCreated {
            id: 1,
            community: crate::domain::RegionId(3),
            kind: "manual".into(),
        });
        assert!(
            live_item(&plan).is_none(),
            "only camera events reach the cameras layer"
        );
    }
}
