//! The evaluation figures (综合评价) of a period, recomputed from the cases' append-only history: closure
//! rate, on-time closure rate, rework rate and mean time per stage, per grid, community, street or worker.
//!
//! Pure: it takes cases and a period and returns counts. It never reads a clock, the store or the world,
//! never uses a case's current `state` (which is only true *now*), and knows nothing of HTTP, names or
//! codes; the caller filters the cases by scope and labels the keys.
//!
//! # The contract
//! The period is half-open, `[from, to)`, and every case is evaluated **as of `to`**: only history entries
//! with `at < to` count, so a report for a past month never changes when the cases move on. When
//! `from >= to` every count is zero.
//!
//! Replaying a case's history as of `to`:
//! - *status* — the `to` of its last entry with `at < to` (entries are oldest first; an entry such as
//!   `absorb`, `escalate` or `photo` that keeps the status simply repeats it). With no such entry the case
//!   does not exist yet.
//! - *deadline in force* — the `detail.deadline` (RFC 3339) of the `register` entry, replaced by the
//!   `detail.until` of each `extend` entry, in order. A missing, `null` or unreadable value leaves the
//!   previous deadline (for `register`: none).
//! - *closing verify* — the last `verify` entry with `detail.passed == true`.
//! - *failed verify* (返工) — any `verify` entry with `detail.passed == false`.
//! - *first accept* — the first `accept` entry.
//! - *handler* — the `actor.worker` of the last `accept` entry; if there is none, or it has no worker (an
//!   admin token accepted), the `detail.to` of the last `dispatch` or `reassign` entry; else none.
//!
//! Counters, per group and in the total:
//! - `registered` — cases with `created_at` in `[from, to)`.
//! - `due` (应结案数) — cases whose deadline in force lies in `[from, to)`, leaving out those whose status
//!   is `cancelled` or `merged`.
//! - `deferred` (缓办) — due cases whose status is `deferred`.
//! - `closed` — due cases whose status is `closed`.
//! - `closed_on_time` — closed cases whose closing verify is at or before the deadline in force.
//! - `reworked` — closed cases with at least one failed verify.
//!
//! Rates are fractions in `[0, 1]` (not percentages), `None` when the denominator is 0, never NaN or ∞:
//! - `closure_rate` (结案率) = `closed ÷ (due − deferred)`
//! - `on_time_rate` (按期结案率) = `closed_on_time ÷ (due − deferred)`
//! - `rework_rate` (返工率) = `reworked ÷ closed`
//!
//! Means are in wall-clock hours (not working hours), `None` over no cases:
//! - `mean_hours_to_accept` — over the `registered` cases that have an accept: first accept − `created_at`.
//! - `mean_hours_to_close` — over the `closed` cases: closing verify − `created_at`.
//!
//! Groups: [`Level::Grid`] by `place.grid`, [`Level::Community`] by `place.community`, [`Level::Street`] by
//! `place.street`, [`Level::Worker`] by the handler; a case without a street or handler falls in the `None`
//! group. A group is listed when at least one of its cases is registered or due in the period. Rows are
//! sorted by key id, the `None` group last. The total counts every case given, once.

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::incident::{HistoryEntry, Status};
use crate::domain::{Case, GridId, RegionId, WorkerId};

/// What the rows of a report are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Grid,
    Community,
    Street,
    Worker,
}

impl Level {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grid => "grid",
            Self::Community => "community",
            Self::Street => "street",
            Self::Worker => "worker",
        }
    }
}

/// The key of a row: a grid, a region (community or street) or a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Grid(GridId),
    Region(RegionId),
    Worker(WorkerId),
}

impl Key {
    /// The row id of the grid, region or worker.
    #[must_use]
    pub fn id(self) -> i64 {
        match self {
            Self::Grid(GridId(id)) | Self::Region(RegionId(id)) | Self::Worker(WorkerId(id)) => id,
        }
    }
}

/// The counters of one group (or the total), and the sums behind its means.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub registered: u64,
    pub due: u64,
    pub deferred: u64,
    pub closed: u64,
    pub closed_on_time: u64,
    pub reworked: u64,
    /// How many registered cases have an accept, and their hours to it, summed.
    accepted: u64,
    hours_to_accept: f64,
    /// How many closed cases have a closing verify, and their hours to it, summed.
    timed_closes: u64,
    hours_to_close: f64,
}

impl Counts {
    /// 结案率: `closed ÷ (due − deferred)`.
    #[must_use]
    pub fn closure_rate(&self) -> Option<f64> {
        ratio(self.closed, self.due.saturating_sub(self.deferred))
    }

    /// 按期结案率: `closed_on_time ÷ (due − deferred)`.
    #[must_use]
    pub fn on_time_rate(&self) -> Option<f64> {
        ratio(self.closed_on_time, self.due.saturating_sub(self.deferred))
    }

    /// 返工率: `reworked ÷ closed`.
    #[must_use]
    pub fn rework_rate(&self) -> Option<f64> {
        ratio(self.reworked, self.closed)
    }

    /// Wall-clock hours from registration to the first accept, averaged over the registered cases
    /// accepted before the end of the period.
    #[must_use]
    pub fn mean_hours_to_accept(&self) -> Option<f64> {
        mean(self.hours_to_accept, self.accepted)
    }

    /// Wall-clock hours from registration to the closing verify, averaged over the closed cases.
    #[must_use]
    pub fn mean_hours_to_close(&self) -> Option<f64> {
        mean(self.hours_to_close, self.timed_closes)
    }

    fn is_empty(&self) -> bool {
        self.registered == 0 && self.due == 0
    }

    fn add(&mut self, facts: &Facts, period: Period) {
        let registered = period.contains(facts.created_at);
        if registered {
            self.registered += 1;
            if let Some(at) = facts.first_accept {
                self.accepted += 1;
                self.hours_to_accept += hours_between(facts.created_at, at);
            }
        }
        let Some(deadline) = facts.deadline.filter(|d| period.contains(*d)) else {
            return;
        };
        let Some(status) = facts
            .status
            .filter(|s| !matches!(s, Status::Cancelled | Status::Merged))
        else {
            return;
        };
        self.due += 1;
        match status {
            Status::Deferred => self.deferred += 1,
            Status::Closed => {
                self.closed += 1;
                // Only a passed verify closes a case, so a closed case always has one; a hand-built history
                // without it is counted closed but neither on time nor in the mean.
                if let Some(at) = facts.closing_verify {
                    self.timed_closes += 1;
                    self.hours_to_close += hours_between(facts.created_at, at);
                    if at <= deadline {
                        self.closed_on_time += 1;
                    }
                }
                if facts.failed_verify {
                    self.reworked += 1;
                }
            }
            _ => {}
        }
    }
}

/// One group of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// `None` for the cases without a street (street level) or without a handler (worker level).
    pub key: Option<Key>,
    pub counts: Counts,
}

/// The figures of a period: one row per group and the total.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub level: Level,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Sorted by key id, the `None` group last.
    pub rows: Vec<Row>,
    pub total: Counts,
}

/// Computes the report of `[from, to)` at `level`, as of `to`; see the module docs for every definition.
pub fn kpi<'a>(
    cases: impl IntoIterator<Item = &'a Case>,
    level: Level,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Report {
    let period = Period { from, to };
    let mut groups: BTreeMap<Option<Key>, Counts> = BTreeMap::new();
    let mut total = Counts::default();
    for case in cases {
        let facts = Facts::of(case, to);
        let key = match level {
            Level::Grid => Some(Key::Grid(case.place.grid)),
            Level::Community => Some(Key::Region(case.place.community)),
            Level::Street => case.place.street.map(Key::Region),
            Level::Worker => facts.handler.map(Key::Worker),
        };
        total.add(&facts, period);
        groups.entry(key).or_default().add(&facts, period);
    }
    let mut rows: Vec<Row> = groups
        .into_iter()
        .filter(|(_, counts)| !counts.is_empty())
        .map(|(key, counts)| Row { key, counts })
        .collect();
    // `Option`'s order puts `None` first; the contract puts it last.
    rows.sort_by_key(|row| (row.key.is_none(), row.key));
    Report {
        level,
        from,
        to,
        rows,
        total,
    }
}

#[derive(Debug, Clone, Copy)]
struct Period {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl Period {
    fn contains(self, at: DateTime<Utc>) -> bool {
        self.from <= at && at < self.to
    }
}

/// What the history says about one case as of an instant.
#[derive(Debug, Clone, Default)]
struct Facts {
    created_at: DateTime<Utc>,
    /// `None` when no entry precedes the instant: the case did not exist yet.
    status: Option<Status>,
    deadline: Option<DateTime<Utc>>,
    first_accept: Option<DateTime<Utc>>,
    closing_verify: Option<DateTime<Utc>>,
    failed_verify: bool,
    handler: Option<WorkerId>,
}

impl Facts {
    fn of(case: &Case, as_of: DateTime<Utc>) -> Self {
        let mut facts = Self {
            created_at: case.created_at,
            ..Self::default()
        };
        let mut accepted_by: Option<Option<WorkerId>> = None;
        let mut assigned_to: Option<WorkerId> = None;
        for entry in case.history.iter().filter(|e| e.at < as_of) {
            facts.status = Some(entry.to);
            match entry.action.as_str() {
                "register" => facts.deadline = instant(entry, "deadline"),
                "extend" => facts.deadline = instant(entry, "until").or(facts.deadline),
                "verify" => match detail(entry, "passed").and_then(Value::as_bool) {
                    Some(true) => facts.closing_verify = Some(entry.at),
                    Some(false) => facts.failed_verify = true,
                    None => {}
                },
                "accept" => {
                    facts.first_accept = facts.first_accept.or(Some(entry.at));
                    accepted_by = Some(entry.actor.worker);
                }
                "dispatch" | "reassign" => {
                    if let Some(to) = detail(entry, "to").and_then(Value::as_i64) {
                        assigned_to = Some(WorkerId(to));
                    }
                }
                _ => {}
            }
        }
        facts.handler = accepted_by.flatten().or(assigned_to);
        facts
    }
}

fn detail<'e>(entry: &'e HistoryEntry, field: &str) -> Option<&'e Value> {
    entry.detail.as_ref()?.get(field)
}

/// An RFC 3339 instant in the entry's detail.
fn instant(entry: &HistoryEntry, field: &str) -> Option<DateTime<Utc>> {
    let text = detail(entry, field)?.as_str()?;
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Wall-clock hours from `a` to `b`, to the millisecond.
#[allow(clippy::cast_precision_loss)] // exact below 2^53 ms, about 285,000 years
fn hours_between(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_milliseconds() as f64 / 3_600_000.0
}

#[allow(clippy::cast_precision_loss)] // counts of cases stay far below 2^53
fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

#[allow(clippy::cast_precision_loss)] // counts of cases stay far below 2^53
fn mean(sum: f64, n: u64) -> Option<f64> {
    (n > 0).then(|| sum / n as f64)
}

/// A case as its history tells it at an instant: what the daily report (日报) lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// `None` when no entry precedes the instant: the case did not exist yet.
    pub status: Option<Status>,
    /// The deadline in force (the `register` deadline, replaced by each `extend`).
    pub deadline: Option<DateTime<Utc>>,
    /// The closing verify, when the status is `closed`.
    pub closed_at: Option<DateTime<Utc>>,
}

impl Snapshot {
    /// Still open (someone is expected to act) past the deadline in force, as of `as_of`.
    #[must_use]
    pub fn overdue(&self, as_of: DateTime<Utc>) -> bool {
        self.status.is_some_and(Status::is_open) && self.deadline.is_some_and(|d| d < as_of)
    }
}

/// Replays `case`'s history as of `as_of` (entries with `at < as_of`), by the rules of the module docs.
#[must_use]
pub fn snapshot(case: &Case, as_of: DateTime<Utc>) -> Snapshot {
    let facts = Facts::of(case, as_of);
    Snapshot {
        status: facts.status,
        deadline: facts.deadline,
        closed_at: facts
            .closing_verify
            .filter(|_| facts.status == Some(Status::Closed)),
    }
}
