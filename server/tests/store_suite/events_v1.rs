//! Typed events read the logs the untyped code wrote: `fixtures/events_v1/gridwatch.db` is a store made
//! by the binary of commit 1f61e9b (how: the README beside it), with every event kind of that time.
//!
//! On `SQLite` the fixture itself is opened (a copy) with the current store; on `PostGIS` its event rows
//! are inserted as they are into a fresh store. Either way every row must decode into a `Change` whose
//! kind is the row's and whose payload serialises back to exactly the stored JSON value, and every
//! variant of `Change` must be among them. The websocket `delta`s made of them are byte for byte those
//! the untyped hub made of the stored rows. A row that does not decode is `Corrupt`, naming it.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use gridwatch::domain::{Change, Event, Principal, Role, TokenId};
use gridwatch::live::hub::items_of;
use gridwatch::store::{Store, StoreError};
use gridwatch::world::World;
use serde_json::{Value, json};
use sqlx::Connection;
use sqlx::sqlite::SqliteConnection;

use crate::fixture::{Backend, Target};

target_tests!(events_written_before_typed_events_decode);

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/events_v1/gridwatch.db"
);

/// Kinds added after `events_v1` was made, with the reason the fixture cannot hold them. Their stored
/// form is pinned by a unit test in `domain/event.rs` until a newer fixture (`events_v2`, made the same
/// way by the binary that added them) holds them.
const NOT_IN_V1: &[(&str, &str)] = &[
    (
        "token.revoked",
        "revocation arrived with issue 18, after the untyped events the fixture was made by",
    ),
    (
        "user.created",
        "people's accounts arrived with issue 18, after the untyped events the fixture was made by",
    ),
    (
        "user.updated",
        "people's accounts arrived with issue 18, after the untyped events the fixture was made by",
    ),
    (
        "alarm.acknowledged",
        "alarms arrived with issue 21, after the untyped events the fixture was made by",
    ),
    (
        "warning.raised",
        "early warnings arrived with issue 21, after the untyped events the fixture was made by",
    ),
    (
        "warning.cleared",
        "early warnings arrived with issue 21, after the untyped events the fixture was made by",
    ),
];

/// One `events` row as stored: `(seq, at, kind, payload)`.
type Row = (i64, DateTime<Utc>, String, String);

/// The stored name of each variant, spelled out here on purpose: this match has no `_` arm, so a new
/// variant of `Change` does not compile until it is named here, and then fails the test until a
/// fixture holds it or `NOT_IN_V1` says why not.
fn stored_name(change: &Change) -> &'static str {
    match change {
        Change::CityImported(_) => "city.imported",
        Change::RegionCreated(_) => "region.created",
        Change::BuildingCreated(_) => "building.created",
        Change::WorkerCreated(_) => "worker.created",
        Change::WorkerUpdated(_) => "worker.updated",
        Change::TokenCreated(_) => "token.created",
        Change::TokenRevoked(_) => "token.revoked",
        Change::UserCreated(_) => "user.created",
        Change::UserUpdated(_) => "user.updated",
        Change::IncidentCreated(_) => "incident.created",
        Change::IncidentUpdated(_) => "incident.updated",
        Change::IncidentPhotoAdded(_) => "incident.photo_added",
        Change::CategoryUpdated(_) => "category.updated",
        Change::DepartmentUpdated(_) => "department.updated",
        Change::AlertRaised(_) => "alert.raised",
        Change::CameraCreated(_) => "camera.created",
        Change::CameraUpdated(_) => "camera.updated",
        Change::CameraDeleted(_) => "camera.deleted",
        Change::PatrolStarted(_) => "patrol.started",
        Change::PatrolEnded(_) => "patrol.ended",
        Change::PatrolGridEntered(_) => "patrol.grid_entered",
        Change::PatrolGridExited(_) => "patrol.grid_exited",
        Change::PatrolCheckedIn(_) => "patrol.checked_in",
        Change::CheckpointCreated(_) => "checkpoint.created",
        Change::PlanCreated(_) => "plan.created",
        Change::BoundaryChanged(_) => "boundary.changed",
        Change::AlarmAcknowledged(_) => "alarm.acknowledged",
        Change::WarningRaised(_) => "warning.raised",
        Change::WarningCleared(_) => "warning.cleared",
    }
}

/// Every kind `Change` accepts, as its derived `Deserialize` lists them (complete by construction).
fn every_kind() -> BTreeSet<String> {
    let refused = serde_json::from_value::<Change>(json!({"kind": "no.such", "payload": {}}))
        .expect_err("an unknown kind is refused");
    // serde: "unknown variant `no.such`, expected one of `city.imported`, `region.created`, …"
    let message = refused.to_string();
    let (_, list) = message
        .split_once("expected one of ")
        .unwrap_or_else(|| panic!("serde's message changed shape: {message}"));
    let kinds: BTreeSet<String> = list
        .split(", ")
        .map(|k| k.trim_matches('`').to_owned())
        .collect();
    assert!(kinds.len() > 20, "every kind read from {message:?}");
    kinds
}

async fn fixture_rows(path: &Path) -> Vec<Row> {
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("opening the fixture");
    sqlx::query_as("SELECT seq, at, kind, payload FROM events ORDER BY seq")
        .fetch_all(&mut conn)
        .await
        .expect("the fixture's events")
}

async fn events_written_before_typed_events_decode(target: Target) {
    let copy = tempfile::tempdir().expect("temporary directory");
    let fixture = copy.path().join("gridwatch.db");
    std::fs::copy(FIXTURE, &fixture).expect("copying the fixture");
    let rows = fixture_rows(&fixture).await;

    let store = match target.backend {
        Backend::Sqlite => {
            // The store opens the fixture itself (a copy: opening writes a WAL beside it).
            let path = target.url.strip_prefix("sqlite://").expect("a file URL");
            std::fs::copy(&fixture, path).expect("placing the fixture");
            target.open().await
        }
        Backend::Postgres => {
            let store = target.open().await;
            let pg = target.pg().await;
            for (seq, at, kind, payload) in &rows {
                sqlx::query(
                    "INSERT INTO events (seq, at, kind, payload) VALUES ($1, $2, $3, $4::jsonb)",
                )
                .bind(seq)
                .bind(at)
                .bind(kind)
                .bind(payload)
                .execute(&pg)
                .await
                .expect("inserting a fixture event");
            }
            store
        }
    };
    let events = store
        .events_since(0, 10_000)
        .await
        .expect("every event decodes");
    check(&rows, &events);
    // On SQLite the store holds the fixture's world too; on PostGIS only its events.
    let world = World::from_snapshot(store.snapshot(None).await.expect("snapshot"));
    let routed = deltas_read_as_before(&world, &rows, &events);
    let mut live = vec![
        "alert.raised",
        "boundary.changed",
        "camera.created",
        "camera.deleted",
        "camera.updated",
        "checkpoint.created",
        "incident.created",
        "incident.updated",
        "patrol.checked_in",
        "patrol.ended",
        "patrol.grid_entered",
        "patrol.grid_exited",
        "patrol.started",
        "worker.created",
        "worker.updated",
    ];
    if target.backend == Backend::Sqlite {
        // Routed by the case's place in the world.
        live.push("incident.photo_added");
    }
    assert_eq!(
        routed,
        live.into_iter().map(str::to_owned).collect::<BTreeSet<_>>(),
        "the kinds that reach the live map"
    );
    refuses_a_row_that_does_not_decode(&target, &store, &rows).await;
}

fn check(rows: &[Row], events: &[Event]) {
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "one event per row, in order"
    );
    let mut seen = BTreeSet::new();
    for ((seq, at, kind, payload), event) in rows.iter().zip(events) {
        let stored: Value = serde_json::from_str(payload).expect("stored JSON");
        assert_eq!(
            (event.at, event.change.kind(), stored_name(&event.change)),
            (*at, kind.as_str(), kind.as_str()),
            "event {seq}"
        );
        assert_eq!(
            event.change.payload_json(),
            stored,
            "event {seq} ({kind}) serialises back to exactly what was stored"
        );
        assert_eq!(
            serde_json::to_value(event).expect("an event serialises"),
            json!({"seq": seq, "at": at, "kind": kind, "payload": stored}),
            "event {seq} as a whole"
        );
        seen.insert(kind.clone());
    }

    let later: BTreeSet<String> = NOT_IN_V1.iter().map(|(k, _)| (*k).to_owned()).collect();
    let every = every_kind();
    let missing: Vec<_> = every
        .difference(&seen)
        .filter(|k| !later.contains(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "kinds of Change the events_v1 fixture does not hold: {missing:?}; add them to a newer \
         fixture or to NOT_IN_V1 with the reason"
    );
    let wrong: Vec<_> = later
        .iter()
        .filter(|k| seen.contains(*k) || !every.contains(*k))
        .collect();
    assert!(
        wrong.is_empty(),
        "NOT_IN_V1 names kinds the fixture holds or Change lacks: {wrong:?}"
    );
}

/// Every websocket `delta` the hub makes of these events is, byte for byte, the message the untyped hub
/// made of the stored rows: `data` the stored payload (for `incident.updated`, the one case's stored
/// summary) — but for a worker's (issue 18): never the device id it stored then, and the phone only for
/// roles that manage workers (a commander here; a planner does not get it). Returns the kinds that made
/// a delta.
fn deltas_read_as_before(world: &World, rows: &[Row], events: &[Event]) -> BTreeSet<String> {
    let viewer = |role: Role| Principal {
        credential: gridwatch::domain::Credential::Token(TokenId(1)),
        role,
        scopes: Vec::new(),
        worker: None,
        expires_at: None,
    };
    let mut routed = BTreeSet::new();
    for ((seq, at, kind, payload), event) in rows.iter().zip(events) {
        let stored: Value = serde_json::from_str(payload).expect("stored JSON");
        for (item, message) in items_of(world, event) {
            // The `alarms` layer is newer than the fixture: its deltas have no old bytes to equal.
            if item.layer == gridwatch::live::filter::Layer::Alarms {
                continue;
            }
            for (role, contacts) in [(Role::Commander, true), (Role::Planner, false)] {
                let message = message.for_viewer(&viewer(role));
                let sent: Value = serde_json::from_str(message).expect("a JSON message");
                let id = &sent["id"];
                let mut data = if kind == "incident.updated" {
                    let mut cases = stored["incidents"].as_array().expect("cases").iter();
                    cases.find(|c| c["id"] == *id).expect("the case").clone()
                } else {
                    stored.clone()
                };
                if kind.starts_with("worker.") {
                    let fields = data.as_object_mut().expect("a worker");
                    assert!(fields.remove("device_id").is_some(), "event {seq}");
                    if !contacts {
                        fields.remove("phone");
                    }
                }
                let before = json!({"type": "delta", "seq": seq, "kind": kind, "at": at,
                    "layer": sent["layer"], "id": id, "data": data});
                assert_eq!(
                    **message,
                    before.to_string(),
                    "event {seq} ({kind}), {role:?}"
                );
            }
            routed.insert(kind.clone());
        }
    }
    routed
}

/// A stored row no variant reads is data damage: `Corrupt`, naming its sequence number and kind.
/// (The log is append-only, so each damaged row stays: the next is read from after it.)
async fn refuses_a_row_that_does_not_decode(
    target: &Target,
    store: &std::sync::Arc<dyn Store>,
    rows: &[Row],
) {
    let mut after = rows.last().expect("the fixture has events").0;
    for (kind, payload) in [
        ("patrol.teleported", r#"{"patrol": 1}"#),
        ("camera.created", r#"{"id": 1}"#),
    ] {
        let seq = damage(target, kind, payload).await;
        match store.events_since(after, 10).await {
            Err(StoreError::Corrupt { table, reason }) => {
                assert_eq!(table, "events");
                assert!(
                    reason.contains(&format!("event {seq} ({kind})")),
                    "{reason}"
                );
            }
            other => panic!("{kind}: expected Corrupt, got {other:?}"),
        }
        after = seq;
    }
}

/// Appends a row of `kind` with `payload` behind the store's back; returns its sequence number.
async fn damage(target: &Target, kind: &str, payload: &str) -> i64 {
    match target.backend {
        Backend::Sqlite => {
            let mut conn = SqliteConnection::connect(&target.url)
                .await
                .expect("connect");
            sqlx::query_scalar(
                "INSERT INTO events (at, kind, payload) VALUES ('2026-12-06T15:03:00+00:00', $1, $2) \
                 RETURNING seq",
            )
            .bind(kind)
            .bind(payload)
            .fetch_one(&mut conn)
            .await
            .expect("a damaged row")
        }
        Backend::Postgres => sqlx::query_scalar(
            "INSERT INTO events (seq, at, kind, payload) \
             VALUES ((SELECT max(seq) + 1 FROM events), now(), $1, $2::jsonb) RETURNING seq",
        )
        .bind(kind)
        .bind(payload)
        .fetch_one(&target.pg().await)
        .await
        .expect("a damaged row"),
    }
}
