//! Times the partitioner on deterministic data: one community of 1,000 buildings
//! ([`partition_cells`]) and a whole synthetic city of about 1,000,000 buildings
//! ([`plan_city`] on [`synthetic_metropolis`]); prints each run and the median.
//!
//! `cargo run --release -p gridwatch-geodata --example bench_plan [COMMUNITY_RUNS]
//! [CITY_RUNS] [STREETS] [plain]` — defaults 21, 3 and 1,330 streets (752 buildings each, so
//! 1,000,160 buildings). Wall clock on this machine; medians because it is shared. `plain`
//! plans the city without its roads and areas (no barriers), to time the partitioner alone.

use gridwatch_geodata::{
    CellLoad, PartitionRules, PlannedGrid, partition_cells, plan_city, synthetic_metropolis,
};
use h3o::{CellIndex, LatLng, Resolution};
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash as _, Hasher as _};
use std::time::{Duration, Instant};

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

/// A community of 1,000 buildings of 4–30 households each, at random cells of a disk of
/// 4,921 cells (radius 40 at resolution 12, about 1.5 km²) around Dongjie; seed 1.
fn community() -> (Vec<CellIndex>, HashMap<CellIndex, CellLoad>) {
    let centre = LatLng::new(36.19, 113.11)
        .expect("a valid coordinate")
        .to_cell(Resolution::Twelve);
    let cells: Vec<CellIndex> = centre.grid_disk(40);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut loads: HashMap<CellIndex, CellLoad> = HashMap::new();
    for _ in 0..1000 {
        let cell = cells[rng.random_range(0..cells.len())];
        loads
            .entry(cell)
            .or_default()
            .add_building(rng.random_range(4..=30));
    }
    (cells, loads)
}

/// A fingerprint of every grid's code and cells: two plans with the same digest are the
/// same plan (to check that a speed-up left the grids alone).
fn digest(grids: &[PlannedGrid]) -> u64 {
    let mut hasher = DefaultHasher::new();
    for grid in grids {
        grid.code.hash(&mut hasher);
        grid.cells.hash(&mut hasher);
    }
    hasher.finish()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let community_runs: usize = args.next().map_or(Ok(21), |a| a.parse())?;
    let city_runs: usize = args.next().map_or(Ok(3), |a| a.parse())?;
    let streets: usize = args.next().map_or(Ok(1330), |a| a.parse())?;
    let no_barriers = args.next().is_some_and(|a| a == "plain");
    let rules = PartitionRules::default();

    let (cells, loads) = community();
    let households: u32 = loads.values().map(|l| l.households).sum();
    let mut times = Vec::new();
    let mut grids = 0;
    for _ in 0..community_runs.max(1) {
        let started = Instant::now();
        grids = partition_cells(&cells, &loads, &rules).len();
        times.push(started.elapsed());
    }
    println!(
        "community: 1000 buildings, {households} households, {} cells -> {grids} grids; median {:.1} ms of {} runs",
        cells.len(),
        median(times).as_secs_f64() * 1e3,
        community_runs.max(1)
    );

    let started = Instant::now();
    let mut dataset = synthetic_metropolis(1, streets);
    if no_barriers {
        dataset.roads.clear();
        dataset.areas.clear();
    }
    println!(
        "city: {} streets, {} buildings, {} households; generated in {:.1} s",
        streets,
        dataset.buildings.len(),
        dataset.total_households(),
        started.elapsed().as_secs_f64()
    );
    let mut times = Vec::new();
    for run in 0..city_runs.max(1) {
        let started = Instant::now();
        let plan = plan_city(&dataset, Resolution::Twelve, &rules)?;
        let elapsed = started.elapsed();
        times.push(elapsed);
        let report = &plan.report;
        println!(
            "  run {run}: {:.1} s, {} grids, {} in range ({:.2}%), {} forced out, PP mean {:.3} min {:.3}, digest {:016x}",
            elapsed.as_secs_f64(),
            report.grids,
            report.in_range,
            100.0 * report.share_in_range,
            report.forced_out_of_range,
            report.polsby_popper_mean,
            report.polsby_popper_min,
            digest(&plan.grids)
        );
    }
    println!(
        "city: median {:.1} s of {} runs",
        median(times).as_secs_f64(),
        city_runs.max(1)
    );
    Ok(())
}
