//! The detector end to end: raise once, clear, repeats, keys, bounded state, relearning.

use super::*;
use crate::warnings::baseline::Method;
use chrono::TimeZone as _;
use h3o::{LatLng, Resolution};

struct Fixture {
    detector: Detector,
    cells: Vec<CellIndex>,
    now: DateTime<Utc>,
    next_id: i64,
}

impl Fixture {
    /// Four weeks of one case a day in each of the 19 cells around Dongjie's centre, flat.
    fn new() -> Self {
        let config = Config {
            baseline: Method::Flat,
            utc_offset_s: 0,
            ..Config::default()
        };
        let centre = LatLng::new(36.19, 113.11)
            .unwrap()
            .to_cell(Resolution::Nine);
        let mut cells: Vec<CellIndex> = centre.grid_disk(2);
        cells.sort_unstable();
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap();
        let mut history = Vec::new();
        let mut id = 0;
        for day in 1..=28 {
            for (i, &cell) in (0_i64..).zip(&cells) {
                id += 1;
                let at = now - Duration::days(day) + Duration::minutes(i * 60 + 7);
                history.push(report(id, at, cell, None));
            }
        }
        Self {
            detector: Detector::new(config, &history, now),
            cells,
            now,
            next_id: id + 1,
        }
    }

    fn add(&mut self, minutes: i64, cell: CellIndex, building: Option<i64>) -> i64 {
        self.next_id += 1;
        let at = self.now + Duration::minutes(minutes);
        self.detector
            .observe(report(self.next_id, at, cell, building));
        self.next_id
    }

    fn at(&mut self, minutes: i64) -> Vec<Transition> {
        self.detector
            .evaluate(self.now + Duration::minutes(minutes))
    }
}

fn report(id: i64, at: DateTime<Utc>, cell: CellIndex, building: Option<i64>) -> Report {
    let ll = LatLng::from(cell);
    Report {
        id,
        at,
        lat: ll.lat(),
        lon: ll.lng(),
        // A finer cell than the detector's: it takes the parent.
        cell: ll.to_cell(Resolution::Eleven),
        grid: 40 + id % 2,
        group: "city_management".into(),
        building,
    }
}

fn raised(t: &[Transition]) -> Vec<&Warning> {
    t.iter()
        .filter_map(|t| match t {
            Transition::Raised(w) => Some(w),
            Transition::Cleared { .. } => None,
        })
        .collect()
}

#[test]
fn an_outbreak_is_raised_once_and_cleared_when_it_leaves_the_window() {
    let mut f = Fixture::new();
    assert!(f.at(0).is_empty());
    let hot = f.cells[7];
    // Distinct buildings at one point: no repeat, only the rate.
    let ids: Vec<i64> = (0..5)
        .map(|i| f.add(10 + 10 * i, hot, Some(100 + i)))
        .collect();
    // Two cases by minute 25: fewer than `min_observed`.
    let early = f.at(25);
    assert!(early.is_empty(), "{early:?}");
    let t = f.at(60);
    let w = raised(&t);
    assert_eq!(w.len(), 1, "{t:?}");
    let w = w[0].clone();
    assert_eq!(w.kind, Kind::Rate);
    assert_eq!(w.cells, vec![hot.to_string()]);
    assert_eq!(w.cases, ids);
    assert_eq!(w.observed, 5);
    assert_eq!(w.grids, vec![40, 41]);
    assert_eq!(w.key, format!("rate:city_management:{hot}:{}", ids[0]));
    // Re-evaluating, and a sixth case, raise nothing new.
    assert!(f.at(65).is_empty());
    f.add(70, hot, Some(200));
    assert!(f.at(75).is_empty());
    assert_eq!(f.detector.active().count(), 1);
    // Two hours after the last case the window holds none of them: cleared.
    let mut cleared_at = None;
    for minute in (80..=240).step_by(5) {
        for t in f.at(minute) {
            if let Transition::Cleared { key, at } = t {
                assert_eq!(key, w.key);
                cleared_at = Some(at);
            }
        }
    }
    let cleared_at = cleared_at.expect("cleared");
    assert!(cleared_at > f.now + Duration::minutes(130), "{cleared_at}");
    assert!(cleared_at <= f.now + Duration::minutes(200), "{cleared_at}");
    assert_eq!(f.detector.active().count(), 0);
}

#[test]
fn three_neighbouring_cells_are_one_cluster_warning() {
    let mut f = Fixture::new();
    let centre = LatLng::new(36.19, 113.11)
        .unwrap()
        .to_cell(Resolution::Nine);
    let ring: Vec<CellIndex> = centre.grid_ring_fast(1).flatten().collect();
    // Two consecutive cells of a ring are neighbours of each other and of the centre.
    let (left, right) = (ring[0], ring[1]);
    assert!(left.is_neighbor_with(right).unwrap());
    let mut building = 100;
    let mut planted = Vec::new();
    for (minute, cell) in [
        (5, centre),
        (15, left),
        (25, right),
        (35, centre),
        (45, left),
        (55, right),
    ] {
        building += 1;
        planted.push(f.add(minute, cell, Some(building)));
    }
    let transitions: Vec<Transition> = (1..=24).flat_map(|m| f.at(m * 5)).collect();
    let found = raised(&transitions);
    assert_eq!(found.len(), 1, "{transitions:?}");
    assert_eq!(found[0].kind, Kind::Cluster);
    assert_eq!(found[0].cells.len(), 7);
    for cell in [centre, left, right] {
        assert!(found[0].cells.contains(&cell.to_string()));
    }
    // Raised as soon as the excess was improbable, before the sixth case; its evidence is the
    // planted cases then in the window, and the later ones raise nothing new.
    assert!(found[0].cases.len() >= 3, "{:?}", found[0]);
    assert!(found[0].cases.iter().all(|id| planted.contains(id)));
}

#[test]
fn the_same_input_gives_the_same_keys() {
    let run = || {
        let mut f = Fixture::new();
        let hot = f.cells[3];
        for i in 0..6 {
            f.add(5 * i, hot, Some(9));
        }
        (0..40).flat_map(|m| f.at(m * 5)).collect::<Vec<_>>()
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    assert!(!a.is_empty());
}

#[test]
fn a_building_reported_three_times_is_a_repeat_until_the_day_passes() {
    let mut f = Fixture::new();
    // Spread over the day and over three cells, so no rate warning competes.
    let a = f.add(0, f.cells[0], Some(12));
    f.add(300, f.cells[1], Some(12));
    assert!(raised(&f.at(301)).is_empty());
    f.add(600, f.cells[2], Some(12));
    let t = f.at(601);
    let w = raised(&t);
    assert_eq!(w.len(), 1, "{t:?}");
    assert_eq!(w[0].kind, Kind::Repeat);
    assert_eq!(w[0].building, Some(12));
    assert_eq!(w[0].key, format!("repeat:city_management:b12:{a}"));
    assert_eq!(w[0].cells.len(), 3);
    let key = w[0].key.clone();
    // A fourth report keeps it; once the first report is a day old, three remain.
    f.add(900, f.cells[2], Some(12));
    assert!(f.at(1000).is_empty());
    assert!(f.at(24 * 60 + 1).is_empty());
    // After the second is a day old too, two remain: cleared.
    let t = f.at(24 * 60 + 301);
    assert_eq!(
        t,
        vec![Transition::Cleared {
            key,
            at: f.now + Duration::minutes(24 * 60 + 301)
        }]
    );
}

#[test]
fn live_state_keeps_one_horizon_and_counts_a_report_once() {
    let mut f = Fixture::new();
    let start = f.detector.live_len();
    // Only the history's last day is live.
    assert!(start <= f.cells.len(), "{start}");
    let id = f.add(10, f.cells[0], None);
    let again = report(id, f.now + Duration::minutes(10), f.cells[0], None);
    f.detector.observe(again);
    assert_eq!(f.detector.live_len(), start + 1);
    f.at(3 * 24 * 60);
    assert_eq!(f.detector.live_len(), 0);
    // A report older than the horizon is not taken.
    let old = report(999_999, f.now, f.cells[0], None);
    f.detector.observe(old);
    assert_eq!(f.detector.live_len(), 0);
}

#[test]
fn relearning_keeps_live_reports_and_active_warnings() {
    let mut f = Fixture::new();
    let hot = f.cells[2];
    for i in 0..6 {
        f.add(i, hot, Some(100 + i));
    }
    assert_eq!(raised(&f.at(10)).len(), 1);
    let history: Vec<Report> = Vec::new();
    f.detector.relearn(&history, f.now + Duration::minutes(10));
    assert_eq!(f.detector.active().count(), 1);
    // With no history the floor applies: one case a day area-wide.
    let day =
        f.detector
            .baseline()
            .area_expected("city_management", f.now, f.now + Duration::days(1));
    assert!((day - 1.0).abs() < 1e-9);
}
