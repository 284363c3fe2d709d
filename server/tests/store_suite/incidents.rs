//! Cases, categories and departments: seeded data, exact round trips, atomic batches, append-only history.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use gridwatch::domain::category::CategoryClock;
use gridwatch::domain::incident::{
    Actor, CaseKind, EscalationLevel, HistoryEntry, Priority, Source, Status,
};
use gridwatch::domain::{
    Case, Category, CategoryClass, Department, GridId, Incident, IncidentId, Photo, Place,
    Responsibility, Role, TimeLimits,
};
use gridwatch::store::{IncidentUpdate, Store, StoreError};
use serde_json::json;

use crate::fixture::{Backend, Target};
use crate::{assert_conflict, data, duty, grid_ids, imported, new_worker, region_ids};

store_tests!(
    categories_are_seeded_from_the_domain_classes,
    categories_and_departments_round_trip,
    a_department_with_an_unknown_worker_stores_nothing,
    cases_round_trip_exactly,
    a_batch_with_an_unknown_case_writes_nothing,
    a_group_of_new_cases_commits_together,
    photos_are_stored_once_by_hash,
);
target_tests!(cases_survive_a_reopen, history_is_append_only);

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0)
        .single()
        .expect("valid time")
        + Duration::minutes(minute)
}

fn entry(minute: i64, action: &str, from: Status, to: Status, worker: Option<i64>) -> HistoryEntry {
    HistoryEntry {
        at: at(minute),
        actor: Actor {
            worker: worker.map(gridwatch::domain::WorkerId),
            role: Role::Commander,
        },
        action: action.to_owned(),
        from,
        to,
        note: Some("路灯 street light".to_owned()),
        detail: Some(json!({"deadline": at(480), "route": {"kind": "grid_primary"}})),
    }
}

/// A registered case in grid A of the test city, with its register entry.
pub(crate) async fn new_case(store: &Arc<dyn Store>) -> Case {
    let snapshot = store.snapshot(None).await.expect("snapshot");
    let grid = grid_ids(&snapshot)[data::GRID_A];
    let regions = region_ids(&snapshot);
    let centre = h3o::LatLng::from(data::centre());
    let deadline = Some(at(480));
    Case {
        state: Incident::registered(IncidentId(0), deadline),
        category: "street_order".to_owned(),
        priority: Priority::High,
        source: Source::Hotline,
        kind: CaseKind::OnTheSpot,
        description: "占道经营 stall on the pavement".to_owned(),
        place: Place {
            lat: centre.lat(),
            lon: centre.lng(),
            cell: data::centre(),
            grid,
            community: regions[data::COMMUNITY_1],
            street: Some(regions[data::STREET]),
            district: Some(regions[data::DISTRICT]),
            outside_m: Some(12.5),
        },
        reporter: None,
        created_at: at(0),
        updated_at: at(0),
        escalate_at: deadline,
        duplicate_of: None,
        history: vec![entry(
            0,
            "register",
            Status::Registered,
            Status::Registered,
            None,
        )],
        photos: Vec::new(),
    }
}

async fn categories_are_seeded_from_the_domain_classes(store: Arc<dyn Store>) {
    let categories = store.snapshot(None).await.expect("snapshot").categories;
    let codes: Vec<&str> = categories.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "advertising",
            "city_appearance",
            "construction",
            "dispute",
            "emergency",
            "hazard",
            "livelihood",
            "other",
            "public_safety",
            "street_order"
        ]
    );
    let emergency = categories
        .iter()
        .find(|c| c.code == "emergency")
        .expect("emergency");
    assert_eq!(emergency.class, CategoryClass::CityManagement);
    assert_eq!(
        emergency.limits,
        TimeLimits {
            low_h: 4.0,
            normal_h: 2.0,
            high_h: 1.0,
            urgent_h: 0.5
        }
    );
    assert_eq!(emergency.kind, CaseKind::OnTheSpot);
    assert!(
        categories
            .iter()
            .all(|c| c.active && c.department.is_none())
    );
    let social = categories
        .iter()
        .filter(|c| c.class == CategoryClass::SocialGovernance)
        .count();
    assert_eq!(
        social, 4,
        "disputes, public safety, hazards, people's requests"
    );
    // Migration 0018: emergencies and public safety run around the clock; names in one language each.
    let always: Vec<&str> = categories
        .iter()
        .filter(|c| c.clock == CategoryClock::Always)
        .map(|c| c.code.as_str())
        .collect();
    assert_eq!(always, ["emergency", "public_safety"]);
    let hazard = categories
        .iter()
        .find(|c| c.code == "hazard")
        .expect("hazard");
    assert_eq!(
        (hazard.name.as_str(), hazard.name_zh.as_deref()),
        ("Hazards", Some("安全隐患"))
    );
    assert!(
        categories
            .iter()
            .all(|c| c.name.is_ascii() && c.name_zh.as_deref().is_some_and(|n| !n.is_ascii())),
        "every seeded name is English, every seeded name_zh Chinese: {categories:?}"
    );
}

async fn categories_and_departments_round_trip(store: Arc<dyn Store>) {
    let snapshot = imported(&store).await;
    let grids = grid_ids(&snapshot);
    let (a, _) = store
        .insert_worker(&new_worker(
            "甲",
            None,
            vec![duty(grids[data::GRID_A], Responsibility::Backup)],
        ))
        .await
        .expect("a");
    let (b, _) = store
        .insert_worker(&new_worker("乙", None, vec![]))
        .await
        .expect("b");
    let department = Department {
        code: "sanitation".into(),
        name: "环卫 Sanitation".into(),
        members: vec![b.id, a.id],
    };
    store.put_department(&department).await.expect("department");
    let category = Category {
        code: "graffiti".into(),
        name: "Graffiti".into(),
        name_zh: Some("乱涂乱画".into()),
        class: CategoryClass::CityManagement,
        department: Some("sanitation".into()),
        limits: TimeLimits {
            low_h: 30.5,
            normal_h: 12.25,
            high_h: 3.0,
            urgent_h: 0.75,
        },
        kind: CaseKind::Promised,
        active: false,
        clock: CategoryClock::Always,
    };
    let event = store.put_category(&category).await.expect("category");
    assert_eq!(event.change.kind(), "category.updated");
    let after = store.snapshot(None).await.expect("snapshot");
    assert_eq!(after.departments, vec![department.clone()]);
    assert_eq!(
        after.categories.iter().find(|c| c.code == "graffiti"),
        Some(&category)
    );
    // Replacing keeps the new member order and drops the old members.
    let smaller = Department {
        members: vec![a.id],
        ..department
    };
    store.put_department(&smaller).await.expect("replace");
    assert_eq!(
        store.snapshot(None).await.expect("snapshot").departments,
        vec![smaller]
    );
}

async fn a_department_with_an_unknown_worker_stores_nothing(store: Arc<dyn Store>) {
    let before = store.snapshot(None).await.expect("snapshot");
    let department = Department {
        code: "ghosts".into(),
        name: "Ghosts".into(),
        members: vec![gridwatch::domain::WorkerId(424_242)],
    };
    assert_conflict(store.put_department(&department).await, "unknown member");
    let category = Category {
        department: Some("no_such_department".into()),
        ..before.categories[0].clone()
    };
    assert_conflict(store.put_category(&category).await, "unknown department");
    let after = store.snapshot(None).await.expect("snapshot");
    assert_eq!(after.departments, before.departments);
    assert_eq!(after.categories, before.categories);
    assert_eq!(after.last_seq, before.last_seq);
}

async fn cases_round_trip_exactly(store: Arc<dyn Store>) {
    imported(&store).await;
    let (worker, _) = store
        .insert_worker(&new_worker("丙", None, vec![]))
        .await
        .expect("worker");
    let draft = new_case(&store).await;
    let (stored, event) = store.insert_incident(&draft).await.expect("insert");
    assert!(stored.id().0 > 0);
    assert_eq!(
        Case {
            state: Incident {
                id: IncidentId(0),
                ..stored.state.clone()
            },
            ..stored.clone()
        },
        draft
    );
    assert_eq!(event.change.kind(), "incident.created");
    assert_eq!(event.change.payload_json()["id"], stored.id().0);
    assert_eq!(event.change.payload_json()["last"]["action"], "register");
    assert_eq!(
        store.snapshot(None).await.expect("snapshot").incidents,
        vec![stored.clone()]
    );

    // A second case, a duplicate of the first, then both change in one batch (a merge).
    let (second, _) = store
        .insert_incident(&Case {
            duplicate_of: Some(stored.id()),
            ..draft.clone()
        })
        .await
        .expect("second");
    let mut merged = second.clone();
    merged.state.status = Status::Merged;
    merged.state.merged_into = Some(stored.id());
    merged.updated_at = at(5);
    merged.history.push(entry(
        5,
        "merge",
        Status::Registered,
        Status::Merged,
        Some(worker.id.0),
    ));
    let mut first = stored.clone();
    first.state = Incident {
        status: Status::Deferred,
        level: EscalationLevel::Street,
        assignee: Some(worker.id),
        handler: Some(worker.id),
        deadline: Some(at(999)),
        rework_count: 2,
        deferred: true,
        resume_to: Some(Status::InProgress),
        ..first.state
    };
    first.escalate_at = None;
    first.updated_at = at(6);
    first.history.push(entry(
        6,
        "absorb",
        Status::Registered,
        Status::Registered,
        None,
    ));
    first.history.push(HistoryEntry {
        detail: None,
        note: None,
        ..entry(6, "defer", Status::InProgress, Status::Deferred, None)
    });
    let updates = [
        IncidentUpdate {
            case: merged.clone(),
            new_entries: 1,
        },
        IncidentUpdate {
            case: first.clone(),
            new_entries: 2,
        },
    ];
    let event = store.update_incidents(&updates).await.expect("update");
    assert_eq!(
        event.change.payload_json()["incidents"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let incidents = store.snapshot(None).await.expect("snapshot").incidents;
    assert_eq!(incidents, vec![first.clone(), merged.clone()]);
    // Each case alone, as the store reads one the world no longer holds.
    for case in [first, merged] {
        assert_eq!(
            store.incident(case.id()).await.expect("one case"),
            Some(case)
        );
    }
    assert_eq!(
        store.incident(IncidentId(999_999)).await.expect("no case"),
        None
    );
}

/// The intake writer's group commit: several new cases in one transaction, each with its own event.
async fn a_group_of_new_cases_commits_together(store: Arc<dyn Store>) {
    imported(&store).await;
    let draft = new_case(&store).await;
    let before = store.snapshot(None).await.expect("snapshot");
    let group = [
        draft.clone(),
        Case {
            description: "second".to_owned(),
            ..draft.clone()
        },
        Case {
            priority: Priority::Low,
            ..draft.clone()
        },
    ];
    let stored = store.insert_incidents(&group).await.expect("insert");
    assert_eq!(stored.len(), group.len());
    for (n, ((case, event), sent)) in (1..).zip(stored.iter().zip(&group)) {
        assert_eq!(
            Case {
                state: Incident {
                    id: IncidentId(0),
                    ..case.state.clone()
                },
                ..case.clone()
            },
            *sent
        );
        assert_eq!(
            event.seq,
            before.last_seq + n,
            "one event per case, in order"
        );
        assert_eq!(event.change.kind(), "incident.created");
        assert_eq!(event.change.payload_json()["id"], case.id().0);
    }
    assert!(
        stored.windows(2).all(|w| w[0].0.id().0 < w[1].0.id().0),
        "ids in the group's order"
    );
    let after = store.snapshot(None).await.expect("snapshot");
    assert_eq!(
        after.incidents,
        stored.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>()
    );

    // One case the store refuses (an unknown grid) and none of the group is written.
    let ghost = Case {
        place: Place {
            grid: GridId(987_654),
            ..draft.place
        },
        ..draft.clone()
    };
    assert!(
        store
            .insert_incidents(&[draft.clone(), ghost])
            .await
            .is_err()
    );
    let last = store.snapshot(None).await.expect("snapshot");
    assert_eq!(
        last.incidents, after.incidents,
        "the first case of the refused group was not written"
    );
    assert_eq!(last.last_seq, after.last_seq);
}

async fn a_batch_with_an_unknown_case_writes_nothing(store: Arc<dyn Store>) {
    imported(&store).await;
    let (stored, _) = store
        .insert_incident(&new_case(&store).await)
        .await
        .expect("insert");
    let before = store.snapshot(None).await.expect("snapshot");
    let mut changed = stored.clone();
    changed.state.status = Status::Cancelled;
    changed.history.push(entry(
        9,
        "cancel",
        Status::Registered,
        Status::Cancelled,
        None,
    ));
    let mut ghost = stored.clone();
    ghost.state.id = IncidentId(987_654);
    let updates = [
        IncidentUpdate {
            case: changed,
            new_entries: 1,
        },
        IncidentUpdate {
            case: ghost,
            new_entries: 0,
        },
    ];
    match store.update_incidents(&updates).await {
        Err(StoreError::NotFound(what)) => assert!(what.contains("987654"), "{what}"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    let after = store.snapshot(None).await.expect("snapshot");
    assert_eq!(
        after.incidents, before.incidents,
        "the first case of the batch was not written either"
    );
    assert_eq!(after.last_seq, before.last_seq);
}

async fn photos_are_stored_once_by_hash(store: Arc<dyn Store>) {
    imported(&store).await;
    let (one, _) = store
        .insert_incident(&new_case(&store).await)
        .await
        .expect("one");
    let (two, _) = store
        .insert_incident(&new_case(&store).await)
        .await
        .expect("two");
    let bytes = b"\x89PNG\r\n\x1a\nnot really a picture".to_vec();
    let photo = Photo {
        sha256: "ab".repeat(32),
        content_type: "image/png".into(),
        size: bytes.len() as u64,
        at: at(3),
        by: Actor {
            worker: None,
            role: Role::Commander,
        },
    };
    let event = store
        .add_photo(one.id(), &photo, &bytes)
        .await
        .expect("attach");
    assert_eq!(event.change.kind(), "incident.photo_added");
    store
        .add_photo(two.id(), &photo, &bytes)
        .await
        .expect("the same bytes on another case");
    assert_conflict(
        store.add_photo(one.id(), &photo, &bytes).await,
        "the same photo twice on one case",
    );
    assert!(matches!(
        store.add_photo(IncidentId(999_999), &photo, &bytes).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store.photo(&photo.sha256).await.expect("photo"),
        Some(("image/png".to_owned(), bytes))
    );
    assert_eq!(store.photo(&"00".repeat(32)).await.expect("no photo"), None);
    let incidents = store.snapshot(None).await.expect("snapshot").incidents;
    assert!(incidents.iter().all(|c| c.photos == vec![photo.clone()]));
    let alone = store.incident(one.id()).await.expect("one case");
    assert_eq!(alone.map(|c| c.photos), Some(vec![photo.clone()]));
}

async fn cases_survive_a_reopen(target: Target) {
    let store = target.open().await;
    imported(&store).await;
    let (stored, _) = store
        .insert_incident(&new_case(&store).await)
        .await
        .expect("insert");
    let before = store.snapshot(None).await.expect("snapshot");
    drop(store);
    let again = target
        .open()
        .await
        .snapshot(None)
        .await
        .expect("snapshot after reopen");
    assert_eq!(again.incidents, vec![stored]);
    assert_eq!(again.incidents, before.incidents);
    assert_eq!(again.last_seq, before.last_seq);
}

async fn history_is_append_only(target: Target) {
    let store = target.open().await;
    imported(&store).await;
    store
        .insert_incident(&new_case(&store).await)
        .await
        .expect("insert");
    let statements = [
        "UPDATE incident_history SET note = 'changed'",
        "DELETE FROM incident_history",
    ];
    match target.backend {
        Backend::Sqlite => {
            let path = target.url.trim_start_matches("sqlite://");
            let mut conn =
                <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!("sqlite://{path}"))
                    .await
                    .expect("connect");
            for sql in statements {
                let refused = sqlx::query(sql).execute(&mut conn).await;
                assert!(refused.is_err(), "{sql} was allowed");
            }
        }
        Backend::Postgres => {
            let pool = target.pg().await;
            for sql in statements
                .iter()
                .copied()
                .chain(["TRUNCATE incident_history CASCADE"])
            {
                let refused = sqlx::query(sql).execute(&pool).await;
                assert!(refused.is_err(), "{sql} was allowed");
            }
            // The point is a real geometry a GIS tool can read, equal to lat/lon.
            let (x, y, srid, lat, lon): (f64, f64, i32, f64, f64) = sqlx::query_as(
                "SELECT ST_X(location), ST_Y(location), ST_SRID(location), lat, lon FROM incidents",
            )
            .fetch_one(&pool)
            .await
            .expect("location");
            assert_eq!((x, y, srid), (lon, lat, 4326));
            let gist: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_indexes WHERE tablename = 'incidents' AND indexdef ILIKE '%USING gist (location)%'",
            )
            .fetch_one(&pool)
            .await
            .expect("index");
            assert_eq!(gist, 1);
        }
    }
    let history = target
        .open()
        .await
        .snapshot(None)
        .await
        .expect("snapshot")
        .incidents[0]
        .history
        .clone();
    assert_eq!(
        history[0].note.as_deref(),
        Some("路灯 street light"),
        "nothing changed"
    );
}
