//! Workers with their grid duties, and API tokens.

use std::sync::Arc;

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
    assert_eq!(event.change.payload_json()["device_id"], "dev-1");
    assert_eq!(worker.grids, new.grids, "duties keep their order");
    assert_eq!(
        store.snapshot().await.expect("snapshot").workers,
        vec![worker.clone()]
    );

    let changed = Worker {
        name: "王芳芳".to_owned(),
        kind: WorkerKind::Patroller,
        duty: DutyStatus::OffDuty,
        phone: None,
        device_id: Some("dev-2".to_owned()),
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
        store.snapshot().await.expect("snapshot").workers,
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

    let snapshot = store.snapshot().await.expect("snapshot");
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
    let before = store.snapshot().await.expect("snapshot");

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
    assert_same(&before, &store.snapshot().await.expect("snapshot"));

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
    let after = store.snapshot().await.expect("snapshot");
    assert_eq!(after.workers, vec![first, second]);
}

async fn duplicate_device_id_is_refused(store: Arc<dyn Store>) {
    let (first, _) = store
        .insert_worker(&new_worker("一", Some("dev-1"), vec![]))
        .await
        .expect("first");
    let before = store.snapshot().await.expect("snapshot");
    let message = assert_conflict(
        store
            .insert_worker(&new_worker("二", Some("dev-1"), vec![]))
            .await,
        "same device",
    );
    assert!(message.contains("device"), "{message}");
    assert_same(&before, &store.snapshot().await.expect("snapshot"));

    let (second, _) = store
        .insert_worker(&new_worker("二", Some("dev-2"), vec![]))
        .await
        .expect("second");
    let stolen = Worker {
        device_id: Some("dev-1".to_owned()),
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
        store.snapshot().await.expect("snapshot").workers,
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
