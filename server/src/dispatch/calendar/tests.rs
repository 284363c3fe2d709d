//! Calendar tests: hand-computed deadlines on the default calendar (08:30–12:00, 13:30–17:30, UTC+8,
//! Sat/Sun off), and seeded property checks against a minute-by-minute reference.

use super::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A local (UTC+8) wall-clock time as a UTC instant.
fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, min, 0)
        .unwrap()
        .and_utc()
        - TimeDelta::hours(8)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn hours(h: i64) -> TimeDelta {
    TimeDelta::hours(h)
}

/// 2026-11-20 is a Friday; the tests below lean on that.
#[test]
fn test_dates_fall_on_the_expected_weekdays() {
    assert_eq!(date(2026, 11, 20).weekday(), Weekday::Fri);
    assert_eq!(date(2026, 11, 21).weekday(), Weekday::Sat);
    assert_eq!(date(2026, 11, 23).weekday(), Weekday::Mon);
    assert_eq!(date(2027, 1, 1).weekday(), Weekday::Fri);
}

#[test]
fn default_is_a_street_office_and_valid() {
    let cal = WorkCalendar::default();
    assert_eq!(cal.validate(), Ok(()));
    assert_eq!(cal.tz_offset_minutes, 480);
    // 08:30–12:00 is 3 h 30, 13:30–17:30 is 4 h.
    assert_eq!(cal.daily_working_time(), TimeDelta::minutes(7 * 60 + 30));
}

#[test]
fn four_hours_from_friday_afternoon_end_monday_morning() {
    // Friday 16:00–17:30 gives 1 h 30; Sat and Sun rest; Monday 08:30 + the other 2 h 30 = 11:00,
    // before lunch so the break does not apply.
    let cal = WorkCalendar::default();
    assert_eq!(
        cal.add_working_time(local(2026, 11, 20, 16, 0), hours(4)),
        local(2026, 11, 23, 11, 0)
    );
}

#[test]
fn lunch_break_is_not_working_time() {
    // Monday 11:00–12:00 gives 1 h; lunch 12:00–13:30; 13:30 + 1 h = 14:30.
    let cal = WorkCalendar::default();
    assert_eq!(
        cal.add_working_time(local(2026, 11, 23, 11, 0), hours(2)),
        local(2026, 11, 23, 14, 30)
    );
    // Starting during lunch begins at 13:30.
    assert_eq!(
        cal.add_working_time(local(2026, 11, 23, 12, 15), hours(1)),
        local(2026, 11, 23, 14, 30)
    );
    // A limit that runs out exactly as lunch starts ends at 12:00, not 13:30.
    let morning = TimeDelta::minutes(3 * 60 + 30);
    assert_eq!(
        cal.add_working_time(local(2026, 11, 23, 8, 30), morning),
        local(2026, 11, 23, 12, 0)
    );
}

#[test]
fn a_whole_day_ends_at_day_end_not_next_morning() {
    let cal = WorkCalendar::default();
    let day = TimeDelta::minutes(7 * 60 + 30);
    assert_eq!(
        cal.add_working_time(local(2026, 11, 23, 8, 30), day),
        local(2026, 11, 23, 17, 30)
    );
}

#[test]
fn holiday_is_skipped() {
    // Monday 2026-11-23 made a holiday: Friday 1 h 30, then Tuesday 08:30 + 2 h 30 = 11:00.
    let mut cal = WorkCalendar::default();
    cal.holidays.insert(date(2026, 11, 23));
    assert_eq!(
        cal.add_working_time(local(2026, 11, 20, 16, 0), hours(4)),
        local(2026, 11, 24, 11, 0)
    );
    assert!(!cal.is_working(local(2026, 11, 23, 10, 0)));
}

#[test]
fn extra_workday_on_saturday_counts() {
    // Saturday 2026-11-21 is a 调休 workday: Friday 1 h 30, then Saturday 08:30 + 2 h 30 = 11:00.
    let mut cal = WorkCalendar::default();
    cal.extra_workdays.insert(date(2026, 11, 21));
    assert_eq!(
        cal.add_working_time(local(2026, 11, 20, 16, 0), hours(4)),
        local(2026, 11, 21, 11, 0)
    );
    assert!(cal.is_working(local(2026, 11, 21, 9, 0)));
}

#[test]
fn start_at_night_begins_next_morning() {
    let cal = WorkCalendar::default();
    // Monday 22:00 → Tuesday 08:30 + 1 h = 09:30; Tuesday 03:00 gives the same.
    assert_eq!(
        cal.add_working_time(local(2026, 11, 23, 22, 0), hours(1)),
        local(2026, 11, 24, 9, 30)
    );
    assert_eq!(
        cal.add_working_time(local(2026, 11, 24, 3, 0), hours(1)),
        local(2026, 11, 24, 9, 30)
    );
}

#[test]
fn start_exactly_at_day_end_begins_next_working_day() {
    // Friday 17:30 is no longer working time: Monday 08:30 + 1 h = 09:30.
    let cal = WorkCalendar::default();
    assert!(!cal.is_working(local(2026, 11, 20, 17, 30)));
    assert!(cal.is_working(local(2026, 11, 20, 17, 29)));
    assert_eq!(
        cal.add_working_time(local(2026, 11, 20, 17, 30), hours(1)),
        local(2026, 11, 23, 9, 30)
    );
}

#[test]
fn zero_or_negative_duration_returns_start() {
    let cal = WorkCalendar::default();
    let night = local(2026, 11, 21, 23, 0);
    assert_eq!(cal.add_working_time(night, TimeDelta::zero()), night);
    assert_eq!(cal.add_working_time(night, hours(-3)), night);
}

#[test]
fn ten_weeks_with_a_holiday_skip_arithmetically() {
    // 375 h = 50 working days of 7 h 30 = 10 weeks from Monday 2026-11-23 08:30, which would end on
    // Friday 2027-01-29 17:30; New Year's Day (Friday 2027-01-01) pushes it one working day, to Monday
    // 2027-02-01 17:30.
    let mut cal = WorkCalendar::default();
    let start = local(2026, 11, 23, 8, 30);
    assert_eq!(
        cal.add_working_time(start, hours(375)),
        local(2027, 1, 29, 17, 30)
    );
    cal.holidays.insert(date(2027, 1, 1));
    assert_eq!(
        cal.add_working_time(start, hours(375)),
        local(2027, 2, 1, 17, 30)
    );
    assert_eq!(
        cal.working_time_between(start, local(2027, 2, 1, 17, 30)),
        hours(375)
    );
}

#[test]
fn working_time_between_counts_only_working_time() {
    let cal = WorkCalendar::default();
    // Friday 16:00 → Monday 11:00: 1 h 30 + 2 h 30.
    assert_eq!(
        cal.working_time_between(local(2026, 11, 20, 16, 0), local(2026, 11, 23, 11, 0)),
        hours(4)
    );
    // Same day across lunch: 11:00–12:00 and 13:30–14:00.
    assert_eq!(
        cal.working_time_between(local(2026, 11, 23, 11, 0), local(2026, 11, 23, 14, 0)),
        TimeDelta::minutes(90)
    );
    // Reversed or empty spans are zero.
    assert_eq!(
        cal.working_time_between(local(2026, 11, 23, 14, 0), local(2026, 11, 23, 11, 0)),
        TimeDelta::zero()
    );
    assert_eq!(
        cal.working_time_between(local(2026, 11, 21, 9, 0), local(2026, 11, 22, 16, 0)),
        TimeDelta::zero()
    );
}

#[test]
fn utc_offset_is_applied() {
    let cal = WorkCalendar {
        tz_offset_minutes: -300,
        ..WorkCalendar::default()
    };
    let utc = |h| {
        NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
            .and_utc()
    };
    assert!(!cal.is_working(utc(13))); // 08:00 local
    assert!(cal.is_working(utc(14))); // 09:00 local
}

#[test]
fn calendar_without_working_time_saturates_and_terminates() {
    let mut cal = WorkCalendar {
        weekend: ALL_WEEKDAYS.to_vec(),
        ..WorkCalendar::default()
    };
    assert_eq!(cal.validate(), Err(CalendarError::NoWorkingWeekday));
    let start = local(2026, 11, 20, 9, 0);
    assert_eq!(cal.checked_add_working_time(start, hours(1)), None);
    assert_eq!(
        cal.add_working_time(start, hours(1)),
        DateTime::<Utc>::MAX_UTC
    );
    // One extra workday supplies exactly one day and no more.
    cal.extra_workdays.insert(date(2026, 12, 5));
    assert_eq!(
        cal.add_working_time(start, hours(1)),
        local(2026, 12, 5, 9, 30)
    );
    assert_eq!(cal.checked_add_working_time(start, hours(8)), None);
    // Empty working day.
    let empty = WorkCalendar {
        lunch: None,
        day_end: NaiveTime::from_hms_opt(8, 30, 0).unwrap(),
        ..WorkCalendar::default()
    };
    assert_eq!(empty.checked_add_working_time(start, hours(1)), None);
}

#[test]
fn validate_rejects_each_bad_field() {
    let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
    let ok = WorkCalendar::default();
    let cases = [
        (
            WorkCalendar {
                day_end: t(8, 0),
                ..ok.clone()
            },
            "day bounds",
        ),
        (
            WorkCalendar {
                lunch: Some((t(7, 0), t(9, 0))),
                ..ok.clone()
            },
            "lunch before day",
        ),
        (
            WorkCalendar {
                lunch: Some((t(13, 0), t(12, 0))),
                ..ok.clone()
            },
            "lunch inverted",
        ),
        (
            WorkCalendar {
                tz_offset_minutes: 14 * 60 + 1,
                ..ok.clone()
            },
            "offset",
        ),
    ];
    for (cal, what) in cases {
        assert!(cal.validate().is_err(), "{what}");
    }
    assert_eq!(
        WorkCalendar {
            tz_offset_minutes: -900,
            ..ok.clone()
        }
        .validate(),
        Err(CalendarError::OffsetOutOfRange { minutes: -900 })
    );
    let mut both = ok;
    both.holidays.insert(date(2026, 10, 1));
    both.extra_workdays.insert(date(2026, 10, 1));
    assert_eq!(
        both.validate(),
        Err(CalendarError::HolidayAndWorkday {
            date: date(2026, 10, 1)
        })
    );
}

#[test]
fn serde_round_trip_and_partial_config() {
    let mut cal = WorkCalendar::default();
    cal.holidays.insert(date(2026, 10, 1));
    cal.extra_workdays.insert(date(2026, 9, 27));
    let json = serde_json::to_string(&cal).unwrap();
    assert_eq!(serde_json::from_str::<WorkCalendar>(&json).unwrap(), cal);
    // A deployment can override one field and keep the rest.
    let partial: WorkCalendar =
        serde_json::from_str(r#"{"day_end":"18:00:00","lunch":null}"#).unwrap();
    assert_eq!(partial.day_end, NaiveTime::from_hms_opt(18, 0, 0).unwrap());
    assert_eq!(partial.lunch, None);
    assert_eq!(partial.weekend, vec![Weekday::Sat, Weekday::Sun]);
    assert!(serde_json::from_str::<WorkCalendar>(r#"{"day_ends":"18:00:00"}"#).is_err());
}

/// A calendar with the awkward cases in range: holidays on weekdays and weekends, 调休 Saturdays.
fn busy_calendar() -> WorkCalendar {
    let mut cal = WorkCalendar::default();
    for (m, d) in [
        (1, 1),
        (2, 16),
        (2, 17),
        (2, 18),
        (4, 6),
        (5, 1),
        (5, 4),
        (10, 1),
        (10, 2),
        (10, 5),
        (10, 6),
    ] {
        cal.holidays.insert(date(2026, m, d));
        cal.holidays.insert(date(2027, m, d));
    }
    for (m, d) in [(2, 14), (2, 28), (5, 9), (9, 26), (10, 10)] {
        cal.extra_workdays.insert(date(2026, m, d));
        cal.extra_workdays.insert(date(2027, m, d));
    }
    cal.validate().unwrap();
    cal
}

/// Reference: steps minute by minute using only `is_working`. `start` must be on a whole minute.
fn add_minutes_by_stepping(
    cal: &WorkCalendar,
    start: DateTime<Utc>,
    minutes: i64,
) -> DateTime<Utc> {
    let mut at = start;
    let mut left = minutes;
    while left > 0 {
        if cal.is_working(at) {
            left -= 1;
        }
        at += TimeDelta::minutes(1);
    }
    at
}

#[test]
fn matches_minute_stepping_reference() {
    let cal = busy_calendar();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let base = local(2026, 1, 1, 0, 0);
    for _ in 0..150 {
        let start = base + TimeDelta::minutes(rng.random_range(0..365 * 24 * 60));
        let minutes = rng.random_range(1..=40 * 60);
        let reference = add_minutes_by_stepping(&cal, start, minutes);
        // The stepping loop ends one minute after the last working minute began: that is its end.
        assert_eq!(
            cal.add_working_time(start, TimeDelta::minutes(minutes)),
            reference,
            "{start} + {minutes} min"
        );
    }
}

#[test]
fn long_limit_matches_reference() {
    let cal = busy_calendar();
    let start = local(2026, 1, 30, 15, 17);
    assert_eq!(
        cal.add_working_time(start, hours(2000)),
        add_minutes_by_stepping(&cal, start, 2000 * 60)
    );
}

#[test]
fn between_inverts_add_and_add_is_monotonic() {
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let base = local(2026, 1, 1, 0, 0);
    for cal in [WorkCalendar::default(), busy_calendar()] {
        for _ in 0..2000 {
            let start = base + TimeDelta::seconds(rng.random_range(0..2 * 365 * 24 * 3600));
            let d1 = TimeDelta::seconds(rng.random_range(0..=2000 * 3600));
            let d2 = TimeDelta::seconds(rng.random_range(0..=2000 * 3600));
            let (end1, end2) = (
                cal.add_working_time(start, d1),
                cal.add_working_time(start, d2),
            );
            assert_eq!(cal.working_time_between(start, end1), d1, "{start} + {d1}");
            assert_eq!(cal.working_time_between(start, end2), d2, "{start} + {d2}");
            // Strictly monotonic: more working time always ends strictly later, since ends are earliest.
            assert_eq!(
                d1.cmp(&d2),
                end1.cmp(&end2),
                "monotonic at {start}: {d1} vs {d2}"
            );
            if d1 > TimeDelta::zero() {
                // The deadline is the earliest such instant: a second earlier is not enough.
                let before = end1 - TimeDelta::seconds(1);
                assert!(cal.working_time_between(start, before) < d1);
            }
        }
    }
}
