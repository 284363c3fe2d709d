//! Every domain error variant → what a client sees, written out by hand: the status, the `type`, the
//! `detail` and the extension members. A change to any mapping fails here before an e2e test finds it.
//! Here the shared pieces; the services' enums in `tests/`, one file per mapping file.

mod admin;
mod cases;
mod field;
mod plans;

use serde_json::{Value, json};

use super::ApiError;
use crate::domain::{AccessError, IncidentId, Subject};
use crate::store::StoreError;
use crate::world::LocateError;

/// What a client reads in the problem: `status`, `type`, `detail` and the extension members (the
/// `title` is the status's reason phrase, set by `IntoResponse`).
pub(super) fn seen(error: impl Into<ApiError>) -> Value {
    let e: ApiError = error.into();
    let mut seen = json!({
        "status": e.status.as_u16(),
        "type": format!("/problems/{}", e.slug),
        "detail": e.detail,
    });
    seen.as_object_mut().expect("an object").extend(e.extra);
    seen
}

pub(super) fn problem(status: u16, slug: &str, detail: &str) -> Value {
    json!({"status": status, "type": format!("/problems/{slug}"), "detail": detail})
}

/// `problem` with extension members.
pub(super) fn with(mut base: Value, extra: &Value) -> Value {
    let extra = extra.as_object().expect("an object").clone();
    base.as_object_mut().expect("an object").extend(extra);
    base
}

pub(super) const INTERNAL: &str = "internal error; see the server log";

pub(super) fn database() -> StoreError {
    StoreError::Database {
        context: "reading cases",
        source: sqlx::Error::PoolTimedOut,
    }
}

#[test]
fn access_store_and_coordinates() {
    let incident = Subject::Incident(IncidentId(7));
    assert_eq!(
        seen(AccessError::NotFound(incident)),
        problem(404, "not-found", "incident 7 does not exist")
    );
    assert_eq!(
        seen(AccessError::OutOfScope(incident)),
        problem(403, "forbidden", "incident 7 is outside your scope")
    );
    assert_eq!(
        seen(StoreError::Conflict(
            "inserting a worker: a value is out of range".into()
        )),
        problem(
            409,
            "conflict",
            "inserting a worker: a value is out of range"
        )
    );
    assert_eq!(
        seen(StoreError::NotFound("token 3".into())),
        problem(404, "not-found", "token 3 does not exist")
    );
    // Internal causes stay in the log.
    for internal in [
        database(),
        StoreError::Corrupt {
            table: "incidents",
            reason: "bad geometry".into(),
        },
        StoreError::Url("postgres://gridwatch:secret@db".into()),
    ] {
        assert_eq!(seen(internal), problem(500, "internal", INTERNAL));
    }
    assert_eq!(
        seen(LocateError::Latitude(91.0)),
        problem(
            400,
            "invalid-coordinate",
            "latitude 91 is not a number in -90..=90"
        )
    );
}
