//! A position fix from a worker's phone or tracker, and the rules a fix must pass.
//!
//! A fix out of range, not finite, or stamped in the future is refused with a reason. A fix that
//! implies an impossible speed since the worker's previous one is kept but flagged, never silently
//! taken as the truth: the map shows the flag, and routing does not move the worker there.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::WorkerId;

/// How far in the future (device clock ahead of the server's) a fix may be stamped.
pub const MAX_CLOCK_AHEAD: TimeDelta = TimeDelta::minutes(5);
/// How old a fix may be: a phone offline for a week uploads its buffer, not older.
pub const MAX_AGE: TimeDelta = TimeDelta::days(7);
/// Faster than this between two fixes (m/s, 252 km/h) is an implausible jump on foot, bicycle or car.
pub const MAX_PLAUSIBLE_SPEED_MPS: f64 = 70.0;
/// A jump is judged only beyond this distance (m): two fixes a second apart can disagree by their
/// accuracy without anyone moving.
pub const JUMP_MIN_DISTANCE_M: f64 = 200.0;

/// Flag of a fix that implies an impossible speed since the previous one.
pub const IMPLAUSIBLE_JUMP: &str = "implausible_jump";

/// One position report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Fix {
    pub worker: WorkerId,
    /// Degrees (EPSG:4326).
    pub lat: f64,
    /// Degrees (EPSG:4326).
    pub lon: f64,
    /// When the device took the fix.
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    /// Horizontal accuracy, meters.
    pub accuracy_m: Option<f64>,
    /// Ground speed, m/s.
    pub speed_mps: Option<f64>,
    /// Degrees clockwise from north, [0, 360).
    pub heading_deg: Option<f64>,
    /// Meters above sea level.
    pub altitude_m: Option<f64>,
    /// Battery, percent.
    pub battery_pct: Option<f64>,
    pub moving: Option<bool>,
    /// `implausible_jump`, when set.
    #[serde(default)]
    pub flags: Vec<String>,
    /// Other keys the device sent, kept as they came.
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

/// Why a fix was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadFix(pub String);

impl Fix {
    /// A bare fix at a place and time.
    #[must_use]
    pub fn at(worker: WorkerId, lat: f64, lon: f64, at: DateTime<Utc>) -> Self {
        Self {
            worker,
            lat,
            lon,
            at,
            accuracy_m: None,
            speed_mps: None,
            heading_deg: None,
            altitude_m: None,
            battery_pct: None,
            moving: None,
            flags: Vec::new(),
            attributes: Map::new(),
        }
    }

    /// Checks the fix as received at `now`.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), BadFix> {
        let bad = |why: String| Err(BadFix(why));
        if !(self.lat.is_finite() && (-90.0..=90.0).contains(&self.lat)) {
            return bad(format!("lat {} is not a latitude in -90..90", self.lat));
        }
        if !(self.lon.is_finite() && (-180.0..=180.0).contains(&self.lon)) {
            return bad(format!("lon {} is not a longitude in -180..180", self.lon));
        }
        if self.at > now + MAX_CLOCK_AHEAD {
            return bad(format!(
                "timestamp {} is in the future (the server's time is {now})",
                self.at.to_rfc3339()
            ));
        }
        if self.at < now - MAX_AGE {
            return bad(format!(
                "timestamp {} is more than 7 days old",
                self.at.to_rfc3339()
            ));
        }
        let ranges: [(&str, Option<f64>, f64, f64); 5] = [
            ("accuracy", self.accuracy_m, 0.0, 100_000.0),
            ("speed", self.speed_mps, 0.0, 1_000.0),
            ("heading", self.heading_deg, 0.0, 360.0),
            ("altitude", self.altitude_m, -1_000.0, 20_000.0),
            ("battery", self.battery_pct, 0.0, 100.0),
        ];
        for (name, value, min, max) in ranges {
            if let Some(v) = value
                && !(v.is_finite() && (min..=max).contains(&v))
            {
                return bad(format!("{name} {v} is out of {min}..{max}"));
            }
        }
        Ok(())
    }

    /// Flags the fix when reaching it from `previous` needs an impossible speed.
    pub fn judge_jump(&mut self, previous: Option<(f64, f64, DateTime<Utc>)>) {
        let Some((lat, lon, at)) = previous else {
            return;
        };
        let distance = crate::geodesy::haversine_m(lat, lon, self.lat, self.lon);
        if distance <= JUMP_MIN_DISTANCE_M {
            return;
        }
        #[allow(clippy::cast_precision_loss)] // milliseconds of a few days fit an f64 exactly
        let seconds = (self.at - at).num_milliseconds().abs() as f64 / 1000.0;
        if (seconds == 0.0 || distance / seconds > MAX_PLAUSIBLE_SPEED_MPS)
            && !self.flags.iter().any(|f| f == IMPLAUSIBLE_JUMP)
        {
            self.flags.push(IMPLAUSIBLE_JUMP.to_owned());
        }
    }

    #[must_use]
    pub fn is_flagged(&self) -> bool {
        !self.flags.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-29T08:00:00Z")
            .expect("a time")
            .to_utc()
    }

    #[test]
    fn out_of_range_not_finite_and_future_fixes_are_refused_with_a_reason() {
        let ok = Fix::at(WorkerId(1), 36.19, 113.11, now());
        assert_eq!(ok.check(now()), Ok(()));
        let cases: Vec<(Fix, &str)> = vec![
            (
                Fix {
                    lat: 91.0,
                    ..ok.clone()
                },
                "lat",
            ),
            (
                Fix {
                    lat: f64::NAN,
                    ..ok.clone()
                },
                "lat",
            ),
            (
                Fix {
                    lon: -180.5,
                    ..ok.clone()
                },
                "lon",
            ),
            (
                Fix {
                    lon: f64::INFINITY,
                    ..ok.clone()
                },
                "lon",
            ),
            (
                Fix {
                    at: now() + TimeDelta::minutes(6),
                    ..ok.clone()
                },
                "future",
            ),
            (
                Fix {
                    at: now() - TimeDelta::days(8),
                    ..ok.clone()
                },
                "old",
            ),
            (
                Fix {
                    accuracy_m: Some(-1.0),
                    ..ok.clone()
                },
                "accuracy",
            ),
            (
                Fix {
                    speed_mps: Some(f64::NAN),
                    ..ok.clone()
                },
                "speed",
            ),
            (
                Fix {
                    heading_deg: Some(361.0),
                    ..ok.clone()
                },
                "heading",
            ),
            (
                Fix {
                    battery_pct: Some(150.0),
                    ..ok.clone()
                },
                "battery",
            ),
        ];
        for (fix, word) in cases {
            let why = fix.check(now()).expect_err(word).0;
            assert!(why.contains(word), "{word}: {why}");
        }
        // A device clock a little ahead is tolerated.
        assert_eq!(
            Fix {
                at: now() + TimeDelta::minutes(4),
                ..ok
            }
            .check(now()),
            Ok(())
        );
    }

    #[test]
    fn a_jump_faster_than_a_car_is_flagged_and_a_walk_is_not() {
        // 0.01° of latitude is 1,111.95 m (mean Earth radius 6,371,008.8 m).
        let start = (36.0, 113.0, now());
        let mut walk = Fix::at(WorkerId(1), 36.01, 113.0, now() + TimeDelta::minutes(15));
        walk.judge_jump(Some(start));
        assert!(!walk.is_flagged(), "1.1 km in 15 min");
        let mut car = Fix::at(WorkerId(1), 36.01, 113.0, now() + TimeDelta::seconds(16));
        car.judge_jump(Some(start));
        assert!(!car.is_flagged(), "1.1 km in 16 s is 69.5 m/s");
        let mut jump = Fix::at(WorkerId(1), 36.01, 113.0, now() + TimeDelta::seconds(15));
        jump.judge_jump(Some(start));
        assert_eq!(jump.flags, [IMPLAUSIBLE_JUMP], "1.1 km in 15 s is 74 m/s");
        let mut jitter = Fix::at(WorkerId(1), 36.0015, 113.0, now());
        jitter.judge_jump(Some(start));
        assert!(
            !jitter.is_flagged(),
            "167 m at the same instant is within GPS noise"
        );
        let mut first = Fix::at(WorkerId(1), 0.0, 0.0, now());
        first.judge_jump(None);
        assert!(!first.is_flagged());
    }
}
