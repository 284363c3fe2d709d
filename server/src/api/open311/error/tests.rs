//! The intake's and the store's errors as Open311 sees them, written out by hand: every value refused
//! is a 400 (Open311 has no 422), a stopping server a 503, an internal failure a 500 that names
//! nothing internal.

use super::Open311Error;
use crate::cases::IntakeError;
use crate::domain::incident::WorkflowError;
use crate::store::StoreError;
use crate::world::LocateError;

fn seen(error: impl Into<Open311Error>) -> (u16, String) {
    let e: Open311Error = error.into();
    (e.status.as_u16(), e.description)
}

fn expect(status: u16, description: &str) -> (u16, String) {
    (status, description.to_owned())
}

const INTERNAL: &str = "internal error; see the server log";

#[test]
fn refused_reports_are_400_with_the_reason() {
    for (error, description) in [
        (
            IntakeError::DescriptionTooLong { chars: 4001 },
            "description is 4001 characters; at most 4000 allowed",
        ),
        (
            IntakeError::UnknownCategory("potholes".into()),
            "unknown category \"potholes\"; see /api/categories",
        ),
        (
            IntakeError::RetiredCategory("kiosks".into()),
            "category \"kiosks\" is no longer in use",
        ),
        (
            IntakeError::Coordinate(LocateError::Latitude(91.0)),
            "latitude 91 is not a number in -90..=90",
        ),
        (
            IntakeError::NoCity,
            "no city has been imported, so no grid can take the incident",
        ),
        (
            IntakeError::OutsideManagedArea {
                lat: 0.0,
                lon: 113.0,
                distance_m: 4_000_123.0,
                max_m: 200.0,
            },
            "the point lies 4000123 m outside every grid; at most 200 m is accepted",
        ),
        (
            IntakeError::DeadlineOutOfRange,
            "the deadline falls outside the representable time range",
        ),
    ] {
        assert_eq!(seen(error), expect(400, description));
    }
}

#[test]
fn a_stopping_server_and_internal_failures() {
    assert_eq!(
        seen(IntakeError::ShuttingDown),
        expect(
            503,
            "the server is shutting down; the report was not registered, send it again"
        )
    );
    for internal in [
        IntakeError::AutoDispatch(WorkflowError::AlreadyAtTop),
        IntakeError::Unanswered,
        IntakeError::Store(StoreError::Corrupt {
            table: "incidents",
            reason: "bad geometry".into(),
        }),
    ] {
        assert_eq!(seen(internal), expect(500, INTERNAL));
    }
    assert_eq!(
        seen(StoreError::Database {
            context: "reading a token",
            source: sqlx::Error::Protocol("an unexpected message".into()),
        }),
        expect(500, INTERNAL)
    );
    // A database that cannot be reached: 503 with Retry-After; the driver's words stay in the log.
    let unreachable = Open311Error::from(StoreError::Database {
        context: "reading a token",
        source: sqlx::Error::PoolTimedOut,
    });
    assert_eq!(unreachable.retry_after_s, Some(2));
    assert_eq!(
        seen(unreachable),
        expect(
            503,
            "the database could not be reached; send it again shortly"
        )
    );
    assert_eq!(
        seen(IntakeError::Store(StoreError::Conflict(
            "too many cases in one group".into()
        ))),
        expect(409, "too many cases in one group")
    );
    assert_eq!(
        seen(StoreError::NotFound("token 3".into())),
        expect(404, "token 3 does not exist")
    );
    assert_eq!(
        seen(IntakeError::Store(StoreError::Full {
            context: "committing incidents",
            source: sqlx::Error::PoolTimedOut,
        })),
        expect(
            507,
            "the server's storage is full; nothing was stored, send it again later"
        )
    );
}

#[test]
fn a_spent_budget_is_429_with_retry_after() {
    let refused = crate::throttle::Refused {
        retry_after: std::time::Duration::from_millis(300),
    };
    assert_eq!(
        seen(refused),
        expect(429, "too many requests; try again in 1 s")
    );
    let response = axum::response::IntoResponse::into_response(Open311Error::from(refused));
    assert_eq!(response.headers()["retry-after"], "1");
}
