//! Cameras as rows: the column tuple both backends read, and the sector as `GeoJSON` text.

use geojson::GeometryValue;

use crate::domain::CameraId;
use crate::domain::camera::{self, Camera, CameraKind, CameraStatus, NewCamera};
use crate::store::StoreError;
use crate::store::sql::driver::Load;

/// `id, name, lat, lon, heading_deg, fov_deg, range_m, kind, status`.
pub(crate) type CameraRow = (i64, String, f64, f64, f64, f64, f64, String, String);

impl Load for Camera {
    type Row = CameraRow;
    fn from_row(row: CameraRow) -> Result<Self, StoreError> {
        let (id, name, lat, lon, heading_deg, fov_deg, range_m, kind, status) = row;
        let corrupt = |reason: String| StoreError::Corrupt {
            table: "cameras",
            reason,
        };
        Ok(Camera {
            id: CameraId(id),
            name,
            lat,
            lon,
            heading_deg,
            fov_deg,
            range_m,
            kind: CameraKind::parse(&kind)
                .ok_or_else(|| corrupt(format!("camera {id}: kind {kind:?}")))?,
            status: CameraStatus::parse(&status)
                .ok_or_else(|| corrupt(format!("camera {id}: status {status:?}")))?,
        })
    }
}

/// The view sector of `camera` as `GeoJSON` Polygon text, degrees (EPSG:4326, lon/lat order).
pub(crate) fn sector_text(camera: &NewCamera) -> String {
    GeometryValue::from(&camera::sector(camera)).to_string()
}
