//! Cameras on PostGIS: the parameters, the position as a `geometry(Point, 4326)` and the view sector as a
//! `geometry(Polygon, 4326)` (from `GeoJSON`).

use sqlx::postgres::PgConnection;

use super::{PgStore, append_event};
use crate::domain::camera::{Camera, NewCamera};
use crate::domain::{CameraId, Change, Event};
use crate::store::StoreError;
use crate::store::payload::cameras::{CAMERA_COLUMNS, CameraRow, camera, sector_text};
use crate::store::payload::conflict::Context;

pub(super) async fn load(conn: &mut PgConnection) -> Result<Vec<Camera>, StoreError> {
    let rows: Vec<CameraRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CAMERA_COLUMNS} FROM cameras ORDER BY id"
    )))
    .fetch_all(conn)
    .await
    .context("loading cameras")?;
    rows.into_iter().map(camera).collect()
}

pub(super) async fn insert(
    store: &PgStore,
    cameras: &[NewCamera],
) -> Result<Vec<(Camera, Event)>, StoreError> {
    let mut tx = store.begin_write("starting a camera insert").await?;
    let mut stored = Vec::with_capacity(cameras.len());
    for new in cameras {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO cameras (name, lat, lon, location, heading_deg, fov_deg, range_m, kind, status, sector) \
             VALUES ($1, $2, $3, ST_SetSRID(ST_MakePoint($3, $2), 4326), $4, $5, $6, $7, $8, \
             ST_SetSRID(ST_GeomFromGeoJSON($9), 4326)) RETURNING id",
        )
        .bind(&new.name)
        .bind(new.lat)
        .bind(new.lon)
        .bind(new.heading_deg)
        .bind(new.fov_deg)
        .bind(new.range_m)
        .bind(new.kind.as_str())
        .bind(new.status.as_str())
        .bind(sector_text(new))
        .fetch_one(&mut *tx)
        .await
        .context("inserting a camera")?;
        let camera = new.with_id(CameraId(id));
        let event = append_event(&mut tx, Change::CameraCreated(camera.clone())).await?;
        stored.push((camera, event));
    }
    tx.commit().await.context("committing cameras")?;
    Ok(stored)
}

pub(super) async fn update(store: &PgStore, camera: &Camera) -> Result<Event, StoreError> {
    let mut tx = store.begin_write("starting a camera update").await?;
    let params = camera.params();
    let updated = sqlx::query(
        "UPDATE cameras SET name = $1, lat = $2, lon = $3, location = ST_SetSRID(ST_MakePoint($3, $2), 4326), \
         heading_deg = $4, fov_deg = $5, range_m = $6, kind = $7, status = $8, \
         sector = ST_SetSRID(ST_GeomFromGeoJSON($9), 4326) WHERE id = $10",
    )
    .bind(&camera.name)
    .bind(camera.lat)
    .bind(camera.lon)
    .bind(camera.heading_deg)
    .bind(camera.fov_deg)
    .bind(camera.range_m)
    .bind(camera.kind.as_str())
    .bind(camera.status.as_str())
    .bind(sector_text(&params))
    .bind(camera.id.0)
    .execute(&mut *tx)
    .await
    .context("updating a camera")?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("camera {}", camera.id)));
    }
    let event = append_event(&mut tx, Change::CameraUpdated(camera.clone())).await?;
    tx.commit().await.context("committing a camera update")?;
    Ok(event)
}

pub(super) async fn delete(store: &PgStore, id: CameraId) -> Result<Event, StoreError> {
    let mut tx = store.begin_write("starting a camera delete").await?;
    let row: Option<CameraRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "DELETE FROM cameras WHERE id = $1 RETURNING {CAMERA_COLUMNS}"
    )))
    .bind(id.0)
    .fetch_optional(&mut *tx)
    .await
    .context("deleting a camera")?;
    let camera = camera(row.ok_or_else(|| StoreError::NotFound(format!("camera {id}")))?)?;
    let event = append_event(&mut tx, Change::CameraDeleted(camera)).await?;
    tx.commit().await.context("committing a camera delete")?;
    Ok(event)
}
