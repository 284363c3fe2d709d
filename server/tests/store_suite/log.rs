//! The event log and durability: sequence numbers, concurrent writers, reopening the store.

use std::sync::Arc;

use gridwatch::domain::{Responsibility, Role};
use gridwatch::store::{NewToken, Store, StoreKind};

use crate::fixture::{Backend, Target};
use crate::{assert_same, data, duty, grid_ids, imported, new_worker};

store_tests!(
    events_since_returns_exactly_the_later_events,
    concurrent_writes_get_ordered_sequence_numbers,
);
target_tests!(kind_names_the_backend, restart_keeps_everything);

async fn events_since_returns_exactly_the_later_events(store: Arc<dyn Store>) {
    let mut written = vec![store.import_city(&data::city()).await.expect("import")];
    let grids = grid_ids(&store.snapshot(None).await.expect("snapshot"));
    for i in 0..5 {
        let (_, event) = store
            .insert_worker(&new_worker(
                &format!("w{i}"),
                None,
                vec![duty(grids[data::GRID_B], Responsibility::Backup)],
            ))
            .await
            .expect("worker");
        written.push(event);
    }
    let (_, event) = store
        .insert_building(
            &data::building("osm:way/9", data::centre(), 1, None),
            Some(grids[data::GRID_A]),
        )
        .await
        .expect("building");
    written.push(event);

    let all = store.events_since(0, 100).await.expect("events");
    assert_eq!(
        all, written,
        "events read back equal the events the writes returned"
    );
    assert!(
        all.windows(2).all(|w| w[0].seq < w[1].seq),
        "strictly increasing"
    );
    for (i, event) in all.iter().enumerate() {
        assert_eq!(
            store.events_since(event.seq, 100).await.expect("events"),
            all[i + 1..]
        );
    }
    assert_eq!(
        store.events_since(all[1].seq, 2).await.expect("events"),
        all[2..4]
    );
    assert_eq!(store.events_since(0, 0).await.expect("events"), vec![]);
    assert_eq!(store.events_since(-5, 1).await.expect("events"), all[..1]);
    assert_eq!(
        store.snapshot(None).await.expect("snapshot").last_seq,
        all[all.len() - 1].seq
    );
}

async fn concurrent_writes_get_ordered_sequence_numbers(store: Arc<dyn Store>) {
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .insert_worker(&new_worker(
                        &format!("w{i}"),
                        Some(&format!("dev-{i}")),
                        vec![],
                    ))
                    .await
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        let (_, event) = task.await.expect("task").expect("insert");
        seqs.push(event.seq);
    }
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), 16, "every write got its own sequence number");
    let events = store.events_since(0, 100).await.expect("events");
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), seqs);
    assert_eq!(
        store.snapshot(None).await.expect("snapshot").workers.len(),
        16
    );
}

async fn kind_names_the_backend(target: Target) {
    let expected = match target.backend {
        Backend::Sqlite => StoreKind::Sqlite,
        Backend::Postgres => StoreKind::Postgres,
    };
    assert_eq!(target.open().await.kind(), expected);
}

async fn restart_keeps_everything(target: Target) {
    let store = target.open().await;
    let grids = grid_ids(&imported(&store).await);
    let (worker, _) = store
        .insert_worker(&new_worker(
            "王",
            Some("dev-1"),
            vec![duty(grids[data::GRID_C], Responsibility::Primary)],
        ))
        .await
        .expect("worker");
    let token = NewToken {
        hash: "a".repeat(64),
        role: Role::Device,
        scopes: vec![],
        worker: Some(worker.id),
        label: None,
        prefix: String::new(),
        expires_at: chrono::Utc::now() + chrono::Duration::days(90),
        created_by: None,
    };
    let (token, _) = store.insert_token(&token).await.expect("token");
    store
        .insert_building(
            &data::building("osm:way/9", data::centre(), 4, None),
            Some(grids[data::GRID_A]),
        )
        .await
        .expect("building");
    let before = store.snapshot(None).await.expect("snapshot");
    let events = store.events_since(0, 100).await.expect("events");
    drop(store);

    let store = target.open().await;
    assert_same(
        &before,
        &store.snapshot(None).await.expect("snapshot after restart"),
    );
    assert_eq!(store.events_since(0, 100).await.expect("events"), events);
    assert_eq!(
        store.token_by_hash(&"a".repeat(64)).await.expect("lookup"),
        Some(token)
    );
    let (_, next) = store
        .insert_worker(&new_worker("李", None, vec![]))
        .await
        .expect("write after restart");
    assert_eq!(next.seq, before.last_seq + 1);
}
