//! Position fixes and alerts: exact round trips in time order, atomic batches, and on PostGIS a real
//! point geometry that agrees with the stored latitude and longitude.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use gridwatch::domain::event::AlertRaised;
use gridwatch::domain::incident::Actor;
use gridwatch::domain::{Change, Fix, Role, WorkerId};
use gridwatch::store::Store;
use serde_json::json;

use crate::fixture::{Backend, Target};
use crate::{imported, new_worker};

store_tests!(
    fixes_round_trip_in_time_order,
    a_batch_with_an_unknown_worker_stores_nothing,
    alerts_are_events
);
target_tests!(postgis_positions_are_points_at_their_coordinates);

fn at(second: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0)
        .single()
        .expect("valid time")
        + Duration::seconds(second)
}

fn fix(worker: WorkerId, second: i64) -> Fix {
    let mut fix = Fix::at(
        worker,
        36.19 + 0.0001 * f64::from(u32::try_from(second).expect("a small second")),
        113.11,
        at(second),
    );
    fix.accuracy_m = Some(4.5);
    fix.speed_mps = Some(1.25);
    fix.heading_deg = Some(359.5);
    fix.altitude_m = Some(-12.0);
    fix.battery_pct = Some(55.0);
    fix.moving = Some(second % 2 == 0);
    fix.attributes.insert("hdop".into(), json!("0.9"));
    if second == 3 {
        fix.flags.push("implausible_jump".into());
    }
    fix
}

async fn worker(store: &Arc<dyn Store>) -> WorkerId {
    imported(store).await;
    store
        .insert_worker(&new_worker("李娜", None, Vec::new()))
        .await
        .expect("worker")
        .0
        .id
}

async fn fixes_round_trip_in_time_order(store: Arc<dyn Store>) {
    let w = worker(&store).await;
    // Stored out of order, as a phone uploading its buffer would.
    let fixes: Vec<Fix> = [4, 0, 2, 1, 3].into_iter().map(|s| fix(w, s)).collect();
    store
        .insert_fixes(&fixes, at(10), Vec::new())
        .await
        .expect("insert");
    let track = store.track(w, at(0), at(100), 1000).await.expect("track");
    let mut expected = fixes.clone();
    expected.sort_by_key(|f| f.at);
    assert_eq!(track, expected, "every field back exactly, oldest first");
    // `from` inclusive, `to` exclusive, and the limit keeps the oldest.
    let window = store.track(w, at(1), at(3), 1000).await.expect("window");
    assert_eq!(
        window.iter().map(|f| f.at).collect::<Vec<_>>(),
        [at(1), at(2)]
    );
    let limited = store.track(w, at(0), at(100), 2).await.expect("limited");
    assert_eq!(
        limited.iter().map(|f| f.at).collect::<Vec<_>>(),
        [at(0), at(1)]
    );
    assert!(
        store
            .track(WorkerId(w.0 + 1000), at(0), at(100), 10)
            .await
            .expect("nobody")
            .is_empty()
    );
    store
        .insert_fixes(&[], at(10), Vec::new())
        .await
        .expect("an empty batch is a no-op");
}

async fn a_batch_with_an_unknown_worker_stores_nothing(store: Arc<dyn Store>) {
    let w = worker(&store).await;
    let batch = vec![fix(w, 0), fix(WorkerId(w.0 + 1000), 1)];
    assert!(
        store
            .insert_fixes(&batch, at(10), Vec::new())
            .await
            .is_err(),
        "a fix of no worker is refused"
    );
    assert!(
        store
            .track(w, at(0), at(100), 10)
            .await
            .expect("track")
            .is_empty(),
        "and the whole batch with it"
    );
}

async fn alerts_are_events(store: Arc<dyn Store>) {
    imported(&store).await;
    let area = json!({"circle": {"lat": 36.0, "lon": 113.0, "radius_m": 50.0}});
    let alert = AlertRaised {
        title: "燃气泄漏".into(),
        message: String::new(),
        area: area.clone(),
        workers: vec![WorkerId(1), WorkerId(2)],
        raised_by: Actor {
            worker: None,
            role: Role::Commander,
        },
    };
    let payload = json!({"title": "燃气泄漏", "message": "", "workers": [1, 2], "area": area,
        "raised_by": {"role": "commander", "worker": null}});
    let event = store.insert_alert(&alert).await.expect("alert");
    assert_eq!(
        (event.change.kind(), &event.change.payload_json()),
        ("alert.raised", &payload)
    );
    let log = store.events_since(event.seq - 1, 10).await.expect("log");
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].seq, &log[0].change.payload_json()),
        (event.seq, &payload)
    );
    assert_eq!(log[0].change, Change::AlertRaised(alert));
}

async fn postgis_positions_are_points_at_their_coordinates(target: Target) {
    if target.backend != Backend::Postgres {
        return;
    }
    let store = target.open().await;
    let w = worker(&store).await;
    store
        .insert_fixes(
            &(0..5).map(|s| fix(w, s)).collect::<Vec<_>>(),
            at(10),
            Vec::new(),
        )
        .await
        .expect("insert");
    let pool = target.pg().await;
    let (rows, bad): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE ST_SRID(location) <> 4326 OR GeometryType(location) <> 'POINT' \
         OR ST_X(location) <> lon OR ST_Y(location) <> lat) FROM positions",
    )
    .fetch_one(&pool)
    .await
    .expect("check");
    assert_eq!((rows, bad), (5, 0));
    pool.close().await;
}
