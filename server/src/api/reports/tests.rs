//! The period rules, content negotiation and CSV quoting; the whole endpoint is tested through the router
//! in `server/tests/reports_kpi.rs`.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use chrono::{DateTime, TimeZone, Utc};

use super::{KpiQuery, Level, inert, line, period_of, wants_csv};

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().unwrap()
}

fn query(period: Option<&str>, from: Option<&str>, to: Option<&str>) -> KpiQuery {
    KpiQuery {
        level: Level::Grid,
        period: period.map(Into::into),
        from: from.map(Into::into),
        to: to.map(Into::into),
    }
}

const BEIJING: i32 = 480;

#[test]
fn a_month_runs_from_local_midnight_on_the_first_to_the_next_first() {
    // 2026-03-01 00:00 at UTC+8 is 2026-02-28 16:00 UTC; 2026-04-01 00:00 is 03-31 16:00 UTC.
    assert_eq!(
        period_of(&query(Some("2026-03"), None, None), BEIJING).unwrap(),
        (utc(2026, 2, 28, 16, 0), utc(2026, 3, 31, 16, 0))
    );
    // December rolls into the next year; a negative offset (UTC−05:30) moves the bounds later.
    assert_eq!(
        period_of(&query(Some("2025-12"), None, None), -330).unwrap(),
        (utc(2025, 12, 1, 5, 30), utc(2026, 1, 1, 5, 30))
    );
}

#[test]
fn from_and_to_take_dates_as_local_midnight_and_instants_as_given() {
    let (from, to) = period_of(
        &query(None, Some("2026-03-10"), Some("2026-03-12T09:30:00+08:00")),
        BEIJING,
    )
    .unwrap();
    assert_eq!(
        (from, to),
        (utc(2026, 3, 9, 16, 0), utc(2026, 3, 12, 1, 30))
    );
    // 366 days is allowed (2028 is a leap year), 367 is not.
    assert!(period_of(&query(None, Some("2028-01-01"), Some("2029-01-01")), 0).is_ok());
    let long = period_of(&query(None, Some("2028-01-01"), Some("2029-01-02")), 0).unwrap_err();
    assert_eq!(long.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[test]
fn malformed_or_ambiguous_periods_are_refused() {
    let cases = [
        query(Some("2026-13"), None, None),
        query(Some("2026-00"), None, None),
        query(Some("2026-3"), None, None),
        query(Some("26-03"), None, None),
        query(Some("2026-03-01"), None, None),
        query(Some("+202-03"), None, None),
        query(Some("2026-03"), Some("2026-03-01"), None),
        query(Some("2026-03"), None, Some("2026-04-01")),
        query(None, Some("2026-03-01"), None),
        query(None, None, Some("2026-03-01")),
        query(None, None, None),
        query(None, Some("2026-03-02"), Some("2026-03-01")),
        query(None, Some("2026-03-01"), Some("2026-03-01")),
        query(None, Some("2026-3-1"), Some("2026-04-01")),
        query(None, Some("yesterday"), Some("2026-04-01")),
        query(None, Some("2026-03-01T00:00:00"), Some("2026-04-01")),
    ];
    for q in cases {
        let result = period_of(&q, BEIJING);
        assert!(
            result
                .as_ref()
                .is_err_and(|e| e.status == StatusCode::UNPROCESSABLE_ENTITY),
            "{:?} {:?} {:?} gave {result:?}",
            q.period,
            q.from,
            q.to
        );
    }
}

#[test]
fn csv_only_when_asked_for() {
    let accept = |value: &str| {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        wants_csv(&headers)
    };
    assert!(!wants_csv(&HeaderMap::new()));
    assert!(accept("text/csv"));
    assert!(accept("application/json;q=0.5, TEXT/CSV; charset=utf-8"));
    assert!(!accept("application/json"));
    assert!(!accept("text/csv;q=0, application/json"));
    assert!(!accept("text/csvx"));
}

#[test]
fn csv_fields_are_quoted_only_when_they_must_be() {
    let mut out = String::new();
    let fields = ["1", "a,b", "say \"hi\"", "two\nlines", "东街社区", ""].map(str::to_owned);
    line(&mut out, fields.into_iter());
    assert_eq!(
        out,
        "1,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",东街社区,\r\n"
    );
}

#[test]
fn names_a_spreadsheet_would_run_are_made_text() {
    for (name, shown) in [
        (
            "=HYPERLINK(\"http://x\",\"a\")",
            "'=HYPERLINK(\"http://x\",\"a\")",
        ),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("东街 1 网格", "东街 1 网格"),
        ("DJ-01", "DJ-01"),
        ("", ""),
    ] {
        assert_eq!(inert(name.to_owned()), shown, "{name:?}");
    }
}
