//! The audit trail in the store: a row for every committed event, in its transaction and with its
//! sequence number; rows of their own (refusals) chained after them; the search the auditor uses; and
//! retention that removes only verified rows older than the minimum, never younger ones.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use gridwatch::admin::audit::{self, AuditError};
use gridwatch::audit::{Actor, ActorKind, Entry, Outcome};
use gridwatch::domain::Role;
use gridwatch::store::{AuditQuery, Store};

use gridwatch::domain::Responsibility;

use crate::{data, duty, grid_ids, imported, new_worker};

store_tests!(
    every_event_has_its_audit_row,
    the_auditor_searches_by_actor_action_and_time,
    retention_keeps_young_rows_and_the_chain,
    without_audit_no_rows_are_written,
);

/// Every row of the trail, in order.
async fn all_rows(store: &Arc<dyn Store>) -> Vec<gridwatch::audit::Row> {
    store.audit_rows(0, 1_000_000).await.expect("audit rows")
}

fn entry(name: &str, action: &str, days_ago: i64) -> Entry {
    let mut entry = Entry::new(
        None,
        action,
        Some("POST /api/x".into()),
        Outcome::Denied,
        None,
    );
    entry.at = Utc::now() - TimeDelta::days(days_ago);
    entry.actor = Actor {
        kind: ActorKind::Token,
        id: Some(7),
        name: Some(name.into()),
        role: Some(Role::Commander),
    };
    entry
}

async fn every_event_has_its_audit_row(store: Arc<dyn Store>) {
    let grids = grid_ids(&imported(&store).await);
    let primary = vec![duty(grids[data::GRID_A], Responsibility::Primary)];
    let (worker, _) = store
        .insert_worker(&new_worker("王芳", None, primary))
        .await
        .expect("a worker");
    store
        .update_worker(&worker)
        .await
        .expect("the same worker again");
    let events = store.events_since(0, 100_000).await.expect("events");
    assert_eq!(events.len(), 3, "the import and two worker changes");
    let rows = all_rows(&store).await;
    // Each event's row names its kind and sequence number; made outside a request, it is the system's.
    let by_detail: BTreeMap<String, &gridwatch::audit::Row> = rows
        .iter()
        .filter_map(|r| r.entry.detail.clone().map(|d| (d, r)))
        .collect();
    for event in &events {
        let row = by_detail
            .get(&format!("seq {}", event.seq))
            .unwrap_or_else(|| panic!("no audit row for event {}", event.seq));
        assert_eq!(row.entry.action, event.change.kind());
        assert_eq!(row.entry.actor.kind, ActorKind::System);
        assert_eq!(row.entry.outcome, Outcome::Ok);
        assert_eq!(row.entry.at, event.at, "the row keeps the event's time");
    }
    assert_eq!(rows.len(), events.len());

    // A row of its own is chained after them, and the whole chain verifies.
    store
        .append_audit(vec![entry("desk", "http.denied", 0)])
        .await
        .expect("append");
    let rows = all_rows(&store).await;
    let last = rows.last().expect("a row");
    assert_eq!(last.seq, i64::try_from(events.len()).expect("ok") + 1);
    assert_eq!(last.prev_hash, rows[rows.len() - 2].hash);
    let verified = audit::verify(store.as_ref())
        .await
        .expect("the chain holds");
    assert_eq!(verified.rows, u64::try_from(rows.len()).expect("ok"));
    assert_eq!(verified.anchor, 0);
}

async fn the_auditor_searches_by_actor_action_and_time(store: Arc<dyn Store>) {
    store
        .append_audit(vec![
            entry("desk", "http.denied", 2),
            entry("desk", "http.failed", 0),
            entry("phone", "http.denied", 0),
        ])
        .await
        .expect("append");
    let now = Utc::now();
    let query = |actor: Option<&str>, action: Option<&str>, hours: i64| AuditQuery {
        from: now - TimeDelta::hours(hours),
        to: now + TimeDelta::minutes(1),
        actor: actor.map(Into::into),
        action: action.map(Into::into),
        after: 0,
        limit: 100,
    };
    let found = |rows: Vec<gridwatch::audit::Row>| -> Vec<(String, String)> {
        rows.into_iter()
            .map(|r| (r.entry.actor.name.unwrap_or_default(), r.entry.action))
            .collect()
    };
    let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    let day = store.find_audit(&query(None, None, 24)).await.expect("ok");
    assert_eq!(
        found(day),
        [pair("desk", "http.failed"), pair("phone", "http.denied")],
        "the last 24 hours leave out the row two days old"
    );
    let desk = store
        .find_audit(&query(Some("desk"), None, 72))
        .await
        .expect("ok");
    assert_eq!(
        found(desk),
        [pair("desk", "http.denied"), pair("desk", "http.failed")]
    );
    let by_id = store
        .find_audit(&query(Some("7"), Some("http.denied"), 72))
        .await
        .expect("ok");
    assert_eq!(
        found(by_id),
        [pair("desk", "http.denied"), pair("phone", "http.denied")]
    );
    let mut paged = query(None, None, 72);
    paged.after = 1;
    paged.limit = 1;
    let page = store.find_audit(&paged).await.expect("ok");
    assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), [2]);
}

async fn retention_keeps_young_rows_and_the_chain(store: Arc<dyn Store>) {
    store
        .append_audit(vec![
            entry("desk", "http.denied", 400),
            entry("desk", "http.denied", 200),
            entry("desk", "http.denied", 100),
            entry("desk", "http.denied", 0),
        ])
        .await
        .expect("append");
    let rows = all_rows(&store).await;
    let now = Utc::now();

    assert!(matches!(
        audit::prune(store.as_ref(), 90, now).await,
        Err(AuditError::TooShort(90))
    ));
    // Kept 365 days: the 400-day-old row goes; 180 days: the 200-day-old one too.
    let pruned = audit::prune(store.as_ref(), 365, now).await.expect("prune");
    assert_eq!((pruned.removed, pruned.anchor), (1, 1));
    let pruned = audit::prune(store.as_ref(), 180, now).await.expect("prune");
    assert_eq!((pruned.removed, pruned.anchor), (1, 2));
    let pruned = audit::prune(store.as_ref(), 180, now).await.expect("prune");
    assert_eq!(
        (pruned.removed, pruned.anchor),
        (0, 2),
        "nothing more is old enough"
    );
    let verified = audit::verify(store.as_ref())
        .await
        .expect("the kept chain holds");
    assert_eq!((verified.anchor, verified.rows), (2, 2));
    assert_eq!(
        store.audit_anchor().await.expect("ok"),
        (2, rows[1].hash.clone())
    );

    // The database itself (its triggers) refuses to move the anchor onto a row younger than 180 days,
    // onto a row with another hash, or back — whatever the code above it does.
    for (seq, hash, what) in [
        (3, &rows[2].hash, "onto a 100-day-old row"),
        (2, &rows[2].hash, "with a hash not the row's"),
        (1, &rows[0].hash, "back"),
    ] {
        let refused = store.prune_audit(seq, hash).await.expect_err(what);
        assert!(
            refused.to_string().contains("moving the audit anchor")
                && format!("{refused:?}").contains("at least 180 days old"),
            "moving the anchor {what}: {refused:?}"
        );
    }
    assert_eq!(all_rows(&store).await.len(), 2, "nothing was removed");
}

async fn without_audit_no_rows_are_written(store: Arc<dyn Store>) {
    store.set_audited(false);
    imported(&store).await;
    assert!(all_rows(&store).await.is_empty());
    store.set_audited(true);
}
