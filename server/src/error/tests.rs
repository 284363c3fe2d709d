//! Every domain error variant → what a client sees, written out by hand: the status, the `type`, the
//! `detail` and the extension members. A change to any mapping fails here before an e2e test finds it.
//! Here the shared pieces; the services' enums in `tests/`, one file per mapping file.

mod admin;
mod alarms;
mod cases;
mod field;
mod identity;
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
        source: sqlx::Error::Protocol("an unexpected message".into()),
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
        StoreError::Shared("database error while committing new incidents: …".into()),
    ] {
        assert_eq!(seen(internal), problem(500, "internal", INTERNAL));
    }
    // A database that cannot be reached: 503, try again; the driver's words stay in the log.
    let unreachable = [
        (
            StoreError::Database {
                context: "starting a write",
                source: sqlx::Error::PoolTimedOut,
            },
            "the database could not be reached; send it again shortly",
        ),
        (
            StoreError::Database {
                context: "committing",
                source: sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into()),
            },
            "the database could not be reached; send it again shortly",
        ),
        (
            StoreError::Unavailable("no connection within 5000 ms while starting a write".into()),
            "the database is not answering (no connection within 5000 ms while starting a write); \
             nothing was written, send it again shortly",
        ),
    ];
    let unknown = ApiError::from(StoreError::OutcomeUnknown("committing: eof".into()));
    assert_eq!(unknown.retry_after_s, Some(2));
    assert_eq!(
        seen(unknown),
        problem(
            503,
            "outcome-unknown",
            "the database was asked to commit this write and could not say whether it did; \
             look for it before sending it again"
        )
    );
    for (error, detail) in unreachable {
        let api = ApiError::from(error);
        assert_eq!(api.retry_after_s, Some(2), "{detail}");
        assert_eq!(seen(api), problem(503, "store-unavailable", detail));
    }
    // A full disk is the one store failure a client may act on: send again later.
    let full = StoreError::Full {
        context: "committing incidents",
        source: sqlx::Error::PoolTimedOut,
    };
    assert_eq!(
        seen(full),
        problem(
            507,
            "insufficient-storage",
            "the server's storage is full; nothing was stored, send it again later"
        )
    );
    assert_eq!(
        seen(LocateError::Latitude(91.0)),
        with(
            problem(
                400,
                "invalid-coordinate",
                "latitude 91 is not a number in -90..=90"
            ),
            &json!({"code": "invalid_latitude", "field": "lat", "value": 91.0})
        )
    );
    // A NaN is no JSON number: its value goes as text.
    assert_eq!(
        seen(LocateError::Longitude(f64::NAN))["value"],
        json!("NaN")
    );
}

#[test]
fn a_spent_budget_and_a_slow_request() {
    use std::time::Duration;
    let refused = crate::throttle::Refused {
        retry_after: Duration::from_millis(1500),
    };
    assert_eq!(
        seen(refused),
        with(
            problem(429, "rate-limited", "too many requests; try again in 2 s"),
            &json!({"retry_after_s": 2})
        )
    );
    let response = axum::response::IntoResponse::into_response(ApiError::from(refused));
    assert_eq!(response.headers()["retry-after"], "2");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(
        seen(crate::api::limits::TimedOut {
            after: Duration::from_secs(30)
        }),
        problem(
            408,
            "request-timeout",
            "the request took longer than 30000 ms"
        )
    );
}
