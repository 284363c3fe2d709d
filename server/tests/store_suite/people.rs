//! Workers with their grid duties, and API tokens.

use std::sync::Arc;

use gridwatch::domain::worker::device_hash;
use gridwatch::domain::{
    DutyStatus, GridId, RegionId, Responsibility, Role, Scope, Worker, WorkerId, WorkerKind,
};
use gridwatch::store::{NewToken, Store, StoreError};

use crate::{assert_conflict, assert_same, data, duty, grid_ids, imported, new_worker};

store_tests!(
    worker_insert_and_update_round_trip,
    second_primary_for_a_grid_is_refused,
    duplicate_device_id_is_refused,
    tokens_are_found_by_hash_only,
    tokens_are_listed_touched_and_revoked,
);

async fn worker_insert_and_update_round_trip(store: Arc<dyn Store>) {
    let grids = grid_ids(&imported(&store).await);
    let (a, b, c) = (
        grids[data::GRID_A],
        grids[data::GRID_B],
        grids[data::GRID_C],
    );
    let new = new_worker(
        "王芳",
        Some("dev-1"),
        vec![
            duty(b, Responsibility::Backup),
            duty(a, Responsibility::Primary),
        ],
    );
    let (worker, event) = store.insert_worker(&new).await.expect("insert");
    assert_eq!(event.change.kind(), "worker.created");
    assert_eq!(
        event.change.payload_json()["device_id"],
        serde_json::Value::Null,
        "a device id is a credential: never in an event, which clients replay"
    );
    assert_eq!(worker.grids, new.grids, "duties keep their order");
    assert_eq!(
        store.snapshot(None).await.expect("snapshot").workers,
        vec![worker.clone()]
    );

    let changed = Worker {
        name: "王芳芳".to_owned(),
        kind: WorkerKind::Patroller,
        duty: DutyStatus::OffDuty,
        phone: None,
        device_hash: Some(device_hash("dev-2")),
        grids: vec![
            duty(c, Responsibility::Primary),
            duty(a, Responsibility::Backup),
        ],
        ..worker.clone()
    };
    let event = store.update_worker(&changed).await.expect("update");
    assert_eq!(event.change.kind(), "worker.updated");
    assert_eq!(event.change.payload_json()["name"], "王芳芳");
    assert_eq!(
        store.snapshot(None).await.expect("snapshot").workers,
        vec![changed.clone()]
    );

    let ghost = Worker {
        id: WorkerId(9_999),
        ..changed.clone()
    };
    assert!(matches!(
        store.update_worker(&ghost).await,
        Err(StoreError::NotFound(_))
    ));
    let bad_grid = Worker {
        grids: vec![duty(GridId(9_999), Responsibility::Backup)],
        ..changed.clone()
    };
    assert_conflict(store.update_worker(&bad_grid).await, "unknown grid duty");
    let twice = Worker {
        grids: vec![
            duty(a, Responsibility::Backup),
            duty(a, Responsibility::Primary),
        ],
        ..changed.clone()
    };
    assert_conflict(store.update_worker(&twice).await, "the same grid twice");

    let snapshot = store.snapshot(None).await.expect("snapshot");
    assert_eq!(snapshot.workers, vec![changed]);
    assert_eq!(snapshot.last_seq, event.seq);
}

async fn second_primary_for_a_grid_is_refused(store: Arc<dyn Store>) {
    let grids = grid_ids(&imported(&store).await);
    let a = grids[data::GRID_A];
    let (first, _) = store
        .insert_worker(&new_worker(
            "一",
            None,
            vec![duty(a, Responsibility::Primary)],
        ))
        .await
        .expect("first");
    let before = store.snapshot(None).await.expect("snapshot");

    let message = assert_conflict(
        store
            .insert_worker(&new_worker(
                "二",
                None,
                vec![duty(a, Responsibility::Primary)],
            ))
            .await,
        "second primary",
    );
    assert!(message.contains("primary"), "{message}");
    assert_same(&before, &store.snapshot(None).await.expect("snapshot"));

    // A backup is fine; promoting it while the first is primary is not.
    let (second, _) = store
        .insert_worker(&new_worker(
            "二",
            None,
            vec![duty(a, Responsibility::Backup)],
        ))
        .await
        .expect("backup");
    let promoted = Worker {
        grids: vec![duty(a, Responsibility::Primary)],
        ..second.clone()
    };
    assert_conflict(
        store.update_worker(&promoted).await,
        "promotion over a primary",
    );
    let after = store.snapshot(None).await.expect("snapshot");
    assert_eq!(after.workers, vec![first, second]);
}

async fn duplicate_device_id_is_refused(store: Arc<dyn Store>) {
    let (first, _) = store
        .insert_worker(&new_worker("一", Some("dev-1"), vec![]))
        .await
        .expect("first");
    let before = store.snapshot(None).await.expect("snapshot");
    let message = assert_conflict(
        store
            .insert_worker(&new_worker("二", Some("dev-1"), vec![]))
            .await,
        "same device",
    );
    assert!(message.contains("device"), "{message}");
    assert_same(&before, &store.snapshot(None).await.expect("snapshot"));

    let (second, _) = store
        .insert_worker(&new_worker("二", Some("dev-2"), vec![]))
        .await
        .expect("second");
    let stolen = Worker {
        device_hash: Some(device_hash("dev-1")),
        ..second.clone()
    };
    assert_conflict(
        store.update_worker(&stolen).await,
        "update to a taken device",
    );
    // Workers without a device do not collide.
    let (third, _) = store
        .insert_worker(&new_worker("三", None, vec![]))
        .await
        .expect("third");
    let (fourth, _) = store
        .insert_worker(&new_worker("四", None, vec![]))
        .await
        .expect("fourth");
    assert_eq!(
        store.snapshot(None).await.expect("snapshot").workers,
        vec![first, second, third, fourth]
    );
}

async fn tokens_are_found_by_hash_only(store: Arc<dyn Store>) {
    let grids = grid_ids(&imported(&store).await);
    let (worker, _) = store
        .insert_worker(&new_worker("王", None, vec![]))
        .await
        .expect("worker");
    let hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".to_owned();
    let new = NewToken {
        hash: hash.clone(),
        role: Role::Worker,
        scopes: vec![Scope::Grid(grids[data::GRID_A]), Scope::Region(RegionId(1))],
        worker: Some(worker.id),
        label: Some("王's phone".to_owned()),
        prefix: String::new(),
        expires_at: chrono::Utc::now() + chrono::Duration::days(90),
        created_by: None,
    };
    let (record, event) = store.insert_token(&new).await.expect("insert");
    assert_eq!(event.change.kind(), "token.created");
    assert_eq!(
        (record.role, &record.scopes, record.worker),
        (Role::Worker, &new.scopes, Some(worker.id))
    );
    assert_eq!(
        store.token_by_hash(&hash).await.expect("lookup"),
        Some(record.clone())
    );
    assert_eq!(
        store.token_by_hash(&"0".repeat(64)).await.expect("lookup"),
        None
    );
    assert_conflict(store.insert_token(&new).await, "same hash twice");
    let orphan = NewToken {
        hash: "1".repeat(64),
        worker: Some(WorkerId(9_999)),
        ..new.clone()
    };
    assert_conflict(
        store.insert_token(&orphan).await,
        "token for an unknown worker",
    );

    let admin = NewToken {
        hash: "2".repeat(64),
        role: Role::Admin,
        scopes: vec![],
        worker: None,
        label: None,
        prefix: String::new(),
        expires_at: chrono::Utc::now() + chrono::Duration::days(90),
        created_by: None,
    };
    let (admin, _) = store.insert_token(&admin).await.expect("admin");
    assert_eq!(
        store.token_by_hash(&"2".repeat(64)).await.expect("lookup"),
        Some(admin)
    );

    for event in store.events_since(0, 100).await.expect("events") {
        let text = event.change.payload_json().to_string();
        assert!(
            !text.contains(&hash) && !text.contains(&"2".repeat(64)),
            "a token hash leaked into {}",
            event.change.kind()
        );
    }
}

async fn tokens_are_listed_touched_and_revoked(store: Arc<dyn Store>) {
    let expires_at = chrono::Utc::now() + chrono::Duration::days(90);
    let new = |hash: char, label: &str| NewToken {
        hash: hash.to_string().repeat(64),
        prefix: format!("gw_{}", hash.to_string().repeat(8)),
        role: Role::Commander,
        scopes: vec![],
        worker: None,
        label: Some(label.to_owned()),
        expires_at,
        created_by: None,
    };
    let (first, _) = store.insert_token(&new('a', "first")).await.expect("first");
    let (second, _) = store
        .insert_token(&NewToken {
            created_by: Some(first.id),
            ..new('b', "second")
        })
        .await
        .expect("second");
    assert_eq!(second.created_by, Some(first.id));
    assert_eq!(second.prefix.as_deref(), Some("gw_bbbbbbbb"));
    assert_eq!(
        second.expires_at.map(|t| t.timestamp_micros()),
        Some(expires_at.timestamp_micros()),
        "the expiry round-trips at microsecond precision"
    );

    let used = chrono::Utc::now();
    store.touch_token(first.id, used).await.expect("touch");
    let listed = store.tokens().await.expect("list");
    assert_eq!(
        listed.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![first.id, second.id]
    );
    assert_eq!(
        listed[0].last_used_at.map(|t| t.timestamp_micros()),
        Some(used.timestamp_micros())
    );
    assert_eq!(store.revoked_tokens().await.expect("revoked"), vec![]);

    // Revoking writes `token.revoked` once; again is no event; the hash no longer finds it.
    let event = store
        .revoke_token(second.id, Some(first.id))
        .await
        .expect("revoke")
        .expect("an event");
    assert_eq!(event.change.kind(), "token.revoked");
    assert_eq!(
        event.change.payload_json(),
        serde_json::json!({"id": second.id, "by": first.id})
    );
    assert!(
        store
            .revoke_token(second.id, None)
            .await
            .expect("again")
            .is_none()
    );
    assert_eq!(
        store.revoked_tokens().await.expect("revoked"),
        vec![second.id]
    );
    assert_eq!(
        store.token_by_hash(&"b".repeat(64)).await.expect("lookup"),
        None
    );
    let stored = store.token(second.id).await.expect("read").expect("kept");
    assert!(stored.revoked_at.is_some());
    assert!(matches!(
        store
            .revoke_token(gridwatch::domain::TokenId(9_999), None)
            .await,
        Err(StoreError::NotFound(_))
    ));
}
