//! The camera service (视频监控点): create, import, change and delete cameras.
//!
//! Every change is one `Core::write`: commit (row + `camera.*` event), then apply the camera to the
//! world and publish the event. New cameras are checked by the caller (`NewCamera::checked`) before
//! they get here; a change is checked here, against the camera as it is under the writer lock. The
//! world recomputes the sector and covered cells.

use crate::core::Core;
use crate::domain::camera::{Camera, InvalidCamera, NewCamera};
use crate::domain::{AccessError, CameraId, Change, Subject};
use crate::live::filter::{Item, Layer};
use crate::store::StoreError;

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
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Stores checked cameras in one transaction (all or none) and applies them.
pub async fn create(core: &Core, new: Vec<NewCamera>) -> Result<Vec<Camera>, StoreError> {
    core.write(move |w| async move {
        let stored = w.store().insert_cameras(&new).await?;
        let mut cameras = Vec::with_capacity(stored.len());
        for (camera, event) in stored {
            cameras.push(camera.clone());
            w.stored(event, |world| world.apply_camera(camera));
        }
        Ok(cameras)
    })
    .await
}

/// Changes a camera: `change` gets its current parameters and returns the new ones, which must be a
/// valid camera ([`NewCamera::checked`]) and differ from the current ones.
pub async fn update(
    core: &Core,
    id: CameraId,
    change: impl FnOnce(NewCamera) -> NewCamera + Send + 'static,
) -> Result<Camera, CameraError> {
    core.write(move |w| async move {
        let current = w
            .world()
            .camera(id)
            .map(|c| c.camera.params())
            .ok_or(AccessError::NotFound(Subject::Camera(id)))?;
        let changed = change(current.clone()).checked()?;
        if changed == current {
            return Err(CameraError::Unchanged);
        }
        let camera = changed.with_id(id);
        let event = w.store().update_camera(&camera).await?;
        w.stored(event, |world| world.apply_camera(camera.clone()));
        Ok(camera)
    })
    .await
}

/// Deletes a camera; refused for an unknown one.
pub async fn delete(core: &Core, id: CameraId) -> Result<(), CameraError> {
    core.write(move |w| async move {
        if w.world().camera(id).is_none() {
            return Err(AccessError::NotFound(Subject::Camera(id)).into());
        }
        let event = w.store().delete_camera(id).await?;
        w.stored(event, |world| world.remove_camera(id));
        Ok(())
    })
    .await
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
