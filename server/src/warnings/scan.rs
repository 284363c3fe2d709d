//! The per-cell test and the space-time zone scan over one window.
//!
//! Two families of tests run at every evaluation, each corrected on its own with Benjamini–Hochberg:
//! every cell alone (`rate`), and every cell with its neighbours up to ring `scan_radius`
//! (`cluster`; the zones of Kulldorff's prospective scan, restricted to H3 disks). A zone's p-value
//! is the exact Poisson tail of its count under its summed expectation, and zones are ordered by the
//! expectation-based likelihood ratio. Overlapping significant zones are one finding: the zone with
//! the highest ratio stands for all that overlap it (Kulldorff's "most likely cluster", then the
//! secondary clusters that do not overlap it), so an outbreak over three neighbouring cells, which
//! makes a dozen overlapping disks significant, comes out once.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use h3o::CellIndex;
use rustc_hash::FxHashMap;

use super::baseline::Baseline;
use super::bh;
use super::model::Config;
use super::poisson::{llr, upper_tail};

/// One case in the window: its group, its cell at the detector's resolution, its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case<'a> {
    pub group: &'a str,
    pub cell: CellIndex,
    pub id: i64,
}

/// A significant zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    pub group: String,
    /// The disk's centre.
    pub centre: CellIndex,
    /// 0 for one cell (`rate`), else the ring of the disk (`cluster`).
    pub radius: u32,
    /// The disk's cells, sorted.
    pub cells: Vec<CellIndex>,
    pub observed: u64,
    pub expected: f64,
    pub p_value: f64,
    pub llr: f64,
    /// The ids of its cases, sorted.
    pub cases: Vec<i64>,
}

/// A candidate before correction.
struct Candidate {
    centre: CellIndex,
    radius: u32,
    cells: Vec<CellIndex>,
    observed: u64,
    expected: f64,
    p_value: f64,
}

/// The significant, non-overlapping zones of `cases` in the window `[from, to)`, strongest first
/// (by likelihood ratio; ties go to the smaller zone, then by group and centre, so the order is
/// stable).
#[must_use]
pub fn scan(
    config: &Config,
    baseline: &Baseline,
    cases: &[Case<'_>],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Zone> {
    let mut by_group: BTreeMap<&str, FxHashMap<CellIndex, Vec<i64>>> = BTreeMap::new();
    for case in cases {
        by_group
            .entry(case.group)
            .or_default()
            .entry(case.cell)
            .or_default()
            .push(case.id);
    }
    let known = baseline.cells();
    let mut singles: Vec<(&str, Candidate)> = Vec::new();
    let mut disks: Vec<(&str, Candidate)> = Vec::new();
    let (mut m_single, mut m_disk) = (0_usize, 0_usize);
    for (&group, counts) in &by_group {
        let area = baseline.area_expected(group, from, to);
        let expected = |cell: CellIndex| baseline.share(group, cell) * area;
        let count = |cell: &CellIndex| counts.get(cell).map_or(0, Vec::len) as u64;
        let mut hot: Vec<CellIndex> = counts.keys().copied().collect();
        hot.sort_unstable();
        let unknown_hot = hot
            .iter()
            .filter(|c| known.binary_search(c).is_err())
            .count();
        let universe = known.len() + unknown_hot;
        m_single += universe;
        m_disk += universe * config.scan_radius as usize;
        for &cell in &hot {
            let (c, e) = (count(&cell), expected(cell));
            singles.push((group, candidate(cell, 0, vec![cell], c, e)));
        }
        if config.scan_radius == 0 {
            continue;
        }
        let mut centres: Vec<CellIndex> = hot
            .iter()
            .flat_map(|cell| cell.grid_disk::<Vec<_>>(config.scan_radius))
            .collect();
        centres.sort_unstable();
        centres.dedup();
        for centre in centres {
            for radius in 1..=config.scan_radius {
                let mut cells: Vec<CellIndex> = centre.grid_disk(radius);
                cells.sort_unstable();
                let c: u64 = cells.iter().map(count).sum();
                if c < config.min_observed {
                    continue;
                }
                let e: f64 = cells.iter().map(|&cell| expected(cell)).sum();
                disks.push((group, candidate(centre, radius, cells, c, e)));
            }
        }
    }
    let mut significant: Vec<(&str, Candidate)> = Vec::new();
    for (family, m) in [(singles, m_single), (disks, m_disk)] {
        let p: Vec<f64> = family.iter().map(|(_, c)| c.p_value).collect();
        if let Some(cut) = bh::threshold(&p, m, config.q) {
            significant.extend(
                family
                    .into_iter()
                    .filter(|(_, c)| c.p_value <= cut && c.observed >= config.min_observed),
            );
        }
    }
    merge(&by_group, significant)
}

/// Overlapping zones are one finding: strongest first, each zone kept unless it shares a cell with a
/// zone of its group kept before it.
fn merge(
    by_group: &BTreeMap<&str, FxHashMap<CellIndex, Vec<i64>>>,
    mut significant: Vec<(&str, Candidate)>,
) -> Vec<Zone> {
    let strength = |c: &Candidate| llr(c.observed, c.expected);
    significant.sort_by(|(ga, a), (gb, b)| {
        strength(b)
            .total_cmp(&strength(a))
            .then_with(|| a.radius.cmp(&b.radius))
            .then_with(|| ga.cmp(gb))
            .then_with(|| a.centre.cmp(&b.centre))
    });
    let mut chosen: Vec<Zone> = Vec::new();
    for (group, c) in significant {
        let overlaps = chosen.iter().any(|z| {
            z.group == group
                && z.cells
                    .iter()
                    .any(|cell| c.cells.binary_search(cell).is_ok())
        });
        if overlaps {
            continue;
        }
        let counts = &by_group[group];
        let mut ids: Vec<i64> = c
            .cells
            .iter()
            .filter_map(|cell| counts.get(cell))
            .flatten()
            .copied()
            .collect();
        ids.sort_unstable();
        chosen.push(Zone {
            group: group.to_owned(),
            centre: c.centre,
            radius: c.radius,
            llr: strength(&c),
            cells: c.cells,
            observed: c.observed,
            expected: c.expected,
            p_value: c.p_value,
            cases: ids,
        });
    }
    chosen
}

fn candidate(
    centre: CellIndex,
    radius: u32,
    cells: Vec<CellIndex>,
    observed: u64,
    expected: f64,
) -> Candidate {
    Candidate {
        centre,
        radius,
        cells,
        observed,
        expected,
        p_value: upper_tail(observed, expected),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warnings::baseline::Method;
    use crate::warnings::model::Report;
    use chrono::TimeZone as _;
    use h3o::{LatLng, Resolution};

    /// A baseline over the 37 cells of a ring-3 disk around Dongjie's centre: one case a day in
    /// each for four weeks, flat, so every cell expects 1/12 of a case in 2 h.
    fn setup() -> (Config, Baseline, Vec<CellIndex>, DateTime<Utc>) {
        let config = Config {
            baseline: Method::Flat,
            prior_cases_per_cell: 0.0,
            utc_offset_s: 0,
            ..Config::default()
        };
        let centre = LatLng::new(36.19, 113.11)
            .unwrap()
            .to_cell(Resolution::Nine);
        let mut cells: Vec<CellIndex> = centre.grid_disk(3);
        cells.sort_unstable();
        let start = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap();
        let mut history = Vec::new();
        for day in 0..28 {
            for (i, &cell) in (0_i64..).zip(&cells) {
                let ll = LatLng::from(cell);
                history.push(Report {
                    id: day * 100 + i,
                    at: start
                        + chrono::Duration::hours(24 * day)
                        + chrono::Duration::minutes(i * 30),
                    lat: ll.lat(),
                    lon: ll.lng(),
                    cell,
                    grid: 1,
                    group: "g".into(),
                    building: None,
                });
            }
        }
        let end = start + chrono::Duration::days(28);
        let baseline = Baseline::learn(&config, &history, start, end);
        (config, baseline, cells, end)
    }

    fn cases(cells: &[(CellIndex, usize)]) -> Vec<Case<'static>> {
        let mut out = Vec::new();
        let mut id = 0;
        for &(cell, n) in cells {
            for _ in 0..n {
                out.push(Case {
                    group: "g",
                    cell,
                    id,
                });
                id += 1;
            }
        }
        out
    }

    #[test]
    fn quiet_window_raises_nothing() {
        let (config, baseline, cells, now) = setup();
        let window = cases(&[(cells[0], 1), (cells[5], 1), (cells[9], 1)]);
        let found = scan(
            &config,
            &baseline,
            &window,
            now - chrono::Duration::hours(2),
            now,
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn five_cases_in_one_cell_are_one_rate_zone() {
        let (config, baseline, cells, now) = setup();
        let hot = cells[18];
        let window = cases(&[(hot, 5), (cells[2], 1)]);
        let found = scan(
            &config,
            &baseline,
            &window,
            now - chrono::Duration::hours(2),
            now,
        );
        assert_eq!(found.len(), 1, "{found:?}");
        let zone = &found[0];
        assert_eq!(
            (zone.radius, zone.cells.clone(), zone.observed),
            (0, vec![hot], 5)
        );
        assert!((zone.expected - 1.0 / 12.0).abs() < 1e-9);
        assert!((zone.p_value - upper_tail(5, 1.0 / 12.0)).abs() < 1e-20);
        assert_eq!(zone.cases, vec![0, 1, 2, 3, 4]);
    }

    /// Three mutually neighbouring cells with two cases each: no cell alone is improbable enough
    /// among 37 (p = 0.0033 each), but the disks holding all three are, and they come out once.
    #[test]
    fn a_planted_three_cell_cluster_is_one_zone() {
        let (config, baseline, _, now) = setup();
        let centre = LatLng::new(36.19, 113.11)
            .unwrap()
            .to_cell(Resolution::Nine);
        let ring: Vec<CellIndex> = centre.grid_disk::<Vec<_>>(1);
        let a = centre;
        let b = ring.iter().copied().find(|&c| c != a).unwrap();
        let c = ring
            .iter()
            .copied()
            .find(|&c| c != a && c != b && c.is_neighbor_with(b).unwrap_or(false))
            .unwrap();
        let window = cases(&[(a, 2), (b, 2), (c, 2)]);
        let strict = Config {
            min_observed: 2,
            ..config
        };
        let found = scan(
            &strict,
            &baseline,
            &window,
            now - chrono::Duration::hours(2),
            now,
        );
        assert_eq!(found.len(), 1, "{found:?}");
        let zone = &found[0];
        assert_eq!(zone.radius, 1);
        for cell in [a, b, c] {
            assert!(zone.cells.contains(&cell));
        }
        assert_eq!(zone.observed, 6);
        assert_eq!(zone.cases.len(), 6);
        // Without the scan the same cases raise nothing.
        let no_scan = Config {
            scan_radius: 0,
            ..strict
        };
        assert!(
            scan(
                &no_scan,
                &baseline,
                &window,
                now - chrono::Duration::hours(2),
                now
            )
            .is_empty()
        );
    }

    #[test]
    fn two_distant_outbreaks_are_two_zones_in_a_stable_order() {
        let (config, baseline, cells, now) = setup();
        let centre = LatLng::new(36.19, 113.11)
            .unwrap()
            .to_cell(Resolution::Nine);
        let far: Vec<CellIndex> = centre.grid_ring_fast(3).flatten().collect();
        let window = cases(&[(far[0], 5), (far[3], 6), (cells[1], 1)]);
        let from = now - chrono::Duration::hours(2);
        let found = scan(&config, &baseline, &window, from, now);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].cells, vec![far[3]]);
        assert_eq!(found[1].cells, vec![far[0]]);
        let mut reversed = window.clone();
        reversed.reverse();
        assert_eq!(scan(&config, &baseline, &reversed, from, now), found);
    }
}
