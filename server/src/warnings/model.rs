//! The detector's plain values: its settings, the reports it reads and the warnings it raises.

use chrono::{DateTime, Utc};
use h3o::{CellIndex, Resolution};
use serde::{Deserialize, Serialize};

use super::baseline::Method;

/// Detector settings. The defaults are the ones the simulation (`examples/warnings_sim.rs`) chose;
/// see `BENCHMARKS.md` for what each alternative cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// H3 resolution of the cells tested (9: about 0.1 km², edge about 174 m).
    pub resolution: Resolution,
    /// The sliding window of the rate and cluster tests, seconds.
    pub window_s: i64,
    /// Benjamini–Hochberg level of the per-cell (`rate`) family and of the zone (`cluster`) family,
    /// each applied at every evaluation across all cells and groups.
    pub q: f64,
    /// A rate or cluster warning needs at least this many cases, whatever the p-value: three cases
    /// in a quiet cell are improbable but not yet a pattern anyone can act on.
    pub min_observed: u64,
    /// Zones of the cluster scan: a cell with its neighbours up to this ring (0 turns the scan off).
    pub scan_radius: u32,
    /// A raised rate or cluster warning stays until its zone's count in the window is no longer
    /// improbable at this uncorrected level (hysteresis, so a warning does not flap).
    pub clear_p: f64,
    /// How the expected rate is learned.
    pub baseline: Method,
    /// How far back `relearn` looks, days.
    pub history_days: i64,
    /// Shrinkage: pseudo-cases given to every known cell before its own history counts, so a cell
    /// with little or no history gets a small but sane share of its group's rate.
    pub prior_cases_per_cell: f64,
    /// A group with no history still expects this many cases a day across the whole area.
    pub floor_cases_per_day: f64,
    /// Local time offset for the day-of-week and hour-of-day seasonality, seconds east of UTC
    /// (China: +8 h).
    pub utc_offset_s: i32,
    /// Repeat reports: this many reports of one building or one spot...
    pub repeat_count: usize,
    /// ...within this window, seconds...
    pub repeat_window_s: i64,
    /// ...where a spot is every report within this distance of one of them, meters (reports without
    /// a building only; those with one are matched by building).
    pub repeat_radius_m: f64,
    /// Test all groups together ("all") instead of each category group on its own.
    pub pool_groups: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            resolution: Resolution::Nine,
            window_s: 2 * 3600,
            q: 0.001,
            min_observed: 3,
            scan_radius: 1,
            clear_p: 0.05,
            baseline: Method::DayHour,
            history_days: 56,
            prior_cases_per_cell: 1.0,
            floor_cases_per_day: 1.0,
            utc_offset_s: 8 * 3600,
            repeat_count: 3,
            repeat_window_s: 24 * 3600,
            repeat_radius_m: 50.0,
            pool_groups: false,
        }
    }
}

impl Config {
    /// The longest window any test looks back over, seconds: live reports older than this are dropped.
    #[must_use]
    pub fn horizon_s(&self) -> i64 {
        self.window_s.max(self.repeat_window_s)
    }

    /// The group a report is tested in.
    #[must_use]
    pub fn group_of<'a>(&self, report: &'a Report) -> &'a str {
        if self.pool_groups {
            "all"
        } else {
            &report.group
        }
    }
}

/// One case as the detector sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The case id.
    pub id: i64,
    /// When it was reported.
    pub at: DateTime<Utc>,
    /// Degrees (EPSG:4326).
    pub lat: f64,
    /// Degrees (EPSG:4326).
    pub lon: f64,
    /// Its H3 cell at any resolution at or finer than the config's; the detector takes the parent.
    pub cell: CellIndex,
    /// Its grid's id.
    pub grid: i64,
    /// Its category group: the category's class (`city_management`, `social_governance`).
    pub group: String,
    /// The building it concerns, when it has one.
    pub building: Option<i64>,
}

/// What a warning says is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// One cell above its expected rate.
    Rate,
    /// Neighbouring cells together above their expected rate.
    Cluster,
    /// One building or spot reported again and again (重复投诉).
    Repeat,
}

impl Kind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rate => "rate",
            Self::Cluster => "cluster",
            Self::Repeat => "repeat",
        }
    }
}

/// A warning and its evidence, as it was when raised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    /// Stable: `kind:group:anchor:first-case`, the same whenever and however often it is evaluated.
    pub key: String,
    pub kind: Kind,
    /// The category group tested (or "all" when groups are pooled).
    pub group: String,
    /// The zone's H3 cells (index strings), sorted; for `repeat`, the cells of its reports.
    pub cells: Vec<String>,
    /// The grids of its cases, sorted.
    pub grids: Vec<i64>,
    /// `repeat` on one building: that building.
    pub building: Option<i64>,
    /// Cases in the window.
    pub observed: u64,
    /// Cases expected in the window (for `repeat`: the expectation of the cells holding its reports,
    /// an upper bound for one building or spot).
    pub expected: f64,
    /// `P(X ≥ observed)` under the expected rate, uncorrected; the correction decided the alarm.
    pub p_value: f64,
    /// The case ids in the window, sorted.
    pub cases: Vec<i64>,
    /// The window the evidence was counted in: `(window_start, window_end]`.
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// The evaluation time that raised it (the `now` given to `evaluate`).
    pub raised_at: DateTime<Utc>,
}

/// A change in the set of active warnings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Transition {
    Raised(Warning),
    Cleared { key: String, at: DateTime<Utc> },
}
