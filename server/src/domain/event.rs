//! Events: the append-only log every change writes in the same transaction as its rows, and
//! [`Change`], the list of everything that can change.
//!
//! Owns the event's shape: one variant per kind, each with a typed payload whose JSON is exactly what
//! the stores have always written (`kind` a dotted `noun.verb`, `payload` an object), so stored logs,
//! `resume` and the websocket `delta` messages read the same as before the events were typed; the
//! `events_v1` fixture (`server/tests/fixtures/events_v1/`) proves it against a store written by the
//! untyped code. Payload constructors live beside the payloads (`IncidentSummary::of(&case)`), so the
//! store, the hub and the tiles import what can change from here and never from each other.
//!
//! Every consumer matches a `Change` without a `_` arm: a new variant makes the compiler list each
//! place that must decide what it means (tiles, the live hub, escalation, patrols, cameras, and the
//! fixture test). Must not do IO or know the store: decoding a stored row is
//! [`Change::from_stored`], given the row's two columns.
//!
//! The sequence number orders all changes; live streaming and `resume` replay from it.

mod boundary;
mod cases;
mod city;
pub(crate) mod forms;
mod patrols;
mod people;
mod warnings;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use boundary::{BoundaryChanged, PlanCreated};
pub use cases::{AlertRaised, IncidentSummary, IncidentsUpdated, PhotoAdded, UpdateReason};
pub use city::{BuildingCreated, CityImported, GridTotals, RegionCreated};
pub use patrols::{CheckedIn, GridCrossing};
pub use people::{TokenCreated, TokenRevoked, WorkerSummary};
pub use warnings::{Warning, WarningCleared};

use super::UserSummary;
use super::alarm::AlarmAcknowledged;
use super::camera::Camera;
use super::patrol::{Checkpoint, Patrol};
use super::{Category, Department};

/// One committed change: its place in the log, when it was committed, and what changed.
/// Serialises as `{seq, at, kind, payload}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub seq: i64,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub change: Change,
}

/// Everything that can change, one variant per event kind. Serialised adjacently tagged as
/// `{"kind": "noun.verb", "payload": {…}}`; the stores keep the two halves in two columns.
///
/// Who emits each and who reads it is in `ARCHITECTURE.md` ("What can change").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload")]
pub enum Change {
    /// A whole city was imported into an empty store (the world is rebuilt, not patched).
    #[serde(rename = "city.imported")]
    CityImported(CityImported),
    #[serde(rename = "region.created")]
    RegionCreated(RegionCreated),
    #[serde(rename = "building.created")]
    BuildingCreated(BuildingCreated),
    #[serde(rename = "worker.created")]
    WorkerCreated(WorkerSummary),
    /// Any change to a worker: fields, duty, grid duties.
    #[serde(rename = "worker.updated")]
    WorkerUpdated(WorkerSummary),
    #[serde(rename = "token.created")]
    TokenCreated(TokenCreated),
    #[serde(rename = "token.revoked")]
    TokenRevoked(TokenRevoked),
    /// A person's account was created (issue 18).
    #[serde(rename = "user.created")]
    UserCreated(UserSummary),
    /// Any change to an account: name, role, scopes, worker, status, password or TOTP secret.
    #[serde(rename = "user.updated")]
    UserUpdated(UserSummary),
    #[serde(rename = "incident.created")]
    IncidentCreated(Box<IncidentSummary>),
    /// One or more cases changed together (a workflow action, a re-route by a boundary change).
    #[serde(rename = "incident.updated")]
    IncidentUpdated(IncidentsUpdated),
    #[serde(rename = "incident.photo_added")]
    IncidentPhotoAdded(PhotoAdded),
    /// A category was created or replaced (by code).
    #[serde(rename = "category.updated")]
    CategoryUpdated(Category),
    /// A department was created or replaced (by code), with its member list.
    #[serde(rename = "department.updated")]
    DepartmentUpdated(Department),
    /// An area alert (应急联动) and the workers it reached.
    #[serde(rename = "alert.raised")]
    AlertRaised(AlertRaised),
    #[serde(rename = "camera.created")]
    CameraCreated(Camera),
    #[serde(rename = "camera.updated")]
    CameraUpdated(Camera),
    /// Carries the camera's last parameters, so consumers know where it was.
    #[serde(rename = "camera.deleted")]
    CameraDeleted(Camera),
    #[serde(rename = "patrol.started")]
    PatrolStarted(Patrol),
    #[serde(rename = "patrol.ended")]
    PatrolEnded(Patrol),
    #[serde(rename = "patrol.grid_entered")]
    PatrolGridEntered(GridCrossing),
    #[serde(rename = "patrol.grid_exited")]
    PatrolGridExited(GridCrossing),
    /// A patrol came within a checkpoint's radius (巡查打卡).
    #[serde(rename = "patrol.checked_in")]
    PatrolCheckedIn(CheckedIn),
    #[serde(rename = "checkpoint.created")]
    CheckpointCreated(Checkpoint),
    /// A draft boundary plan was stored.
    #[serde(rename = "plan.created")]
    PlanCreated(PlanCreated),
    /// A plan was applied as a new boundary version of one community.
    #[serde(rename = "boundary.changed")]
    BoundaryChanged(BoundaryChanged),
    /// Someone in the command centre acknowledged an alarm (`crate::alarms`): the alarm, who, when.
    #[serde(rename = "alarm.acknowledged")]
    AlarmAcknowledged(Box<AlarmAcknowledged>),
    /// An early warning (研判预警) with its evidence, raised by the warnings service.
    #[serde(rename = "warning.raised")]
    WarningRaised(Box<Warning>),
    /// An early warning whose window no longer holds the excess.
    #[serde(rename = "warning.cleared")]
    WarningCleared(WarningCleared),
}

impl Change {
    /// The dotted kind, as stored in the `events.kind` column and sent in `delta` messages.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::CityImported(_) => "city.imported",
            Self::RegionCreated(_) => "region.created",
            Self::BuildingCreated(_) => "building.created",
            Self::WorkerCreated(_) => "worker.created",
            Self::WorkerUpdated(_) => "worker.updated",
            Self::TokenCreated(_) => "token.created",
            Self::TokenRevoked(_) => "token.revoked",
            Self::UserCreated(_) => "user.created",
            Self::UserUpdated(_) => "user.updated",
            Self::IncidentCreated(_) => "incident.created",
            Self::IncidentUpdated(_) => "incident.updated",
            Self::IncidentPhotoAdded(_) => "incident.photo_added",
            Self::CategoryUpdated(_) => "category.updated",
            Self::DepartmentUpdated(_) => "department.updated",
            Self::AlertRaised(_) => "alert.raised",
            Self::CameraCreated(_) => "camera.created",
            Self::CameraUpdated(_) => "camera.updated",
            Self::CameraDeleted(_) => "camera.deleted",
            Self::PatrolStarted(_) => "patrol.started",
            Self::PatrolEnded(_) => "patrol.ended",
            Self::PatrolGridEntered(_) => "patrol.grid_entered",
            Self::PatrolGridExited(_) => "patrol.grid_exited",
            Self::PatrolCheckedIn(_) => "patrol.checked_in",
            Self::CheckpointCreated(_) => "checkpoint.created",
            Self::PlanCreated(_) => "plan.created",
            Self::BoundaryChanged(_) => "boundary.changed",
            Self::AlarmAcknowledged(_) => "alarm.acknowledged",
            Self::WarningRaised(_) => "warning.raised",
            Self::WarningCleared(_) => "warning.cleared",
        }
    }

    /// The payload as a JSON value: what the `payload` column holds and what a `delta`'s `data` carries.
    /// Object keys come out sorted (`serde_json`'s map), as the untyped code wrote them.
    #[must_use]
    pub fn payload_json(&self) -> Value {
        // The adjacently tagged form is `{"kind", "payload"}`; serialising it is the one place that
        // knows every variant's payload type, so no second match has to be kept in step.
        match serde_json::to_value(self) {
            Ok(Value::Object(mut both)) => both.remove("payload").unwrap_or(Value::Null),
            // Unreachable: every payload is a struct of strings, numbers and string-keyed maps.
            Ok(_) | Err(_) => Value::Null,
        }
    }

    /// The text of the `payload` column.
    #[must_use]
    pub fn payload_text(&self) -> String {
        self.payload_json().to_string()
    }

    /// Decodes a stored event from its `kind` and `payload` columns (the payload as JSON text).
    pub fn from_stored(kind: &str, payload: &str) -> Result<Self, serde_json::Error> {
        // One document in the tagged form, tag first, so serde picks the variant before it reads the
        // payload and decodes it straight into the variant's type.
        let kind = serde_json::to_string(kind)?;
        serde_json::from_str(&format!(r#"{{"kind":{kind},"payload":{payload}}}"#))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::{GridId, PatrolId, WorkerId};

    fn crossing() -> Change {
        Change::PatrolGridEntered(GridCrossing {
            patrol: PatrolId(7),
            worker: WorkerId(3),
            grid: GridId(5),
            at: "2026-11-29T08:00:00.123456Z".parse().expect("a time"),
            lat: 36.19,
            lon: 113.0,
        })
    }

    #[test]
    fn token_events_keep_their_stored_form() {
        use crate::domain::TokenId;
        // `token.revoked` is newer than the events_v1 fixture: its stored form is pinned here.
        let revoked = Change::TokenRevoked(TokenRevoked {
            id: TokenId(7),
            by: Some(TokenId(1)),
        });
        assert_eq!(revoked.kind(), "token.revoked");
        assert_eq!(revoked.payload_text(), r#"{"by":1,"id":7}"#);
        assert_eq!(
            Change::from_stored("token.revoked", r#"{"id":7}"#).expect("decodes"),
            Change::TokenRevoked(TokenRevoked {
                id: TokenId(7),
                by: None
            })
        );
        // A `token.created` written before tokens expired has no `expires_at`, and writes back the same.
        let old = r#"{"id":3,"label":null,"role":"worker","scopes":[],"worker":2}"#;
        let decoded = Change::from_stored("token.created", old).expect("decodes");
        assert_eq!(decoded.payload_text(), old);
    }

    #[test]
    fn warning_events_keep_their_stored_form() {
        // `warning.*` is newer than the events_v1 fixture: its stored form is pinned here.
        let text = r#"{"building":null,"cases":[4,5,6],"cells":["89409340c47ffff"],"expected":0.02,"grids":[3],"group":"city_management","key":"rate:city_management:89409340c47ffff:4","kind":"rate","observed":3,"p_value":1.3e-6,"raised_at":"2026-12-07T09:05:00Z","window_end":"2026-12-07T09:05:00Z","window_start":"2026-12-07T07:05:00Z"}"#;
        let raised = Change::from_stored("warning.raised", text).expect("decodes");
        assert_eq!(raised.kind(), "warning.raised");
        assert_eq!(raised.payload_text(), text);
        let Change::WarningRaised(warning) = &raised else {
            panic!("{raised:?}")
        };
        assert_eq!(warning.cases, [4, 5, 6]);
        let cleared = r#"{"at":"2026-12-07T11:05:00Z","grids":[3],"key":"rate:city_management:89409340c47ffff:4"}"#;
        let decoded = Change::from_stored("warning.cleared", cleared).expect("decodes");
        assert_eq!(decoded.kind(), "warning.cleared");
        assert_eq!(decoded.payload_text(), cleared);
        assert!(Change::from_stored("warning.cleared", r#"{"key":"k"}"#).is_err());
    }

    #[test]
    fn user_events_keep_their_stored_form() {
        use crate::domain::{Role, Scope, UserId, UserStatus};
        // `user.*` is newer than the events_v1 fixture: its stored form is pinned here.
        let created = Change::UserCreated(UserSummary {
            id: UserId(4),
            name: "li.lei".into(),
            display_name: "李雷".into(),
            role: Role::Commander,
            scopes: vec![Scope::Region(crate::domain::RegionId(3))],
            worker: None,
            status: UserStatus::Active,
        });
        assert_eq!(created.kind(), "user.created");
        let text = r#"{"display_name":"李雷","id":4,"name":"li.lei","role":"commander","scopes":[{"id":3,"kind":"region"}],"status":"active","worker":null}"#;
        assert_eq!(created.payload_text(), text);
        assert_eq!(
            Change::from_stored("user.created", text).expect("decodes"),
            created
        );
        let Change::UserCreated(summary) = created else {
            unreachable!()
        };
        let updated = Change::UserUpdated(summary);
        assert_eq!(updated.kind(), "user.updated");
        assert_eq!(
            Change::from_stored("user.updated", text).expect("decodes"),
            updated
        );
    }

    #[test]
    fn the_stored_form_is_the_kind_and_the_payload_object() {
        let change = crossing();
        assert_eq!(change.kind(), "patrol.grid_entered");
        let payload = json!({"patrol": 7, "worker": 3, "grid": 5, "at": "2026-11-29T08:00:00.123456Z",
            "lat": 36.19, "lon": 113.0});
        assert_eq!(change.payload_json(), payload);
        assert_eq!(
            change.payload_text(),
            r#"{"at":"2026-11-29T08:00:00.123456Z","grid":5,"lat":36.19,"lon":113.0,"patrol":7,"worker":3}"#,
            "keys sorted, floats stay floats"
        );
        assert_eq!(
            Change::from_stored("patrol.grid_entered", &payload.to_string()).expect("decodes"),
            change
        );
        let event = Event {
            seq: 9,
            at: "2026-11-29T08:00:01Z".parse().expect("a time"),
            change,
        };
        assert_eq!(
            serde_json::to_value(&event).expect("serialises"),
            json!({"seq": 9, "at": "2026-11-29T08:00:01Z", "kind": "patrol.grid_entered", "payload": payload})
        );
    }

    #[test]
    fn a_row_that_does_not_fit_its_kind_is_refused() {
        let text = crossing().payload_text();
        assert!(Change::from_stored("patrol.teleported", &text).is_err());
        assert!(Change::from_stored("camera.created", &text).is_err());
        assert!(Change::from_stored("patrol.grid_entered", "{\"patrol\": 7}").is_err());
        assert!(Change::from_stored("patrol.grid_entered", "not json").is_err());
        assert!(
            Change::from_stored("\"}", &text).is_err(),
            "a kind is data, not JSON"
        );
    }
}
