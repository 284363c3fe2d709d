//! Cameras on SQLite: the parameters, and the view sector as `GeoJSON` text.

use sqlx::sqlite::SqliteConnection;

use super::{SqliteStore, append_event};
use crate::domain::camera::{Camera, NewCamera};
use crate::domain::{CameraId, Change, Event};
use crate::store::StoreError;
use crate::store::payload::cameras::{CAMERA_COLUMNS, CameraRow, camera, sector_text};
use crate::store::payload::conflict::Context;

pub(super) async fn load(conn: &mut SqliteConnection) -> Result<Vec<Camera>, StoreError> {
    let rows: Vec<CameraRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CAMERA_COLUMNS} FROM cameras ORDER BY id"
    )))
    .fetch_all(conn)
    .await
    .context("loading cameras")?;
    rows.into_iter().map(camera).collect()
}

pub(super) async fn insert(
    store: &SqliteStore,
    cameras: &[NewCamera],
) -> Result<Vec<(Camera, Event)>, StoreError> {
    let mut tx = store.begin_write("starting a camera insert").await?;
    let mut stored = Vec::with_capacity(cameras.len());
    for new in cameras {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO cameras (name, lat, lon, heading_deg, fov_deg, range_m, kind, status, sector) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
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

pub(super) async fn update(store: &SqliteStore, camera: &Camera) -> Result<Event, StoreError> {
    let mut tx = store.begin_write("starting a camera update").await?;
    let params = camera.params();
    let updated = sqlx::query(
        "UPDATE cameras SET name = ?, lat = ?, lon = ?, heading_deg = ?, fov_deg = ?, range_m = ?, kind = ?, \
         status = ?, sector = ? WHERE id = ?",
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

pub(super) async fn delete(store: &SqliteStore, id: CameraId) -> Result<Event, StoreError> {
    let mut tx = store.begin_write("starting a camera delete").await?;
    let row: Option<CameraRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "DELETE FROM cameras WHERE id = ? RETURNING {CAMERA_COLUMNS}"
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
