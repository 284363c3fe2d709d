//! Cameras: the parameters, and the view sector kept for GIS tools (`GeoJSON` text on `SQLite`; on
//! PostGIS a `geometry(Polygon, 4326)` and the position as a point, by the dialect's texts).

use geojson::GeometryValue;

use super::codec::parse_enum;
use super::driver::{Load, Sql, Stmt};
use super::{Dialect, Tx};
use crate::domain::CameraId;
use crate::domain::camera::{self, Camera, CameraKind, CameraStatus, NewCamera};
use crate::store::StoreError;

/// `name … sector`, the values an insert and an update bind first.
fn bind_params<D: Dialect>(sql: Sql<D>, camera: &NewCamera) -> Stmt<D> {
    sql.bind(&camera.name)
        .bind(camera.lat)
        .bind(camera.lon)
        .bind(camera.heading_deg)
        .bind(camera.fov_deg)
        .bind(camera.range_m)
        .bind(camera.kind.as_str())
        .bind(camera.status.as_str())
        .bind(sector_text(camera))
}

/// Inserts cameras in order; the caller appends their events.
pub(super) async fn insert<D: Dialect>(
    tx: &mut Tx<D>,
    cameras: &[NewCamera],
) -> Result<Vec<Camera>, StoreError> {
    let mut stored = Vec::with_capacity(cameras.len());
    for new in cameras {
        let insert = bind_params(D::SQL.insert_camera, new);
        let id: i64 = insert.scalar(tx, "inserting a camera").await?;
        stored.push(new.with_id(CameraId(id)));
    }
    Ok(stored)
}

/// Replaces a camera's parameters; `NotFound` if it does not exist.
pub(super) async fn update<D: Dialect>(tx: &mut Tx<D>, camera: &Camera) -> Result<(), StoreError> {
    let update = bind_params(D::SQL.update_camera, &camera.params()).bind(camera.id.0);
    if update.execute(tx, "updating a camera").await? == 0 {
        return Err(StoreError::NotFound(format!("camera {}", camera.id)));
    }
    Ok(())
}

/// Deletes a camera and returns its last parameters; `NotFound` if it does not exist.
pub(super) async fn delete<D: Dialect>(tx: &mut Tx<D>, id: CameraId) -> Result<Camera, StoreError> {
    let delete = D::SQL.delete_camera.bind(id.0);
    let camera = delete.fetch_optional(tx, "deleting a camera").await?;
    camera.ok_or_else(|| StoreError::NotFound(format!("camera {id}")))
}

/// `id, name, lat, lon, heading_deg, fov_deg, range_m, kind, status`.
type CameraRow = (i64, String, f64, f64, f64, f64, f64, String, String);

impl Load for Camera {
    type Row = CameraRow;
    fn from_row(row: CameraRow) -> Result<Self, StoreError> {
        let (id, name, lat, lon, heading_deg, fov_deg, range_m, kind, status) = row;
        Ok(Camera {
            id: CameraId(id),
            name,
            lat,
            lon,
            heading_deg,
            fov_deg,
            range_m,
            kind: parse_enum("cameras", "kind", &kind, CameraKind::parse)?,
            status: parse_enum("cameras", "status", &status, CameraStatus::parse)?,
        })
    }
}

/// The view sector of `camera` as `GeoJSON` Polygon text, degrees (EPSG:4326, lon/lat order).
pub(crate) fn sector_text(camera: &NewCamera) -> String {
    GeometryValue::from(&camera::sector(camera)).to_string()
}
