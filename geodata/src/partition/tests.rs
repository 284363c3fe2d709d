//! Property-style tests of the partitioner on random synthetic inputs.

use super::*;
use crate::barriers::Barriers;
use h3o::{LatLng, Resolution};
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;

fn disk(lat: f64, lon: f64, k: u32) -> Vec<CellIndex> {
    let centre = LatLng::new(lat, lon)
        .expect("valid")
        .to_cell(Resolution::Twelve);
    centre.grid_disk(k)
}

use crate::test_support::is_contiguous;

fn random_loads(
    cells: &[CellIndex],
    rng: &mut ChaCha8Rng,
    density: f64,
    max_households: u32,
) -> HashMap<CellIndex, CellLoad> {
    let mut loads = HashMap::new();
    for &cell in cells {
        if rng.random_bool(density) {
            let mut load = CellLoad::default();
            load.add_building(rng.random_range(1..=max_households));
            loads.insert(cell, load);
        }
    }
    loads
}

fn check_invariants(cells: &[CellIndex], grids: &[Vec<CellIndex>]) {
    let mut seen = HashSet::new();
    for grid in grids {
        assert!(!grid.is_empty());
        for &cell in grid {
            assert!(seen.insert(cell), "{cell} is in two grids");
        }
        assert!(
            is_contiguous(grid),
            "grid of {} cells is not contiguous",
            grid.len()
        );
    }
    let input: HashSet<CellIndex> = cells.iter().copied().collect();
    assert_eq!(seen, input, "every cell exactly once");
}

#[test]
fn random_inputs_keep_every_cell_once_and_grids_contiguous() {
    for seed in 0..16_u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let lat = 36.0 + rng.random_range(0.0..1.0);
        let lon = 113.0 + rng.random_range(0.0..1.0);
        let mut cells = disk(lat, lon, rng.random_range(8..40));
        // Carve holes so shapes are not convex (the rest may split into several pieces).
        let holes = rng.random_range(0..5);
        for _ in 0..holes {
            let at = cells[rng.random_range(0..cells.len())];
            let hole: HashSet<CellIndex> = at
                .grid_disk::<Vec<_>>(rng.random_range(1..4))
                .into_iter()
                .collect();
            cells.retain(|c| !hole.contains(c));
        }
        let density = rng.random_range(0.05..0.5);
        let biggest = rng.random_range(5..60);
        let loads = random_loads(&cells, &mut rng, density, biggest);
        let grids = partition_cells(&cells, &loads, &PartitionRules::default());
        check_invariants(&cells, &grids);
    }
}

#[test]
fn grids_land_in_range_on_even_load() {
    let cells = disk(36.19, 113.11, 40);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let loads = random_loads(&cells, &mut rng, 0.12, 30);
    let total: u32 = loads.values().map(|l| l.households).sum();
    let grids = partition_cells(&cells, &loads, &PartitionRules::default());
    check_invariants(&cells, &grids);
    let sums: Vec<u32> = grids
        .iter()
        .map(|g| {
            g.iter()
                .filter_map(|c| loads.get(c))
                .map(|l| l.households)
                .sum()
        })
        .collect();
    let in_range = sums.iter().filter(|&&h| (100..=150).contains(&h)).count();
    eprintln!(
        "{} households in {} grids, {in_range} in range: {sums:?}",
        total,
        grids.len()
    );
    assert_eq!(in_range, grids.len());
}

#[test]
fn an_oversize_cell_is_its_own_grid() {
    let cells = disk(36.19, 113.11, 12);
    let mut loads = HashMap::new();
    let mut tower = CellLoad::default();
    tower.add_building(200);
    loads.insert(cells[0], tower);
    for &cell in cells.iter().skip(1).step_by(5) {
        let mut load = CellLoad::default();
        load.add_building(20);
        loads.insert(cell, load);
    }
    let grids = partition_cells(&cells, &loads, &PartitionRules::default());
    check_invariants(&cells, &grids);
    assert!(grids.iter().any(|g| g == &vec![cells[0]]));
}

#[test]
fn empty_and_tiny_inputs() {
    assert!(partition_cells(&[], &HashMap::new(), &PartitionRules::default()).is_empty());
    let cells = disk(36.19, 113.11, 3);
    let grids = partition_cells(&cells, &HashMap::new(), &PartitionRules::default());
    assert_eq!(grids.len(), 1, "no households: one grid");
    check_invariants(&cells, &grids);
}

#[test]
fn choose_k_puts_the_mean_in_range() {
    assert_eq!(choose_k(0, 100, 150, 10), 1);
    assert_eq!(choose_k(125, 100, 150, 10), 1);
    assert_eq!(choose_k(12_250, 100, 150, 20_000), 98);
    // 160: one grid of 160 (10 over) beats two of 80 (40 under).
    assert_eq!(choose_k(160, 100, 150, 10), 1);
    // 290: k = round(2.32) = 2 gives 145.
    assert_eq!(choose_k(290, 100, 150, 10), 2);
    // Never more groups than cells.
    assert_eq!(choose_k(10_000, 100, 150, 3), 3);
}

#[test]
fn refine_splits_two_adjacent_lumps_that_one_grid_holds() {
    // Two adjacent cells of 77 and 85 households (162 together) in a disk whose other
    // cells hold 130 in all: two grids of 100–150 exist only with the lumps apart.
    let cells = disk(36.19, 113.11, 8);
    let graph = CellGraph::new(&cells);
    let centre = LatLng::new(36.19, 113.11)
        .expect("valid")
        .to_cell(Resolution::Twelve);
    let next = centre
        .grid_ring_fast(1)
        .next()
        .flatten()
        .expect("neighbour");
    let mut loads = vec![0_u64; graph.len()];
    let id = |c: CellIndex| graph.cells.binary_search(&c).expect("in the disk");
    loads[id(centre)] = 77;
    loads[id(next)] = 85;
    // 13 cells of 10 spread around the ring at distance 6.
    let ring: Vec<CellIndex> = centre
        .grid_ring_fast(6)
        .map(|c| c.expect("no pentagon"))
        .collect();
    for k in 0..13 {
        loads[id(ring[k * ring.len() / 13])] = 10;
    }
    assert_eq!(loads.iter().sum::<u64>(), 292);
    // A bad start: the inner disk of radius 3 (both lumps) against the rest.
    let (inner, outer): (Vec<u32>, Vec<u32>) = (0_u32..)
        .take(graph.len())
        .partition(|&i| graph.cells[i as usize].grid_distance(centre).expect("near") <= 3);
    let parts = refine(&graph, &loads, vec![inner, outer], 100, 150);
    let sums: Vec<u64> = parts
        .iter()
        .map(|p| p.iter().map(|&i| loads[i as usize]).sum())
        .collect();
    assert!(sums.iter().all(|s| (100..=150).contains(s)), "{sums:?}");
    let grids: Vec<Vec<CellIndex>> = parts
        .iter()
        .map(|p| p.iter().map(|&i| graph.cells[i as usize]).collect())
        .collect();
    check_invariants(&cells, &grids);
}

/// A disk of radius 9 (271 cells, one household each: two grids of about 135) and a major
/// road through it `offset_m` east of its centre, running `angle_deg` from east.
fn disk_with_road(
    offset_m: f64,
    angle_deg: f64,
) -> (Vec<CellIndex>, HashMap<CellIndex, CellLoad>, Barriers) {
    let cells = disk(36.19, 113.11, 9);
    let mut loads = HashMap::new();
    for &cell in &cells {
        let mut load = CellLoad::default();
        load.add_building(1);
        loads.insert(cell, load);
    }
    let centre = LatLng::new(36.19, 113.11)
        .expect("valid")
        .to_cell(Resolution::Twelve);
    let (lon0, lat0) = crate::cells::cell_center(centre);
    let m = crate::cells::M_PER_DEG;
    let to_deg = |e: f64, n: f64| (lon0 + e / (m * lat0.to_radians().cos()), lat0 + n / m);
    let (dx, dy) = (angle_deg.to_radians().cos(), angle_deg.to_radians().sin());
    let road = crate::LineRecord {
        kind: "primary".to_owned(),
        name: None,
        geometry: geo::LineString::from(vec![
            to_deg(offset_m - 600.0 * dx, -600.0 * dy),
            to_deg(offset_m + 600.0 * dx, 600.0 * dy),
        ]),
    };
    (cells, loads, Barriers::new(&[road], &[]))
}

#[test]
fn a_balanced_cut_along_a_road_is_taken() {
    // The road runs at 30° through the middle: cutting along it is as balanced as the
    // straight north–south or east–west cut, which does not follow it.
    let (cells, loads, barriers) = disk_with_road(1.0, 30.0);
    let rules = PartitionRules::default();
    let plain = partition_cells(&cells, &loads, &rules);
    let along = partition_cells_with_barriers(&cells, &loads, &rules, &barriers);
    for grids in [&plain, &along] {
        check_invariants(&cells, grids);
        assert_eq!(grids.len(), 2);
        for grid in grids {
            assert!((100..=150).contains(&grid.len()), "{}", grid.len());
        }
    }
    let share = |grids: &[Vec<CellIndex>]| {
        let groups: Vec<&[CellIndex]> = grids.iter().map(Vec::as_slice).collect();
        barriers.border_share(&groups)
    };
    let (before, after) = (share(&plain), share(&along));
    eprintln!("on the road: without barriers {before:?}, with {after:?}");
    assert!(before.major_share() < 0.5, "{before:?}");
    assert!(
        (after.major_share() - 1.0).abs() < f64::EPSILON,
        "{after:?}"
    );
    // Deterministic.
    assert_eq!(
        partition_cells_with_barriers(&cells, &loads, &rules, &barriers),
        along
    );
}

#[test]
fn a_road_that_would_unbalance_the_grids_is_not_followed() {
    // 110 m east of the centre: the side beyond the road holds too few households for a
    // grid, so the grids are the plain ones and stay in range.
    let (cells, loads, barriers) = disk_with_road(110.0, 90.0);
    let rules = PartitionRules::default();
    let along = partition_cells_with_barriers(&cells, &loads, &rules, &barriers);
    check_invariants(&cells, &along);
    assert_eq!(along.len(), 2);
    for grid in &along {
        assert!((100..=150).contains(&grid.len()), "{}", grid.len());
    }
    let groups: Vec<&[CellIndex]> = along.iter().map(Vec::as_slice).collect();
    assert!(barriers.border_share(&groups).major_share() < 0.5);
}

#[test]
fn without_barriers_among_the_cells_the_grids_are_the_plain_ones() {
    // The road is far away.
    let (cells, loads, _) = disk_with_road(1.0, 30.0);
    let (_, _, far) = disk_with_road(5_000.0, 90.0);
    let rules = PartitionRules::default();
    assert_eq!(
        partition_cells_with_barriers(&cells, &loads, &rules, &far),
        partition_cells(&cells, &loads, &rules)
    );
}
