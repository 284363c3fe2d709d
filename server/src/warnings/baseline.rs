//! The expected rate: how many cases a cell should see in a window, learned from history.
//!
//! Each group gets an area-wide hourly rate with weekly seasonality; each cell gets a share of it.
//! With [`Method::DayHour`] the rate of hour `h` on weekday `d` is the main-effects Poisson model
//! `rate(d, h) = (n_d / E_d) · (n_h / E_h) / (N / E)` (counts `n` over exposure hours `E`), which
//! needs far fewer cases than the 168 separate weekly slots would: four weeks of history give each
//! hour of day 28 days of data instead of 4. A cell's share is shrunk towards the uniform share,
//! `(n_c + a) / (N + a·M)` with `a` pseudo-cases per cell and `M` known cells, so a new or quiet
//! cell still expects a little (never zero) and a busy cell keeps its own level.
#![expect(
    clippy::cast_precision_loss,
    reason = "seconds within a window and cell counts are far below 2^52, where the casts are exact"
)]

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use h3o::{CellIndex, Resolution};
use rustc_hash::FxHashMap;

use super::model::{Config, Report};

/// Hours in a week: the seasonal slots, Monday 00:00 local first.
const SLOTS: usize = 7 * 24;

/// How the seasonal rate is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// One rate for every hour (no seasonality).
    Flat,
    /// A rate per hour of day.
    HourOfDay,
    /// Day of week × hour of day, as main effects.
    DayHour,
}

/// The learned expectation. Cheap to query: a window's expectation is a sum over the hours it
/// touches times a share.
#[derive(Debug, Clone)]
pub struct Baseline {
    resolution: Resolution,
    offset_s: i64,
    /// Expected cases per hour in each weekly slot, area-wide, per group.
    profiles: BTreeMap<String, Vec<f64>>,
    /// The profile of a group never seen: the floor spread evenly.
    floor_profile: Vec<f64>,
    /// A cell's share of its group's rate.
    shares: FxHashMap<(String, CellIndex), f64>,
    /// The share of a cell with no history in a group (or of any cell in an unknown group).
    unseen: BTreeMap<String, f64>,
    /// Every cell that had a case, sorted.
    cells: Vec<CellIndex>,
}

/// Local seconds to (weekly slot, seconds to the next hour).
fn slot(local_s: i64) -> (usize, i64) {
    let days = local_s.div_euclid(86_400);
    // 1970-01-01 was a Thursday: Monday-based weekday 3.
    let weekday = (days + 3).rem_euclid(7);
    let hour = local_s.rem_euclid(86_400) / 3600;
    let left = 3600 - local_s.rem_euclid(3600);
    (usize::try_from(weekday * 24 + hour).unwrap_or(0), left)
}

impl Baseline {
    /// Learns from the `reports` in `[from, to)`.
    #[must_use]
    pub fn learn<'a>(
        config: &Config,
        reports: impl IntoIterator<Item = &'a Report>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Self {
        let offset_s = i64::from(config.utc_offset_s);
        let res = config.resolution;
        // Exposure: hours of each slot inside [from, to).
        let mut exposure = vec![0.0_f64; SLOTS];
        let (mut t, end) = (from.timestamp() + offset_s, to.timestamp() + offset_s);
        while t < end {
            let (s, left) = slot(t);
            let step = left.min(end - t);
            exposure[s] += step as f64 / 3600.0;
            t += step;
        }
        let mut counts: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut per_cell: BTreeMap<(String, CellIndex), f64> = BTreeMap::new();
        let mut cells: Vec<CellIndex> = Vec::new();
        for report in reports {
            if report.at < from || report.at >= to {
                continue;
            }
            let Some(cell) = report.cell.parent(res) else {
                continue;
            };
            let group = config.group_of(report).to_owned();
            let (s, _) = slot(report.at.timestamp() + offset_s);
            counts
                .entry(group.clone())
                .or_insert_with(|| vec![0.0; SLOTS])[s] += 1.0;
            *per_cell.entry((group, cell)).or_default() += 1.0;
            cells.push(cell);
        }
        cells.sort_unstable();
        cells.dedup();
        let known = cells.len().max(1) as f64;
        let total_hours: f64 = exposure.iter().sum();
        let floor_per_hour = config.floor_cases_per_day / 24.0;
        let profiles: BTreeMap<String, Vec<f64>> = counts
            .iter()
            .map(|(group, n)| {
                let mut profile = seasonal(config.baseline, n, &exposure);
                let per_hour = if total_hours > 0.0 {
                    n.iter().sum::<f64>() / total_hours
                } else {
                    0.0
                };
                if per_hour < floor_per_hour {
                    if per_hour > 0.0 {
                        let scale = floor_per_hour / per_hour;
                        for rate in &mut profile {
                            *rate *= scale;
                        }
                    } else {
                        profile = vec![floor_per_hour; SLOTS];
                    }
                }
                (group.clone(), profile)
            })
            .collect();
        let a = config.prior_cases_per_cell;
        let totals: BTreeMap<&String, f64> =
            counts.iter().map(|(g, n)| (g, n.iter().sum())).collect();
        let shares = per_cell
            .iter()
            .map(|((group, cell), &n)| {
                let total = totals.get(group).copied().unwrap_or(0.0);
                ((group.clone(), *cell), (n + a) / (total + a * known))
            })
            .collect();
        let unseen = totals
            .iter()
            .map(|(&g, &total)| (g.clone(), a / (total + a * known)))
            .collect();
        Self {
            resolution: res,
            offset_s,
            profiles,
            floor_profile: vec![floor_per_hour; SLOTS],
            shares,
            unseen,
            cells,
        }
    }

    /// The resolution of the cells it knows.
    #[must_use]
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }

    /// Every cell with history, sorted.
    #[must_use]
    pub fn cells(&self) -> &[CellIndex] {
        &self.cells
    }

    /// The groups with history, sorted.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        self.profiles.keys().map(String::as_str)
    }

    /// Cases expected in `[from, to)` across the whole area, in `group`.
    #[must_use]
    pub fn area_expected(&self, group: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
        let profile = self.profiles.get(group).unwrap_or(&self.floor_profile);
        let (mut t, end) = (
            from.timestamp() + self.offset_s,
            to.timestamp() + self.offset_s,
        );
        let mut sum = 0.0;
        while t < end {
            let (s, left) = slot(t);
            let step = left.min(end - t);
            sum += profile[s] * step as f64 / 3600.0;
            t += step;
        }
        sum
    }

    /// `cell`'s share of `group`'s area-wide rate (`cell` at the baseline's resolution).
    #[must_use]
    pub fn share(&self, group: &str, cell: CellIndex) -> f64 {
        if let Some(&share) = self.shares.get(&(group.to_owned(), cell)) {
            return share;
        }
        self.unseen
            .get(group)
            .copied()
            .unwrap_or(1.0 / (self.cells.len() + 1) as f64)
    }

    /// Cases expected in `cell` (at the baseline's resolution) in `[from, to)`, in `group`.
    #[must_use]
    pub fn expected(
        &self,
        group: &str,
        cell: CellIndex,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> f64 {
        self.share(group, cell) * self.area_expected(group, from, to)
    }
}

/// Expected cases per hour in each weekly slot from counts `n` and exposure hours `e` per slot.
/// Each margin gets one pseudo-hour at the mean rate, so an hour never seen in a short history is
/// not a rate of zero.
fn seasonal(method: Method, n: &[f64], e: &[f64]) -> Vec<f64> {
    let total_n: f64 = n.iter().sum();
    let total_e: f64 = e.iter().sum::<f64>().max(1e-9);
    let mean = total_n / total_e;
    let margin = |pick: &dyn Fn(usize) -> bool| {
        let (mut cn, mut ce) = (0.0, 0.0);
        for s in (0..SLOTS).filter(|&s| pick(s)) {
            cn += n[s];
            ce += e[s];
        }
        (cn + mean) / (ce + 1.0)
    };
    match method {
        Method::Flat => vec![mean; SLOTS],
        Method::HourOfDay => {
            let hours: Vec<f64> = (0..24).map(|h| margin(&|s| s % 24 == h)).collect();
            (0..SLOTS).map(|s| hours[s % 24]).collect()
        }
        Method::DayHour => {
            let hours: Vec<f64> = (0..24).map(|h| margin(&|s| s % 24 == h)).collect();
            let days: Vec<f64> = (0..7).map(|d| margin(&|s| s / 24 == d)).collect();
            if mean <= 0.0 {
                return vec![0.0; SLOTS];
            }
            (0..SLOTS)
                .map(|s| days[s / 24] * hours[s % 24] / mean)
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;
    use h3o::LatLng;

    fn cell(lat: f64, lon: f64) -> CellIndex {
        LatLng::new(lat, lon)
            .expect("valid")
            .to_cell(Resolution::Twelve)
    }

    fn report(id: i64, at: DateTime<Utc>, cell: CellIndex) -> Report {
        let ll = LatLng::from(cell);
        Report {
            id,
            at,
            lat: ll.lat(),
            lon: ll.lng(),
            cell,
            grid: 1,
            group: "city_management".into(),
            building: None,
        }
    }

    fn config(method: Method) -> Config {
        Config {
            baseline: method,
            utc_offset_s: 0,
            floor_cases_per_day: 0.0,
            ..Config::default()
        }
    }

    #[test]
    fn weekday_of_a_known_date() {
        // 2026-12-07 is a Monday.
        let monday = Utc.with_ymd_and_hms(2026, 12, 7, 10, 30, 0).unwrap();
        assert_eq!(slot(monday.timestamp()), (10, 1800));
        let sunday = Utc.with_ymd_and_hms(2026, 12, 6, 23, 0, 0).unwrap();
        assert_eq!(slot(sunday.timestamp()).0, 6 * 24 + 23);
    }

    /// Four weeks with one case every day at 10:xx on weekdays and none otherwise: the day × hour
    /// model puts (almost) all of the rate on weekday mornings; the flat one spreads it.
    #[test]
    fn day_hour_recovers_a_planted_profile() {
        let start = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap(); // a Monday
        let end = start + chrono::Duration::days(28);
        let c = cell(36.19, 113.11);
        let reports: Vec<Report> = (0..28)
            .filter(|d| d % 7 < 5)
            .map(|d| report(d, start + chrono::Duration::hours(24 * d + 10), c))
            .collect();
        let b = Baseline::learn(&config(Method::DayHour), &reports, start, end);
        let at = |d: i64, h: i64| start + chrono::Duration::hours(24 * d + h);
        let morning = b.area_expected("city_management", at(28, 10), at(28, 11));
        let night = b.area_expected("city_management", at(28, 3), at(28, 4));
        let saturday = b.area_expected("city_management", at(33, 10), at(33, 11));
        assert!(morning > 0.5, "{morning}");
        assert!(night < 0.05 && saturday < 0.2, "{night} {saturday}");
        // Twenty cases in four weeks, whatever the model: the week's total is about five.
        let week = b.area_expected("city_management", at(28, 0), at(35, 0));
        assert!((week - 5.0).abs() < 0.5, "{week}");
        let flat = Baseline::learn(&config(Method::Flat), &reports, start, end);
        let flat_morning = flat.area_expected("city_management", at(28, 10), at(28, 11));
        assert!((flat_morning - 20.0 / 672.0).abs() < 1e-9);
    }

    #[test]
    fn shares_shrink_and_an_unseen_cell_is_not_zero() {
        let start = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap();
        let end = start + chrono::Duration::days(28);
        let busy = cell(36.19, 113.11);
        let quiet = cell(36.20, 113.12);
        let mut reports: Vec<Report> = (0..90)
            .map(|i| report(i, start + chrono::Duration::hours(7 * i), busy))
            .collect();
        reports.push(report(1000, start + chrono::Duration::hours(5), quiet));
        let b = Baseline::learn(&config(Method::Flat), &reports, start, end);
        let r9 = Resolution::Nine;
        let (busy9, quiet9) = (busy.parent(r9).unwrap(), quiet.parent(r9).unwrap());
        // (90 + 1) / (91 + 2) and (1 + 1) / (91 + 2).
        assert!((b.share("city_management", busy9) - 91.0 / 93.0).abs() < 1e-12);
        assert!((b.share("city_management", quiet9) - 2.0 / 93.0).abs() < 1e-12);
        let unseen = cell(36.25, 113.2).parent(r9).unwrap();
        let share = b.share("city_management", unseen);
        assert!((share - 1.0 / 93.0).abs() < 1e-12);
        assert_eq!(b.cells().len(), 2);
        // An unknown group falls back on the floor (none here); with the default, one case a day.
        let day = b.area_expected("social_governance", end, end + chrono::Duration::days(1));
        assert!(day.abs() < 1e-12);
        let floored = Config {
            floor_cases_per_day: 1.0,
            ..config(Method::Flat)
        };
        let b = Baseline::learn(&floored, &reports, start, end);
        let day = b.area_expected("social_governance", end, end + chrono::Duration::days(1));
        assert!((day - 1.0).abs() < 1e-9);
    }

    #[test]
    fn reports_outside_the_period_are_ignored() {
        let start = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap();
        let end = start + chrono::Duration::days(7);
        let c = cell(36.19, 113.11);
        let reports = vec![
            report(1, start - chrono::Duration::hours(1), c),
            report(2, end, c),
        ];
        let b = Baseline::learn(&config(Method::Flat), &reports, start, end);
        assert!(b.cells().is_empty());
    }
}
