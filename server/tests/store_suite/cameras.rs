//! Cameras: written, changed, deleted and read back the same on both stores, surviving a reopen, ids
//! never reused; on PostGIS the position and the view sector are real indexed geometries, and PostGIS
//! (geodesic `ST_Project`, `ST_Area` on the geography) is the reference for the sector's shape.

use std::sync::Arc;

use gridwatch::domain::CameraId;
use gridwatch::domain::camera::{CameraKind, CameraStatus, NewCamera};
use gridwatch::store::{Store, StoreError};

use crate::fixture::{Backend, Target};

target_tests!(cameras_round_trip_and_sectors_are_postgis_polygons);

fn camera(name: &str, heading_deg: f64, fov_deg: f64, range_m: f64, kind: CameraKind) -> NewCamera {
    NewCamera {
        name: name.into(),
        lat: 36.19,
        lon: 113.11,
        heading_deg,
        fov_deg,
        range_m,
        kind,
        status: CameraStatus::Online,
    }
}

#[allow(clippy::too_many_lines)] // one scenario read top to bottom
async fn cameras_round_trip_and_sectors_are_postgis_polygons(target: Target) {
    let store: Arc<dyn Store> = target.open().await;
    let new = [
        camera("东门", 30.0, 60.0, 150.0, CameraKind::Fixed),
        camera("广场", 0.0, 360.0, 80.0, CameraKind::Ptz),
        camera("南巷", 250.0, 10.0, 2000.0, CameraKind::Fixed),
    ];
    let stored = store.insert_cameras(&new).await.expect("insert");
    assert_eq!(stored.len(), 3);
    for ((camera, event), new) in stored.iter().zip(&new) {
        assert_eq!(event.change.kind(), "camera.created");
        assert_eq!(event.change.payload_json()["id"], camera.id.0);
        assert_eq!(*camera, new.with_id(camera.id));
    }
    let mut changed = stored[0].0.clone();
    changed.heading_deg = 120.0;
    changed.status = CameraStatus::Offline;
    let event = store.update_camera(&changed).await.expect("update");
    assert_eq!(
        (event.change.kind(), &event.change.payload_json()["status"]),
        ("camera.updated", &serde_json::json!("offline"))
    );
    let deleted = stored[1].0.id;
    let event = store.delete_camera(deleted).await.expect("delete");
    assert_eq!(
        (
            event.change.kind(),
            event.change.payload_json()["id"].as_i64()
        ),
        ("camera.deleted", Some(deleted.0))
    );
    assert!(matches!(
        store.delete_camera(deleted).await,
        Err(StoreError::NotFound(_))
    ));
    let mut ghost = changed.clone();
    ghost.id = CameraId(999_999);
    assert!(matches!(
        store.update_camera(&ghost).await,
        Err(StoreError::NotFound(_))
    ));
    let (again, _) = store
        .insert_cameras(&new[1..2])
        .await
        .expect("insert again")
        .remove(0);
    assert!(
        again.id.0 > stored[2].0.id.0,
        "a deleted camera's id is not given again"
    );
    assert!(store.insert_cameras(&[]).await.expect("nothing").is_empty());

    let expected = vec![changed, stored[2].0.clone(), again];
    assert_eq!(
        store.snapshot(None).await.expect("snapshot").cameras,
        expected
    );
    assert_eq!(
        target
            .open()
            .await
            .snapshot(None)
            .await
            .expect("snapshot after a reopen")
            .cameras,
        expected,
        "after a reopen"
    );

    if target.backend != Backend::Postgres {
        return;
    }
    let pool = target.pg().await;
    for (column, kind) in [("location", "POINT"), ("sector", "POLYGON")] {
        let (t, srid): (String, i32) = sqlx::query_as(
            "SELECT type, srid FROM geometry_columns WHERE f_table_name = 'cameras' AND f_geometry_column = $1",
        )
        .bind(column)
        .fetch_one(&pool)
        .await
        .expect("geometry_columns");
        assert_eq!((t.as_str(), srid), (kind, 4326), "{column}");
        let gist: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'cameras' AND indexdef ILIKE '%USING gist (' || $1 || ')%'",
        )
        .bind(column)
        .fetch_one(&pool)
        .await
        .expect("indexes");
        assert_eq!(gist, 1, "a GiST index on cameras.{column}");
    }
    // The reference: points projected geodesically from the camera (ST_Project on the spheroid) at a
    // bearing and distance; inside the opening and range they are in the sector, outside they are not.
    // The sector's area on the spheroid is the circular sector's, π r² fov / 360, within 1 %.
    let rows: Vec<(i64, f64, f64, f64, String, bool, f64)> = sqlx::query_as(
        "SELECT id, heading_deg, fov_deg, range_m, kind, ST_IsValid(sector), ST_Area(sector::geography) FROM cameras ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .expect("cameras");
    assert_eq!(rows.len(), 3);
    for (id, heading, fov, range, kind, valid, area_m2) in rows {
        assert!(valid, "camera {id}: a valid sector");
        let fov = if kind == "ptz" { 360.0 } else { fov };
        let want = std::f64::consts::PI * range * range * fov / 360.0;
        assert!(
            (area_m2 - want).abs() / want < 0.01,
            "camera {id}: {area_m2} m² against {want}"
        );
        let half = fov / 2.0;
        let probes: Vec<(f64, f64, bool)> = if fov >= 360.0 {
            vec![
                (0.0, 0.9, true),
                (137.0, 0.9, true),
                (290.0, 0.5, true),
                (45.0, 1.05, false),
            ]
        } else {
            vec![
                (heading, 0.5, true),
                (heading, 0.97, true),
                (heading, 1.03, false),
                (heading - half + 0.5, 0.8, true),
                (heading + half - 0.5, 0.8, true),
                (heading - half - 1.0, 0.8, false),
                (heading + half + 1.0, 0.8, false),
                (heading + 180.0, 0.3, false),
            ]
        };
        for (bearing, share, inside) in probes {
            let contained: bool = sqlx::query_scalar(
                "SELECT ST_Contains(sector, ST_Project(location::geography, $2, radians($3))::geometry) FROM cameras WHERE id = $1",
            )
            .bind(id)
            .bind(range * share)
            .bind(bearing)
            .fetch_one(&pool)
            .await
            .expect("probe");
            assert_eq!(
                contained, inside,
                "camera {id}: bearing {bearing}°, {share} of the range"
            );
        }
    }
    pool.close().await;
}
