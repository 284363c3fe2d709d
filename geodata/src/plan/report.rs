//! The plan report: share of grids in range, Polsby–Popper compactness of each grid's
//! outline, and why each grid outside the range is outside.
//!
//! Works from the finished grids, the community cells and the cell loads only, so it checks
//! the partitioner from outside rather than trusting what it meant to do. It must not cut or
//! move cells.

use super::PlannedGrid;
use crate::cells::{CellGraph, polsby_popper};
use crate::partition::{CellLoad, PartitionRules, components};
use h3o::CellIndex;
use rayon::prelude::*;
use std::collections::HashMap;
use std::hash::BuildHasher;

/// Why a grid is outside the household range. Every variant but
/// [`OutOfRange::Unresolved`] is forced by the input: no contiguous partition could put that
/// grid in range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutOfRange {
    /// One building holds more households than the maximum (a tower); the grid is its cell.
    SingleBuilding {
        /// Households of that building.
        building_households: u32,
    },
    /// One cell holds more households than the maximum, from several buildings; a cell is
    /// never split, so the grid is that cell alone.
    CellOverMax {
        /// Households of the cell.
        households: u32,
        /// Buildings in it.
        buildings: u32,
    },
    /// The grid's component (its community's cells connected to it without crossing a cell
    /// over the maximum: an island cut off by the community boundary or by towers) holds
    /// fewer households than the minimum in total.
    SmallComponent {
        /// Households of the whole component.
        component_households: u32,
    },
    /// The grid's component holds a total that no number of grids puts in range (between
    /// `k × max` and `(k + 1) × min` for some `k`, e.g. 160 with 100–150: one grid is over,
    /// two are under).
    NoFeasibleCount {
        /// Households of the whole component.
        component_households: u32,
    },
    /// Nothing in the input forces it: the partitioner did not find a split in range.
    Unresolved {
        /// Households of the grid.
        households: u32,
    },
}

impl OutOfRange {
    /// Whether the input forces the grid out of range (every variant but `Unresolved`).
    #[must_use]
    pub fn is_forced(&self) -> bool {
        !matches!(self, Self::Unresolved { .. })
    }
}

/// The figures of one grid, in the order of [`super::CityPlan::grids`].
#[derive(Debug, Clone, PartialEq)]
pub struct GridReport {
    /// The grid's 15-digit code.
    pub code: String,
    /// Its households.
    pub households: u32,
    /// Polsby–Popper compactness of its dissolved outline (`4πA / P²`, see
    /// [`crate::cells::polsby_popper`]); 0.907 for a single cell.
    pub polsby_popper: f64,
    /// Why it is outside the range; `None` when it is in range.
    pub reason: Option<OutOfRange>,
}

/// The figures of a whole plan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlanReport {
    /// Number of grids.
    pub grids: usize,
    /// Grids within `min..=max` households.
    pub in_range: usize,
    /// `in_range / grids` (0 without grids).
    pub share_in_range: f64,
    /// Grids outside the range for a reason the input forces ([`OutOfRange::is_forced`]).
    pub forced_out_of_range: usize,
    /// `in_range / (grids − forced_out_of_range)`: the share of the grids that can be in
    /// range that are (1 when none can).
    pub share_in_range_of_possible: f64,
    /// Mean Polsby–Popper over all grids.
    pub polsby_popper_mean: f64,
    /// Lowest Polsby–Popper of any grid.
    pub polsby_popper_min: f64,
    /// One entry per grid, in the order of the plan's grids.
    pub per_grid: Vec<GridReport>,
}

/// Builds the report of `grids`, cut from `communities` (each a community's cells), with
/// `loads` per cell; measures each grid's Polsby–Popper from its cells.
pub(super) fn report<'a, S: BuildHasher + Sync>(
    communities: impl IntoIterator<Item = (&'a str, &'a [CellIndex])>,
    grids: &[PlannedGrid],
    loads: &HashMap<CellIndex, CellLoad, S>,
    rules: &PartitionRules,
) -> PlanReport {
    let compactness: Vec<f64> = grids
        .par_iter()
        .map(|grid| polsby_popper(&grid.cells))
        .collect();
    report_measured(communities, grids, &compactness, loads, rules)
}

/// [`report`] with each grid's Polsby–Popper already measured (`compactness`, aligned with
/// `grids`, equal to [`polsby_popper`] of its cells): the planner measures it on the cell
/// graph it cut the community on, at a fraction of the cost.
#[expect(clippy::cast_precision_loss, reason = "grid counts are far below 2^52")]
pub(super) fn report_measured<'a, S: BuildHasher + Sync>(
    communities: impl IntoIterator<Item = (&'a str, &'a [CellIndex])>,
    grids: &[PlannedGrid],
    compactness: &[f64],
    loads: &HashMap<CellIndex, CellLoad, S>,
    rules: &PartitionRules,
) -> PlanReport {
    let (min, max) = (rules.min_households, rules.max_households);
    let households = |c: &CellIndex| loads.get(c).map_or(0, |l| l.households);
    // Only communities with a grid out of range that is not one cell over the maximum need
    // their components: most have none, and building their graphs is the slow part.
    let over_cell = |g: &PlannedGrid| g.cells.len() == 1 && g.households > max;
    let wanted: std::collections::HashSet<&str> = grids
        .iter()
        .filter(|g| !(min..=max).contains(&g.households) && !over_cell(g))
        .map(|g| g.community_code.as_str())
        .collect();
    // Households of the component each cell belongs to (cells over the maximum stand alone).
    let mut component_of: HashMap<CellIndex, u32> = HashMap::new();
    for (code, cells) in communities {
        if !wanted.contains(code) {
            continue;
        }
        let graph = CellGraph::new(cells);
        let over = |id: u32| households(&graph.cells[id as usize]) > max;
        for component in components(&graph, |id| !over(id)) {
            let total = component
                .iter()
                .map(|&id| households(&graph.cells[id as usize]))
                .fold(0_u32, u32::saturating_add);
            for id in component {
                component_of.insert(graph.cells[id as usize], total);
            }
        }
    }

    let per_grid: Vec<GridReport> = grids
        .iter()
        .zip(compactness)
        .map(|(grid, &polsby_popper)| GridReport {
            code: grid.code.clone(),
            households: grid.households,
            polsby_popper,
            reason: reason(grid, loads, &component_of, min, max),
        })
        .collect();
    let count = per_grid.len();
    let in_range = per_grid.iter().filter(|g| g.reason.is_none()).count();
    let forced = per_grid
        .iter()
        .filter(|g| g.reason.is_some_and(|r| r.is_forced()))
        .count();
    let possible = count - forced;
    let mean = if count == 0 {
        0.0
    } else {
        per_grid.iter().map(|g| g.polsby_popper).sum::<f64>() / count as f64
    };
    PlanReport {
        grids: count,
        in_range,
        share_in_range: if count == 0 {
            0.0
        } else {
            in_range as f64 / count as f64
        },
        forced_out_of_range: forced,
        share_in_range_of_possible: if possible == 0 {
            1.0
        } else {
            in_range as f64 / possible as f64
        },
        polsby_popper_mean: mean,
        polsby_popper_min: per_grid
            .iter()
            .map(|g| g.polsby_popper)
            .reduce(f64::min)
            .unwrap_or(0.0),
        per_grid,
    }
}

fn reason<S: BuildHasher>(
    grid: &PlannedGrid,
    loads: &HashMap<CellIndex, CellLoad, S>,
    component_of: &HashMap<CellIndex, u32>,
    min: u32,
    max: u32,
) -> Option<OutOfRange> {
    let h = grid.households;
    if (min..=max).contains(&h) {
        return None;
    }
    if let [cell] = grid.cells.as_slice()
        && let Some(load) = loads.get(cell).filter(|l| l.households > max)
    {
        return Some(if load.max_building_households > max {
            OutOfRange::SingleBuilding {
                building_households: load.max_building_households,
            }
        } else {
            OutOfRange::CellOverMax {
                households: load.households,
                buildings: load.buildings,
            }
        });
    }
    // Grids never straddle components (an over-max cell is its own grid), so any cell
    // tells the component.
    let total = grid
        .cells
        .first()
        .and_then(|c| component_of.get(c))
        .copied()
        .unwrap_or(h);
    if total < min {
        return Some(OutOfRange::SmallComponent {
            component_households: total,
        });
    }
    // Some k with k × min <= total <= k × max exists iff ceil(total / max) <= total / min.
    if max > 0 && total.div_ceil(max) > total / min.max(1) {
        return Some(OutOfRange::NoFeasibleCount {
            component_households: total,
        });
    }
    Some(OutOfRange::Unresolved { households: h })
}

#[cfg(test)]
mod tests {
    use super::*;
    use h3o::{LatLng, Resolution};

    fn cell(lat: f64, lon: f64) -> CellIndex {
        LatLng::new(lat, lon)
            .expect("valid")
            .to_cell(Resolution::Twelve)
    }

    fn load(buildings: &[u32]) -> CellLoad {
        let mut load = CellLoad::default();
        for &h in buildings {
            load.add_building(h);
        }
        load
    }

    fn grid(
        code: &str,
        cells: Vec<CellIndex>,
        loads: &HashMap<CellIndex, CellLoad>,
    ) -> PlannedGrid {
        let households = cells
            .iter()
            .filter_map(|c| loads.get(c))
            .map(|l| l.households)
            .sum();
        PlannedGrid {
            community_code: code[..12].to_owned(),
            code: code.to_owned(),
            cells,
            households,
            building_count: 0,
            flag: None,
        }
    }

    #[test]
    fn reasons_name_what_forces_a_grid_out_of_range() {
        let rules = PartitionRules::default();
        // Community A: a disk whose centre holds a tower of 300, ringed by cells holding 20
        // each (6 × 20 = 120 in the ring: one grid in range).
        let centre = cell(36.19, 113.11);
        let ring: Vec<CellIndex> = centre.grid_ring_fast(1).map(|c| c.expect("ring")).collect();
        // Community B, far away: two cells of 40 (80, an island under the minimum).
        let island = cell(36.30, 113.30);
        let island2 = island
            .grid_ring_fast(1)
            .next()
            .flatten()
            .expect("neighbour");
        // Community C: one cell of 160 from two buildings of 80.
        let crowded = cell(36.40, 113.40);
        // Community D: a pair of cells with 80 each (160: one grid over, two under).
        let pair = cell(36.50, 113.50);
        let pair2 = pair.grid_ring_fast(1).next().flatten().expect("neighbour");
        // Community E: one disk of 300 households cut badly into 40 + 260.
        let e = cell(36.60, 113.60);
        let e_ring: Vec<CellIndex> = e.grid_ring_fast(1).map(|c| c.expect("ring")).collect();

        let mut loads = HashMap::new();
        loads.insert(centre, load(&[300]));
        for &c in &ring {
            loads.insert(c, load(&[20]));
        }
        loads.insert(island, load(&[40]));
        loads.insert(island2, load(&[40]));
        loads.insert(crowded, load(&[80, 80]));
        loads.insert(pair, load(&[80]));
        loads.insert(pair2, load(&[80]));
        loads.insert(e, load(&[40]));
        for &c in &e_ring {
            loads.insert(c, load(&[260 / 6 + 1]));
        }

        let mut a = ring.clone();
        a.push(centre);
        let communities: Vec<(&str, Vec<CellIndex>)> = vec![
            ("000000001001", a),
            ("000000001002", vec![island, island2]),
            ("000000001003", vec![crowded]),
            ("000000001004", vec![pair, pair2]),
            (
                "000000001005",
                std::iter::once(e).chain(e_ring.iter().copied()).collect(),
            ),
        ];
        let grids = vec![
            grid("000000001001001", vec![centre], &loads),
            grid("000000001001002", ring, &loads),
            grid("000000001002001", vec![island, island2], &loads),
            grid("000000001003001", vec![crowded], &loads),
            grid("000000001004001", vec![pair, pair2], &loads),
            grid("000000001005001", vec![e], &loads),
            grid("000000001005002", e_ring, &loads),
        ];
        let report = report(
            communities
                .iter()
                .map(|(code, cells)| (*code, cells.as_slice())),
            &grids,
            &loads,
            &rules,
        );
        let reasons: Vec<Option<OutOfRange>> = report.per_grid.iter().map(|g| g.reason).collect();
        assert_eq!(
            reasons,
            vec![
                Some(OutOfRange::SingleBuilding {
                    building_households: 300
                }),
                None,
                Some(OutOfRange::SmallComponent {
                    component_households: 80
                }),
                Some(OutOfRange::CellOverMax {
                    households: 160,
                    buildings: 2
                }),
                Some(OutOfRange::NoFeasibleCount {
                    component_households: 160
                }),
                Some(OutOfRange::Unresolved { households: 40 }),
                Some(OutOfRange::Unresolved {
                    households: 6 * (260 / 6 + 1)
                }),
            ]
        );
        assert_eq!(
            (report.grids, report.in_range, report.forced_out_of_range),
            (7, 1, 4)
        );
        assert!((report.share_in_range - 1.0 / 7.0).abs() < 1e-12);
        assert!((report.share_in_range_of_possible - 1.0 / 3.0).abs() < 1e-12);
        // One-cell grids are hexagons: π/(2√3) ≈ 0.907, within the cells' irregularity.
        let hexagon = std::f64::consts::PI / (2.0 * 3_f64.sqrt());
        assert!((report.per_grid[0].polsby_popper - hexagon).abs() < 0.01);
        // A ring has a hole: far less compact than a hexagon.
        assert!(report.per_grid[1].polsby_popper < 0.5);
        assert!(report.polsby_popper_min <= report.polsby_popper_mean);
    }
}
