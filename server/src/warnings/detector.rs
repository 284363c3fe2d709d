//! The live detector: the reports of the last day, the learned baseline and the active warnings.
//!
//! The server drives it: [`Detector::observe`] each new case, [`Detector::evaluate`] on a timer
//! (every 5 minutes), [`Detector::relearn`] once a day from the stored history. It holds only the
//! reports of the longest window (24 h by default) and the active warnings, so its memory is bounded
//! by the case rate, not by uptime.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use h3o::CellIndex;
use rustc_hash::FxHashSet;

use super::baseline::Baseline;
use super::model::{Config, Kind, Report, Transition, Warning};
use super::poisson::upper_tail;
use super::repeat::{self, Anchor};
use super::scan::{self, Case};

/// What an active warning watches, to know when it is over and to recognise itself.
#[derive(Debug, Clone)]
enum Watch {
    /// A rate or cluster warning: its zone's cells (sorted, at the config's resolution).
    Zone(Vec<CellIndex>),
    Repeat(Anchor),
}

#[derive(Debug, Clone)]
struct Active {
    warning: Warning,
    watch: Watch,
}

/// A live report with its cell at the detector's resolution.
#[derive(Debug, Clone)]
struct Live {
    report: Report,
    cell: CellIndex,
}

/// The early-warning detector. Deterministic: the same reports, `relearn` calls and evaluation times
/// give the same transitions with the same keys.
#[derive(Debug, Clone)]
pub struct Detector {
    config: Config,
    baseline: Baseline,
    /// Reports of the last `horizon_s`, by (time, id).
    live: BTreeMap<(DateTime<Utc>, i64), Live>,
    /// The ids in `live`: a report observed twice counts once.
    ids: FxHashSet<i64>,
    /// Active warnings by key.
    active: BTreeMap<String, Active>,
    /// The latest evaluation time; reports older than its horizon are not kept.
    now: Option<DateTime<Utc>>,
}

impl Detector {
    /// A detector whose baseline is learned from `history` (the `history_days` before `now`) and
    /// whose live windows start with the part of `history` inside them.
    #[must_use]
    pub fn new(config: Config, history: &[Report], now: DateTime<Utc>) -> Self {
        let baseline = learn(&config, history, now);
        let mut detector = Self {
            config,
            baseline,
            live: BTreeMap::new(),
            ids: FxHashSet::default(),
            active: BTreeMap::new(),
            now: Some(now),
        };
        for report in history.iter().filter(|r| r.at <= now) {
            detector.observe(report.clone());
        }
        detector
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The learned baseline.
    #[must_use]
    pub fn baseline(&self) -> &Baseline {
        &self.baseline
    }

    /// Learns the baseline again from `history` (the `history_days` before `now`); live reports and
    /// active warnings are kept.
    pub fn relearn(&mut self, history: &[Report], now: DateTime<Utc>) {
        self.baseline = learn(&self.config, history, now);
    }

    /// Takes a new case into the live windows. A report already seen, older than the longest window
    /// or with a cell coarser than the config's resolution is ignored.
    pub fn observe(&mut self, report: Report) {
        if self.ids.contains(&report.id) {
            return;
        }
        if let Some(now) = self.now
            && report.at <= now - Duration::seconds(self.config.horizon_s())
        {
            return;
        }
        let Some(cell) = report.cell.parent(self.config.resolution) else {
            return;
        };
        self.ids.insert(report.id);
        self.live
            .insert((report.at, report.id), Live { report, cell });
    }

    /// The active warnings, by key.
    pub fn active(&self) -> impl Iterator<Item = &Warning> {
        self.active.values().map(|a| &a.warning)
    }

    /// How many reports the live windows hold.
    #[must_use]
    pub fn live_len(&self) -> usize {
        self.live.len()
    }

    /// Tests the windows ending at `now` and returns what changed: warnings cleared (by key), then
    /// warnings raised (by key). Reports after `now` wait for a later evaluation.
    pub fn evaluate(&mut self, now: DateTime<Utc>) -> Vec<Transition> {
        self.now = Some(self.now.map_or(now, |t| t.max(now)));
        let horizon = now - Duration::seconds(self.config.horizon_s());
        let kept = self.live.split_off(&(horizon, i64::MAX));
        for key in std::mem::replace(&mut self.live, kept).keys() {
            self.ids.remove(&key.1);
        }
        let windows = Windows::new(&self.config, &self.live, now);
        let cleared: Vec<String> = self
            .active
            .iter()
            .filter(|(_, active)| !self.holds(active, &windows))
            .map(|(key, _)| key.clone())
            .collect();
        let still: Vec<&Active> = self
            .active
            .iter()
            .filter(|(key, _)| !cleared.contains(key))
            .map(|(_, active)| active)
            .collect();
        let mut raised = self.zone_warnings(&windows, &still);
        raised.extend(self.repeat_warnings(&windows, &still, &raised));
        raised.sort_by(|a, b| a.warning.key.cmp(&b.warning.key));

        let mut transitions = Vec::new();
        for key in cleared {
            self.active.remove(&key);
            transitions.push(Transition::Cleared { key, at: now });
        }
        for active in raised {
            if self.active.contains_key(&active.warning.key) {
                continue;
            }
            transitions.push(Transition::Raised(active.warning.clone()));
            self.active.insert(active.warning.key.clone(), active);
        }
        transitions
    }

    /// Whether an active warning's excess is still in its window.
    fn holds(&self, active: &Active, w: &Windows<'_>) -> bool {
        let group = active.warning.group.as_str();
        match &active.watch {
            Watch::Zone(cells) => {
                let observed = w
                    .window
                    .iter()
                    .filter(|l| {
                        self.config.group_of(&l.report) == group
                            && cells.binary_search(&l.cell).is_ok()
                    })
                    .count() as u64;
                let expected: f64 = cells
                    .iter()
                    .map(|&c| self.baseline.expected(group, c, w.from, w.now))
                    .sum();
                observed >= self.config.min_observed
                    && upper_tail(observed, expected) <= self.config.clear_p
            }
            Watch::Repeat(anchor) => {
                repeat::count_at(&self.config, &w.repeat_reports, group, *anchor)
                    >= self.config.repeat_count
            }
        }
    }

    /// New rate and cluster warnings: significant zones that overlap no active zone of their group.
    fn zone_warnings(&self, w: &Windows<'_>, active: &[&Active]) -> Vec<Active> {
        let cases: Vec<Case<'_>> = w
            .window
            .iter()
            .map(|l| Case {
                group: self.config.group_of(&l.report),
                cell: l.cell,
                id: l.report.id,
            })
            .collect();
        let mut raised: Vec<Active> = Vec::new();
        for zone in scan::scan(&self.config, &self.baseline, &cases, w.from, w.now) {
            let known = active.iter().copied().chain(raised.iter()).any(|a| {
                a.warning.group == zone.group
                    && matches!(&a.watch, Watch::Zone(cells)
                        if cells.iter().any(|c| zone.cells.binary_search(c).is_ok()))
            });
            if known {
                continue;
            }
            let kind = if zone.radius == 0 {
                Kind::Rate
            } else {
                Kind::Cluster
            };
            let first = zone.cases.first().copied().unwrap_or_default();
            let grids = grids_of(&w.window, &zone.cases);
            raised.push(Active {
                warning: Warning {
                    key: format!("{}:{}:{}:{first}", kind.as_str(), zone.group, zone.centre),
                    kind,
                    group: zone.group,
                    cells: zone.cells.iter().map(ToString::to_string).collect(),
                    grids,
                    building: None,
                    observed: zone.observed,
                    expected: zone.expected,
                    p_value: zone.p_value,
                    cases: zone.cases,
                    window_start: w.from,
                    window_end: w.now,
                    raised_at: w.now,
                },
                watch: Watch::Zone(zone.cells),
            });
        }
        raised
    }

    /// New repeat warnings: repeats whose building, or one of whose spot's reports, no active
    /// repeat of their group holds.
    fn repeat_warnings(
        &self,
        w: &Windows<'_>,
        active: &[&Active],
        zones: &[Active],
    ) -> Vec<Active> {
        let mut raised: Vec<Active> = Vec::new();
        for found in repeat::find(&self.config, &w.repeat_reports) {
            let members: Vec<&Live> = found.reports.iter().map(|&i| w.repeat_window[i]).collect();
            let known = active
                .iter()
                .copied()
                .chain(zones.iter())
                .chain(raised.iter())
                .any(|a| {
                    a.warning.group == found.group
                        && match (&a.watch, found.anchor) {
                            (Watch::Repeat(Anchor::Building(b)), Anchor::Building(c)) => *b == c,
                            (Watch::Repeat(Anchor::Spot { .. }), Anchor::Spot { .. }) => members
                                .iter()
                                .any(|m| a.warning.cases.binary_search(&m.report.id).is_ok()),
                            _ => false,
                        }
                });
            if !known {
                raised.push(self.repeat_warning(&found, &members, w.repeat_from, w.now));
            }
        }
        raised
    }

    fn repeat_warning(
        &self,
        found: &repeat::Repeat,
        members: &[&Live],
        from: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Active {
        let mut cells: Vec<CellIndex> = members.iter().map(|l| l.cell).collect();
        cells.sort_unstable();
        cells.dedup();
        let mut ids: Vec<i64> = members.iter().map(|l| l.report.id).collect();
        ids.sort_unstable();
        let expected: f64 = cells
            .iter()
            .map(|&c| self.baseline.expected(&found.group, c, from, now))
            .sum();
        let observed = ids.len() as u64;
        let (anchor, building) = match found.anchor {
            Anchor::Building(b) => (format!("b{b}"), Some(b)),
            Anchor::Spot { .. } => (format!("spot{}", cells[0]), None),
        };
        let first = ids.first().copied().unwrap_or_default();
        Active {
            warning: Warning {
                key: format!("repeat:{}:{anchor}:{first}", found.group),
                kind: Kind::Repeat,
                group: found.group.clone(),
                cells: cells.iter().map(ToString::to_string).collect(),
                grids: grids_of(members, &ids),
                building,
                observed,
                expected,
                p_value: upper_tail(observed, expected),
                cases: ids,
                window_start: from,
                window_end: now,
                raised_at: now,
            },
            watch: Watch::Repeat(found.anchor),
        }
    }
}

/// The two windows ending at `now`, over the live reports.
struct Windows<'a> {
    now: DateTime<Utc>,
    /// Start of the rate and cluster window.
    from: DateTime<Utc>,
    /// Start of the repeat window.
    repeat_from: DateTime<Utc>,
    window: Vec<&'a Live>,
    repeat_window: Vec<&'a Live>,
    /// The reports of `repeat_window`, in the same order.
    repeat_reports: Vec<&'a Report>,
}

impl<'a> Windows<'a> {
    fn new(
        config: &Config,
        live: &'a BTreeMap<(DateTime<Utc>, i64), Live>,
        now: DateTime<Utc>,
    ) -> Self {
        let from = now - Duration::seconds(config.window_s);
        let repeat_from = now - Duration::seconds(config.repeat_window_s);
        let repeat_window = in_window(live, repeat_from, now);
        Self {
            now,
            from,
            repeat_from,
            window: in_window(live, from, now),
            repeat_reports: repeat_window.iter().map(|l| &l.report).collect(),
            repeat_window,
        }
    }
}

/// Live reports in `(from, to]`, by time.
fn in_window(
    live: &BTreeMap<(DateTime<Utc>, i64), Live>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<&Live> {
    live.range((from, i64::MAX)..=(to, i64::MAX))
        .map(|(_, l)| l)
        .collect()
}

fn learn(config: &Config, history: &[Report], now: DateTime<Utc>) -> Baseline {
    Baseline::learn(
        config,
        history,
        now - Duration::days(config.history_days),
        now,
    )
}

/// The sorted grids of the `ids` among `reports`.
fn grids_of(reports: &[&Live], ids: &[i64]) -> Vec<i64> {
    let mut grids: Vec<i64> = reports
        .iter()
        .filter(|l| ids.binary_search(&l.report.id).is_ok())
        .map(|l| l.report.grid)
        .collect();
    grids.sort_unstable();
    grids.dedup();
    grids
}

#[cfg(test)]
mod tests;
