//! Every figure below is counted by hand from the scripted histories, in the comment beside it.

use chrono::{DateTime, TimeZone, Utc};
use h3o::{LatLng, Resolution};
use serde_json::{Value, json};

use super::{Counts, Key, Level, Report, kpi};
use crate::domain::incident::{
    Actor, CaseKind, HistoryEntry, Incident, Place, Priority, Source, Status,
};
use crate::domain::{Case, GridId, IncidentId, RegionId, Role, WorkerId};

/// `m`-`d` `h`:00 UTC in 2026.
fn at(m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, m, d, h, 0, 0).single().unwrap()
}

/// March 2026, the period of most tests.
fn march() -> (DateTime<Utc>, DateTime<Utc>) {
    (at(3, 1, 0), at(4, 1, 0))
}

const COMMANDER: Actor = Actor {
    worker: Some(WorkerId(900)),
    role: Role::Commander,
};
const ADMIN: Actor = Actor {
    worker: None,
    role: Role::Admin,
};

/// Writes a case's history the way the incident service does, one action at a time.
struct Script {
    case: Case,
}

fn case(id: i64, created: DateTime<Utc>, deadline: Option<DateTime<Utc>>) -> Script {
    let cell = LatLng::new(36.19, 113.12)
        .unwrap()
        .to_cell(Resolution::Twelve);
    let register = HistoryEntry {
        at: created,
        actor: COMMANDER,
        action: "register".into(),
        from: Status::Registered,
        to: Status::Registered,
        note: None,
        detail: Some(json!({ "deadline": deadline, "route": { "to": "community_queue" } })),
    };
    Script {
        case: Case {
            state: Incident::registered(IncidentId(id), deadline),
            category: "street_order".into(),
            priority: Priority::Normal,
            source: Source::Worker,
            kind: CaseKind::Promised,
            description: String::new(),
            place: Place {
                lat: 36.19,
                lon: 113.12,
                cell,
                grid: GridId(1),
                community: RegionId(10),
                street: Some(RegionId(100)),
                district: Some(RegionId(1000)),
                outside_m: None,
            },
            reporter: None,
            created_at: created,
            updated_at: created,
            escalate_at: deadline,
            duplicate_of: None,
            history: vec![register],
            photos: Vec::new(),
        },
    }
}

impl Script {
    fn grid(mut self, id: i64) -> Self {
        self.case.place.grid = GridId(id);
        self
    }

    fn community(mut self, id: i64) -> Self {
        self.case.place.community = RegionId(id);
        self
    }

    fn street(mut self, id: Option<i64>) -> Self {
        self.case.place.street = id.map(RegionId);
        self
    }

    fn push(
        mut self,
        when: DateTime<Utc>,
        actor: Actor,
        action: &str,
        to: Status,
        detail: Option<Value>,
    ) -> Self {
        let from = self.case.state.status;
        self.case.history.push(HistoryEntry {
            at: when,
            actor,
            action: action.into(),
            from,
            to,
            note: None,
            detail,
        });
        self.case.state.status = to;
        self.case.updated_at = when;
        self
    }

    fn dispatch(self, when: DateTime<Utc>, worker: i64) -> Self {
        self.push(
            when,
            COMMANDER,
            "dispatch",
            Status::Dispatched,
            Some(json!({ "to": worker })),
        )
    }

    fn reassign(self, when: DateTime<Utc>, worker: i64) -> Self {
        self.push(
            when,
            COMMANDER,
            "reassign",
            Status::Dispatched,
            Some(json!({ "to": worker })),
        )
    }

    fn accept(self, when: DateTime<Utc>, worker: i64) -> Self {
        let actor = Actor {
            worker: Some(WorkerId(worker)),
            role: Role::Worker,
        };
        self.push(when, actor, "accept", Status::Accepted, None)
    }

    fn accept_as_admin(self, when: DateTime<Utc>) -> Self {
        self.push(when, ADMIN, "accept", Status::Accepted, None)
    }

    fn start(self, when: DateTime<Utc>) -> Self {
        let actor = Actor {
            worker: self.case.state.assignee,
            role: Role::Worker,
        };
        self.push(when, actor, "start", Status::InProgress, None)
    }

    fn resolve(self, when: DateTime<Utc>) -> Self {
        self.push(when, ADMIN, "resolve", Status::Resolved, None)
    }

    fn verify(self, when: DateTime<Utc>, passed: bool) -> Self {
        let to = if passed {
            Status::Closed
        } else {
            Status::InProgress
        };
        self.push(
            when,
            COMMANDER,
            "verify",
            to,
            Some(json!({ "passed": passed })),
        )
    }

    /// dispatch → accept → start → resolve at `done` → verify passed at `closed`.
    fn handled(
        self,
        worker: i64,
        accepted: DateTime<Utc>,
        done: DateTime<Utc>,
        closed: DateTime<Utc>,
    ) -> Self {
        self.dispatch(accepted, worker)
            .accept(accepted, worker)
            .start(accepted)
            .resolve(done)
            .verify(closed, true)
    }

    fn extend(self, when: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        let status = self.case.state.status;
        self.push(
            when,
            COMMANDER,
            "extend",
            status,
            Some(json!({ "until": until })),
        )
    }

    fn defer(self, when: DateTime<Utc>) -> Self {
        self.push(when, COMMANDER, "defer", Status::Deferred, None)
    }

    fn resume(self, when: DateTime<Utc>, to: Status) -> Self {
        self.push(when, COMMANDER, "resume", to, None)
    }

    fn cancel(self, when: DateTime<Utc>) -> Self {
        self.push(when, COMMANDER, "cancel", Status::Cancelled, None)
    }

    fn merge(self, when: DateTime<Utc>, into: i64) -> Self {
        self.push(
            when,
            COMMANDER,
            "merge",
            Status::Merged,
            Some(json!({ "into": into })),
        )
    }

    fn reopen(self, when: DateTime<Utc>, worker: i64) -> Self {
        self.push(
            when,
            COMMANDER,
            "reopen",
            Status::Dispatched,
            Some(json!({ "to": worker })),
        )
    }

    /// An entry that keeps the status (a photo, an escalation, an absorbed duplicate).
    fn note(self, when: DateTime<Utc>, action: &str) -> Self {
        let status = self.case.state.status;
        self.push(when, COMMANDER, action, status, None)
    }

    fn done(self) -> Case {
        self.case
    }
}

/// The six counters, in the order registered, due, deferred, closed, closed on time, reworked.
fn counters(c: &Counts) -> [u64; 6] {
    [
        c.registered,
        c.due,
        c.deferred,
        c.closed,
        c.closed_on_time,
        c.reworked,
    ]
}

fn row(report: &Report, key: Option<Key>) -> &Counts {
    &report
        .rows
        .iter()
        .find(|r| r.key == key)
        .unwrap_or_else(|| panic!("no row {key:?}"))
        .counts
}

fn close_to(actual: Option<f64>, expected: f64) -> bool {
    actual.is_some_and(|a| (a - expected).abs() < 1e-9)
}

#[test]
fn every_counter_on_a_scripted_month() {
    let (from, to) = march();
    let cases = [
        // A: accepted after 2 h, closed 03-04 20:00 before its 03-05 08:00 deadline: 60 h to close.
        case(1, at(3, 2, 8), Some(at(3, 5, 8)))
            .handled(7, at(3, 2, 10), at(3, 4, 8), at(3, 4, 20))
            .done(),
        // B: accepted after 6 h, rework on 03-05, closed 03-07 00:00, a day late: 96 h to close.
        case(2, at(3, 3, 0), Some(at(3, 6, 0)))
            .dispatch(at(3, 3, 0), 7)
            .accept(at(3, 3, 6), 7)
            .start(at(3, 3, 7))
            .resolve(at(3, 5, 0))
            .verify(at(3, 5, 12), false)
            .resolve(at(3, 6, 12))
            .verify(at(3, 7, 0), true)
            .done(),
        // C: due 03-12, deferred on 03-11: due and deferred, left out of the rates.
        case(3, at(3, 10, 0), Some(at(3, 12, 0)))
            .dispatch(at(3, 10, 0), 7)
            .defer(at(3, 11, 0))
            .done(),
        // D: accepted after 1 h, due 03-20, still being worked on: due, open.
        case(4, at(3, 10, 0), Some(at(3, 20, 0)))
            .dispatch(at(3, 10, 0), 8)
            .accept(at(3, 10, 1), 8)
            .start(at(3, 10, 2))
            .done(),
        // E: registered in February, due 03-02, closed 03-01 12:00: due and on time, not registered;
        // 9 days 12 h = 228 h to close; its February accept is outside the accept mean.
        case(5, at(2, 20, 0), Some(at(3, 2, 0)))
            .handled(8, at(2, 20, 3), at(3, 1, 0), at(3, 1, 12))
            .done(),
        // F: registered 03-25, due in April: registered only.
        case(6, at(3, 25, 0), Some(at(4, 3, 0))).done(),
        // G (grid 2): cancelled, H (grid 2): merged: registered, never due.
        case(7, at(3, 5, 0), Some(at(3, 6, 0)))
            .grid(2)
            .cancel(at(3, 5, 12))
            .done(),
        case(8, at(3, 5, 0), Some(at(3, 6, 0)))
            .grid(2)
            .merge(at(3, 5, 12), 1)
            .done(),
    ];
    let report = kpi(&cases, Level::Grid, from, to);
    assert_eq!(
        report.rows.iter().map(|r| r.key).collect::<Vec<_>>(),
        [Some(Key::Grid(GridId(1))), Some(Key::Grid(GridId(2)))]
    );

    let one = row(&report, Some(Key::Grid(GridId(1))));
    // registered A B C D F; due A B C D E; deferred C; closed A B E; on time A E; reworked B.
    assert_eq!(counters(one), [5, 5, 1, 3, 2, 1]);
    assert_eq!(one.closure_rate(), Some(0.75)); // 3 / (5 - 1)
    assert_eq!(one.on_time_rate(), Some(0.5)); // 2 / (5 - 1)
    assert!(close_to(one.rework_rate(), 1.0 / 3.0)); // 1 / 3
    assert!(close_to(one.mean_hours_to_accept(), 3.0)); // (2 + 6 + 1) / 3
    assert!(close_to(one.mean_hours_to_close(), 128.0)); // (60 + 96 + 228) / 3

    let two = row(&report, Some(Key::Grid(GridId(2))));
    assert_eq!(counters(two), [2, 0, 0, 0, 0, 0]);
    assert_eq!(
        (two.closure_rate(), two.on_time_rate(), two.rework_rate()),
        (None, None, None)
    );
    assert_eq!(
        (two.mean_hours_to_accept(), two.mean_hours_to_close()),
        (None, None)
    );

    assert_eq!(counters(&report.total), [7, 5, 1, 3, 2, 1]);
    assert_eq!(report.total.closure_rate(), Some(0.75));
    assert!(close_to(report.total.mean_hours_to_close(), 128.0));
    assert_eq!(
        (report.level, report.from, report.to),
        (Level::Grid, from, to)
    );
}

#[test]
fn an_extension_moves_the_deadline_and_the_on_time_verdict() {
    let (from, to) = march();
    let cases = [
        // Due 03-05, extended on 03-04 to 03-08, closed 03-07: on time against the new deadline.
        case(1, at(3, 1, 0), Some(at(3, 5, 0)))
            .dispatch(at(3, 1, 0), 7)
            .extend(at(3, 4, 0), at(3, 8, 0))
            .accept(at(3, 4, 1), 7)
            .start(at(3, 4, 2))
            .resolve(at(3, 6, 0))
            .verify(at(3, 7, 0), true)
            .done(),
        // Due 03-30, extended on 03-29 to 04-05: no longer due in March.
        case(2, at(3, 1, 0), Some(at(3, 30, 0)))
            .dispatch(at(3, 1, 0), 7)
            .extend(at(3, 29, 0), at(4, 5, 0))
            .done(),
        // Due in February, extended on 02-27 to 03-03: due in March (and registered in February).
        case(3, at(2, 20, 0), Some(at(2, 28, 0)))
            .dispatch(at(2, 20, 0), 7)
            .extend(at(2, 27, 0), at(3, 3, 0))
            .done(),
        // Due 03-20, extended only on 04-02 (after the period): as of 04-01 still due 03-20.
        case(4, at(3, 1, 0), Some(at(3, 20, 0)))
            .dispatch(at(3, 1, 0), 7)
            .extend(at(4, 2, 0), at(4, 10, 0))
            .done(),
        // Two extensions, the last wins: 03-10 → 03-12 → 03-15; closed 03-14 is on time.
        case(5, at(3, 1, 0), Some(at(3, 10, 0)))
            .dispatch(at(3, 1, 0), 7)
            .extend(at(3, 9, 0), at(3, 12, 0))
            .extend(at(3, 11, 0), at(3, 15, 0))
            .accept(at(3, 11, 1), 7)
            .start(at(3, 11, 2))
            .resolve(at(3, 13, 0))
            .verify(at(3, 14, 0), true)
            .done(),
    ];
    let report = kpi(&cases, Level::Grid, from, to);
    // registered 1 2 4 5; due 1 3 4 5; closed 1 5, both on time.
    assert_eq!(counters(&report.total), [4, 4, 0, 2, 2, 0]);
    assert_eq!(report.total.on_time_rate(), Some(0.5)); // 2 / 4

    // Without the extension case 1 closes two days late.
    let late = [case(1, at(3, 1, 0), Some(at(3, 5, 0)))
        .handled(7, at(3, 1, 1), at(3, 6, 0), at(3, 7, 0))
        .done()];
    assert_eq!(
        counters(&kpi(&late, Level::Grid, from, to).total),
        [1, 1, 0, 1, 0, 0]
    );
}

#[test]
fn only_entries_before_the_end_count() {
    let (from, to) = march();
    let cases = [
        // Closed on 04-02: as of 04-01 it is in progress, due and not closed.
        case(1, at(3, 1, 0), Some(at(3, 20, 0)))
            .handled(7, at(3, 1, 1), at(4, 1, 12), at(4, 2, 0))
            .done(),
        // Verified exactly at the end of the period: the bound is exclusive, so not yet closed.
        case(2, at(3, 1, 0), Some(at(3, 20, 0)))
            .handled(7, at(3, 1, 1), at(3, 31, 0), to)
            .done(),
        // Closed in March, reopened in April: still closed as of 04-01.
        case(3, at(3, 1, 0), Some(at(3, 20, 0)))
            .handled(7, at(3, 1, 1), at(3, 2, 0), at(3, 3, 0))
            .reopen(at(4, 2, 0), 7)
            .done(),
        // Cancelled in April: still due in March.
        case(4, at(3, 1, 0), Some(at(3, 20, 0)))
            .cancel(at(4, 2, 0))
            .done(),
        // Accepted only in April: no accept in the mean.
        case(5, at(3, 31, 0), Some(at(4, 20, 0)))
            .dispatch(at(3, 31, 0), 7)
            .accept(at(4, 1, 1), 7)
            .done(),
    ];
    let report = kpi(&cases, Level::Grid, from, to);
    // registered all 5; due 1 2 3 4; closed 3 (on time).
    assert_eq!(counters(&report.total), [5, 4, 0, 1, 1, 0]);
    // Accepts 1 h after registration for cases 1–3; case 5's April accept is not counted.
    assert!(close_to(report.total.mean_hours_to_accept(), 1.0));
    assert!(close_to(report.total.mean_hours_to_close(), 48.0)); // 03-01 → 03-03
}

#[test]
fn reopened_cases_count_only_when_closed_again() {
    let (from, to) = march();
    let cases = [
        // Closed 03-05, reopened 03-06 and left open: due, not closed.
        case(1, at(3, 1, 0), Some(at(3, 8, 0)))
            .handled(7, at(3, 1, 0), at(3, 4, 0), at(3, 5, 0))
            .reopen(at(3, 6, 0), 7)
            .done(),
        // Closed 03-05, reopened, closed again 03-10 after its 03-08 deadline: the last verify counts, so
        // late; 9 days = 216 h to close. Reopening is not rework.
        case(2, at(3, 1, 0), Some(at(3, 8, 0)))
            .handled(7, at(3, 1, 0), at(3, 4, 0), at(3, 5, 0))
            .reopen(at(3, 6, 0), 7)
            .accept(at(3, 6, 1), 7)
            .start(at(3, 6, 2))
            .resolve(at(3, 9, 0))
            .verify(at(3, 10, 0), true)
            .done(),
    ];
    let report = kpi(&cases, Level::Grid, from, to);
    assert_eq!(counters(&report.total), [2, 2, 0, 1, 0, 0]);
    assert_eq!(report.total.closure_rate(), Some(0.5));
    assert_eq!(report.total.on_time_rate(), Some(0.0));
    assert_eq!(report.total.rework_rate(), Some(0.0));
    assert!(close_to(report.total.mean_hours_to_close(), 216.0));
    // The first accept counts, at registration: 0 h.
    assert!(close_to(report.total.mean_hours_to_accept(), 0.0));
}

#[test]
fn deferral_leaves_the_rates_and_resuming_brings_the_case_back() {
    let (from, to) = march();
    let cases = [
        case(1, at(3, 1, 0), Some(at(3, 5, 0)))
            .handled(7, at(3, 1, 0), at(3, 2, 0), at(3, 3, 0))
            .done(),
        // Deferred and still parked: due, deferred.
        case(2, at(3, 1, 0), Some(at(3, 5, 0)))
            .defer(at(3, 2, 0))
            .done(),
        // Deferred, then resumed: an ordinary open due case.
        case(3, at(3, 1, 0), Some(at(3, 5, 0)))
            .defer(at(3, 2, 0))
            .resume(at(3, 3, 0), Status::Registered)
            .done(),
        // Deferred, then cancelled: not due at all.
        case(4, at(3, 1, 0), Some(at(3, 5, 0)))
            .defer(at(3, 2, 0))
            .cancel(at(3, 3, 0))
            .done(),
    ];
    let report = kpi(&cases, Level::Grid, from, to);
    // due 1 2 3; deferred 2; closed 1.
    assert_eq!(counters(&report.total), [4, 3, 1, 1, 1, 0]);
    assert_eq!(report.total.closure_rate(), Some(0.5)); // 1 / (3 - 1)
    assert_eq!(report.total.on_time_rate(), Some(0.5));
}

#[test]
fn cancelled_and_merged_cases_are_never_due() {
    let (from, to) = march();
    let cases = [
        case(1, at(3, 1, 0), Some(at(3, 5, 0)))
            .dispatch(at(3, 1, 0), 7)
            .cancel(at(3, 2, 0))
            .done(),
        // Merged, then the absorbing case's history has moved on: still merged.
        case(2, at(3, 1, 0), Some(at(3, 5, 0)))
            .merge(at(3, 2, 0), 3)
            .note(at(3, 3, 0), "photo")
            .done(),
        // The case that absorbed case 2: an `absorb` entry keeps its status.
        case(3, at(3, 1, 0), Some(at(3, 5, 0)))
            .note(at(3, 2, 0), "absorb")
            .note(at(3, 2, 1), "escalate")
            .done(),
    ];
    let report = kpi(&cases, Level::Grid, from, to);
    assert_eq!(counters(&report.total), [3, 1, 0, 0, 0, 0]);
    assert_eq!(report.total.closure_rate(), Some(0.0)); // 0 / 1
    assert_eq!(report.total.rework_rate(), None); // nothing closed
}

#[test]
fn cases_straddling_the_period_count_by_each_date_separately() {
    let (from, to) = march();
    let cases = [
        // Registered at the very start: registered; due at the very start: due.
        case(1, from, Some(from)).done(),
        // Registered before, due exactly at the end: neither.
        case(2, at(2, 1, 0), Some(to)).done(),
        // Registered in January, due in April: neither, and no row.
        case(3, at(1, 5, 0), Some(at(4, 5, 0))).grid(3).done(),
        // Registered in February, due in March: due only.
        case(4, at(2, 25, 0), Some(at(3, 3, 0))).done(),
        // Registered in March, due in April: registered only.
        case(5, at(3, 30, 0), Some(at(4, 3, 0))).done(),
        // No deadline: never due.
        case(6, at(3, 2, 0), None).done(),
        // Registered after the period: nothing (its deadline is in range but it did not exist yet).
        case(7, to, Some(at(3, 31, 0))).grid(4).done(),
    ];
    let report = kpi(&cases, Level::Grid, from, to);
    assert_eq!(counters(&report.total), [3, 2, 0, 0, 0, 0]); // registered 1 5 6; due 1 4
    assert_eq!(report.rows.len(), 1, "grids 3 and 4 have nothing in March");
}

#[test]
fn workers_are_grouped_by_the_handler_at_the_end_of_the_period() {
    let (from, to) = march();
    let cases = [
        // Accepted by 7: worker 7.
        case(1, at(3, 1, 0), Some(at(3, 5, 0)))
            .handled(7, at(3, 1, 0), at(3, 2, 0), at(3, 3, 0))
            .done(),
        // Accepted by 7, reassigned to 8 who accepted: worker 8.
        case(2, at(3, 1, 0), Some(at(3, 5, 0)))
            .dispatch(at(3, 1, 0), 7)
            .accept(at(3, 1, 1), 7)
            .reassign(at(3, 2, 0), 8)
            .accept(at(3, 2, 1), 8)
            .done(),
        // Dispatched to 9, not yet accepted: worker 9.
        case(3, at(3, 1, 0), Some(at(3, 5, 0)))
            .dispatch(at(3, 1, 0), 9)
            .done(),
        // Accepted by 7, reassigned to 9 after the period: still worker 7.
        case(4, at(3, 1, 0), Some(at(3, 5, 0)))
            .dispatch(at(3, 1, 0), 7)
            .accept(at(3, 1, 1), 7)
            .reassign(at(4, 2, 0), 9)
            .accept(at(4, 2, 1), 9)
            .done(),
        // An admin token without a worker accepted for the assignee: worker 8 from the dispatch.
        case(5, at(3, 1, 0), Some(at(3, 5, 0)))
            .dispatch(at(3, 1, 0), 8)
            .accept_as_admin(at(3, 1, 1))
            .done(),
        // Never dispatched: no handler.
        case(6, at(3, 1, 0), Some(at(3, 5, 0))).done(),
    ];
    let report = kpi(&cases, Level::Worker, from, to);
    let keys: Vec<_> = report.rows.iter().map(|r| r.key).collect();
    let w = |id| Some(Key::Worker(WorkerId(id)));
    assert_eq!(
        keys,
        [w(7), w(8), w(9), None],
        "sorted by id, the null group last"
    );
    assert_eq!(counters(row(&report, w(7))), [2, 2, 0, 1, 1, 0]); // cases 1 and 4
    assert_eq!(counters(row(&report, w(8))), [2, 2, 0, 0, 0, 0]); // cases 2 and 5
    assert_eq!(counters(row(&report, w(9))), [1, 1, 0, 0, 0, 0]); // case 3
    assert_eq!(counters(row(&report, None)), [1, 1, 0, 0, 0, 0]); // case 6
    assert_eq!(counters(&report.total), [6, 6, 0, 1, 1, 0]);
}

#[test]
fn communities_and_streets_group_by_place() {
    let (from, to) = march();
    let cases = [
        case(1, at(3, 1, 0), None)
            .community(12)
            .street(Some(101))
            .done(),
        case(2, at(3, 1, 0), None)
            .community(11)
            .street(Some(101))
            .done(),
        case(3, at(3, 1, 0), None)
            .community(11)
            .street(Some(100))
            .done(),
        case(4, at(3, 1, 0), None).community(13).street(None).done(),
    ];
    let region = |id| Some(Key::Region(RegionId(id)));
    let communities = kpi(&cases, Level::Community, from, to);
    assert_eq!(
        communities
            .rows
            .iter()
            .map(|r| (r.key, r.counts.registered))
            .collect::<Vec<_>>(),
        [(region(11), 2), (region(12), 1), (region(13), 1)]
    );
    let streets = kpi(&cases, Level::Street, from, to);
    assert_eq!(
        streets
            .rows
            .iter()
            .map(|r| (r.key, r.counts.registered))
            .collect::<Vec<_>>(),
        [(region(100), 1), (region(101), 2), (None, 1)]
    );
}

#[test]
fn empty_denominators_give_no_rate() {
    let (from, to) = march();
    let none = kpi(std::iter::empty(), Level::Grid, from, to);
    assert!(none.rows.is_empty());
    assert_eq!(none.total, Counts::default());
    assert_eq!(
        (
            none.total.closure_rate(),
            none.total.on_time_rate(),
            none.total.rework_rate()
        ),
        (None, None, None)
    );
    assert_eq!(
        (
            none.total.mean_hours_to_accept(),
            none.total.mean_hours_to_close()
        ),
        (None, None)
    );

    // Every due case deferred: due − deferred = 0.
    let parked = [case(1, at(3, 1, 0), Some(at(3, 5, 0)))
        .defer(at(3, 2, 0))
        .done()];
    let total = kpi(&parked, Level::Grid, from, to).total;
    assert_eq!(counters(&total), [1, 1, 1, 0, 0, 0]);
    assert_eq!(
        (
            total.closure_rate(),
            total.on_time_rate(),
            total.rework_rate()
        ),
        (None, None, None)
    );
}

#[test]
fn an_empty_or_inverted_period_counts_nothing() {
    let cases = [case(1, at(3, 1, 0), Some(at(3, 1, 0))).done()];
    assert_eq!(
        kpi(&cases, Level::Grid, at(3, 1, 0), at(3, 1, 0)).total,
        Counts::default()
    );
    let inverted = kpi(&cases, Level::Grid, at(4, 1, 0), at(3, 1, 0));
    assert_eq!(inverted.total, Counts::default());
    assert!(inverted.rows.is_empty());
}

#[test]
fn unreadable_details_are_ignored() {
    let (from, to) = march();
    let mut bad = case(1, at(3, 1, 0), Some(at(3, 5, 0)))
        .extend(at(3, 2, 0), at(3, 8, 0))
        .handled(7, at(3, 2, 1), at(3, 6, 0), at(3, 7, 0))
        .done();
    // The extension's `until` is not a date: the register deadline (03-05) stays, so the 03-07 close is late.
    bad.history[1].detail = Some(json!({ "until": "next week" }));
    let total = kpi([&bad], Level::Grid, from, to).total;
    assert_eq!(counters(&total), [1, 1, 0, 1, 0, 0]);
}

#[test]
fn closing_at_the_deadline_itself_is_on_time() {
    let (from, to) = march();
    let cases = [
        // Verified at exactly 03-05 00:00, the deadline: on time.
        case(1, at(3, 1, 0), Some(at(3, 5, 0)))
            .handled(7, at(3, 1, 0), at(3, 4, 0), at(3, 5, 0))
            .done(),
        // An hour later: late.
        case(2, at(3, 1, 0), Some(at(3, 5, 0)))
            .handled(7, at(3, 1, 0), at(3, 4, 0), at(3, 5, 1))
            .done(),
    ];
    assert_eq!(
        counters(&kpi(&cases, Level::Grid, from, to).total),
        [2, 2, 0, 2, 1, 0]
    );
}
