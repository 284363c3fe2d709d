//! Boundary plans on the deterministic synthetic Dongjie city, from the in-memory world: the diff of a
//! one-cell move (target under 100 ms), the check an apply runs again, and the world taking the change
//! (cell index and raster rebuilt).
//!
//! `cargo bench -p gridwatch --bench plans`; medians with `python3 server/benches/summarize.py`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use gridwatch::city;
use gridwatch::domain::{Grid, RegionId};
use gridwatch::plans::{diff, validate};
use gridwatch::store::boundary::AssignedGrid;
use gridwatch::world::World;

fn dongjie() -> World {
    let dataset = gridwatch_geodata::synthetic_city(gridwatch_geodata::Preset::Dongjie, 1);
    let plan = gridwatch_geodata::plan_city(
        &dataset,
        h3o::Resolution::Twelve,
        &gridwatch_geodata::PartitionRules::default(),
    )
    .expect("dongjie plans");
    World::from_snapshot(city::snapshot_of(&city::to_new_city(&dataset, &plan)))
}

/// The first community's assignment with one border cell of its first grid moved to a neighbouring grid.
fn one_cell_move(world: &World) -> (RegionId, Vec<AssignedGrid>) {
    let community = world.grids().next().expect("a grid").community;
    let grids: Vec<&Grid> = world.grids().filter(|g| g.community == community).collect();
    let mut plan: Vec<AssignedGrid> = grids
        .iter()
        .map(|g| AssignedGrid {
            code: g.code.clone(),
            name: g.name.clone(),
            new: false,
            cells: g.cells.clone(),
        })
        .collect();
    for (a, ga) in grids.iter().enumerate() {
        for (b, gb) in grids.iter().enumerate() {
            if a == b {
                continue;
            }
            for &x in &ga.cells {
                let rest: Vec<_> = ga.cells.iter().copied().filter(|&c| c != x).collect();
                if gb
                    .cells
                    .iter()
                    .any(|&c| c.is_neighbor_with(x).unwrap_or(false))
                    && validate::components(&rest) == 1
                {
                    plan[a].cells = rest;
                    plan[b].cells.push(x);
                    plan[b].cells.sort_unstable();
                    return (community, plan);
                }
            }
        }
    }
    panic!("no movable cell")
}

fn bench(c: &mut Criterion) {
    let world = dongjie();
    let (community, plan) = one_cell_move(&world);
    assert!(
        validate::check(&world, community, &plan).is_empty(),
        "the move is valid"
    );
    let moved = diff::diff(&world, community, &plan);
    assert_eq!(moved["cells_moved"], 1);
    let mut group = c.benchmark_group("plans");
    group.bench_function("diff_one_cell_move", |b| {
        b.iter(|| black_box(diff::diff(&world, community, black_box(&plan))));
    });
    group.bench_function("check_one_cell_move", |b| {
        b.iter(|| black_box(validate::check(&world, community, black_box(&plan))));
    });
    group.sample_size(20);
    group.bench_function("report_one_cell_move", |b| {
        b.iter(|| black_box(validate::report(&world, community, black_box(&plan))));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
