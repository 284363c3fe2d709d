//! Dispatch (任务派遣) decisions as pure logic: when an assignment is due, and who gets a new incident.
//!
//! - [`calendar`] owns working time: a [`calendar::WorkCalendar`] turns a limit counted in working hours
//!   (限时办结) into a deadline instant, and measures the working time between two instants for KPIs.
//!   [`DispatchConfig::deadline`] picks the clock a category runs on: that calendar, or every hour (24/7).
//! - [`routing`] owns the routing chain (category department → grid primary → grid backup → nearest
//!   on-duty worker → community queue, 属地兜底) and records why each route was chosen.
//! - [`kpi`] owns the rates (综合评价): registered, due, closed, on time, deferred, reworked and the
//!   rates, recomputed from the append-only case history as of the end of a period.
//!
//! Nothing here does IO, awaits, touches the store or knows about HTTP: callers gather plain data from the
//! world, call these functions, and record the result themselves.

pub mod calendar;
pub mod kpi;
pub mod routing;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::category::CategoryClock;
use calendar::WorkCalendar;

/// A deployment's dispatch settings, read from a JSON file given to `serve` or `demo`
/// (`--dispatch-config`); every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DispatchConfig {
    /// The office's working hours, weekends and holidays; time limits count only working time.
    pub calendar: WorkCalendar,
    /// How far, in meters, the nearest-on-duty-worker step of routing may reach.
    pub nearest_radius_m: f64,
    /// A new incident of the same category within this many meters of an open one ...
    pub duplicate_radius_m: f64,
    /// ... and reported within this many hours of it is linked as a possible duplicate.
    pub duplicate_window_h: f64,
    /// A point outside every grid but within this many meters of one is given to that grid (属地兜底);
    /// farther out it is refused as outside the managed area.
    pub outside_grid_max_m: f64,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        Self {
            calendar: WorkCalendar::default(),
            nearest_radius_m: 1000.0,
            duplicate_radius_m: 50.0,
            duplicate_window_h: 24.0,
            outside_grid_max_m: 200.0,
        }
    }
}

/// Why a [`DispatchConfig`] is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("calendar: {0}")]
    Calendar(#[from] calendar::CalendarError),
    #[error("{field} must be a finite number of {unit} >= 0")]
    Negative {
        field: &'static str,
        unit: &'static str,
    },
}

impl DispatchConfig {
    /// When a limit of `limit` started at `start` runs out on `clock`: working time on the office's
    /// calendar (`Office`), or elapsed time day and night (`Always`, so an urgent emergency registered
    /// on a Sunday night is due that night, not on Monday). Intake's deadline and supervision's next
    /// escalation both use it. `None` when the instant is beyond chrono's range or the calendar can never
    /// supply that much working time.
    #[must_use]
    pub fn deadline(
        &self,
        clock: CategoryClock,
        start: DateTime<Utc>,
        limit: TimeDelta,
    ) -> Option<DateTime<Utc>> {
        match clock {
            CategoryClock::Office => self.calendar.checked_add_working_time(start, limit),
            CategoryClock::Always => start.checked_add_signed(limit.max(TimeDelta::zero())),
        }
    }

    /// Checks the calendar and that every distance and window is finite and not negative.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.calendar.validate()?;
        for (field, value, unit) in [
            ("nearest_radius_m", self.nearest_radius_m, "meters"),
            ("duplicate_radius_m", self.duplicate_radius_m, "meters"),
            ("duplicate_window_h", self.duplicate_window_h, "hours"),
            ("outside_grid_max_m", self.outside_grid_max_m, "meters"),
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(ConfigError::Negative { field, unit });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-06 is a Sunday; 21:00 Beijing time is 13:00 UTC.
    fn sunday_night() -> DateTime<Utc> {
        "2026-12-06T13:00:00Z".parse().unwrap()
    }

    #[test]
    fn an_always_clock_counts_every_hour_and_an_office_clock_only_working_ones() {
        let config = DispatchConfig::default();
        let half_hour = TimeDelta::minutes(30);
        assert_eq!(
            config.deadline(CategoryClock::Always, sunday_night(), half_hour),
            Some("2026-12-06T13:30:00Z".parse().unwrap()),
            "21:30 the same Sunday night"
        );
        assert_eq!(
            config.deadline(CategoryClock::Office, sunday_night(), half_hour),
            Some("2026-12-07T01:00:00Z".parse().unwrap()),
            "09:00 on Monday: half an hour after the office opens at 08:30"
        );
        // A holiday stops the office's clock, never the 24/7 one.
        let mut holiday = config.clone();
        holiday
            .calendar
            .holidays
            .insert(chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap());
        assert_eq!(
            holiday.deadline(CategoryClock::Always, sunday_night(), TimeDelta::hours(4)),
            Some("2026-12-06T17:00:00Z".parse().unwrap())
        );
        assert_eq!(
            holiday.deadline(CategoryClock::Office, sunday_night(), half_hour),
            Some("2026-12-08T01:00:00Z".parse().unwrap()),
            "Tuesday 09:00"
        );
        assert_eq!(
            config.deadline(CategoryClock::Always, DateTime::<Utc>::MAX_UTC, half_hour),
            None
        );
    }

    /// The example in the README is the defaults plus one holiday.
    #[test]
    fn the_readme_example_is_the_defaults_with_a_holiday() {
        let text = r#"{"calendar": {"tz_offset_minutes": 480, "day_start": "08:30:00", "day_end": "17:30:00",
            "lunch": ["12:00:00", "13:30:00"], "weekend": ["Sat", "Sun"], "holidays": ["2027-01-01"],
            "extra_workdays": []}, "nearest_radius_m": 1000, "duplicate_radius_m": 50, "duplicate_window_h": 24,
            "outside_grid_max_m": 200}"#;
        let parsed: DispatchConfig = serde_json::from_str(text).unwrap();
        let mut expected = DispatchConfig::default();
        expected
            .calendar
            .holidays
            .insert(chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
        assert_eq!(parsed, expected);
        assert_eq!(parsed.validate(), Ok(()));
        assert_eq!(
            serde_json::from_str::<DispatchConfig>("{}").unwrap(),
            DispatchConfig::default()
        );
    }

    #[test]
    fn negative_or_unknown_settings_are_refused() {
        let negative = DispatchConfig {
            nearest_radius_m: -1.0,
            ..DispatchConfig::default()
        };
        assert_eq!(
            negative.validate(),
            Err(ConfigError::Negative {
                field: "nearest_radius_m",
                unit: "meters"
            })
        );
        let nan = DispatchConfig {
            duplicate_window_h: f64::NAN,
            ..DispatchConfig::default()
        };
        assert!(nan.validate().is_err());
        assert!(serde_json::from_str::<DispatchConfig>(r#"{"radius": 5}"#).is_err());
    }
}
