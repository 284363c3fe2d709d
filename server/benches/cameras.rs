//! A camera import on the deterministic synthetic Dongjie city, from the in-memory world: what the
//! server does for each camera of `POST /api/cameras/import` besides the store — check it, note the
//! tiles it draws before and after (`tiles::touched`, as the core's commit does), and file it in the
//! world with its sector and covered cells. 1,000 cameras drawn from a seeded generator (street cameras:
//! fixed ones of 30–200 m and 30–120°, PTZ ones of 50–300 m), and one full-circle camera of 2 km, the
//! largest allowed.
//!
//! `cargo bench -p gridwatch --bench cameras`; medians with `python3 server/benches/summarize.py`.

use std::hint::black_box;

use chrono::DateTime;
use criterion::{Criterion, criterion_group, criterion_main};
use gridwatch::city;
use gridwatch::domain::camera::{CameraKind, CameraStatus, NewCamera};
use gridwatch::domain::{CameraId, Change, Event};
use gridwatch::store::Snapshot;
use gridwatch::tiles::{Dirty, touched};
use gridwatch::world::World;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn dongjie() -> Snapshot {
    let dataset = gridwatch_geodata::synthetic_city(gridwatch_geodata::Preset::Dongjie, 1);
    let plan = gridwatch_geodata::plan_city(
        &dataset,
        h3o::Resolution::Twelve,
        &gridwatch_geodata::PartitionRules::default(),
    )
    .expect("dongjie plans");
    city::snapshot_of(&city::to_new_city(&dataset, &plan))
}

/// 1,000 street cameras at grid cells of the city, from a fixed seed.
fn street_cameras(world: &World) -> Vec<NewCamera> {
    let cells: Vec<h3o::CellIndex> = world
        .grids()
        .flat_map(|g| g.cells.iter().copied())
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(1000);
    (0..1000)
        .map(|i| {
            let at = h3o::LatLng::from(cells[rng.random_range(0..cells.len())]);
            let ptz = rng.random_bool(0.2);
            NewCamera {
                name: format!("camera {i}"),
                lat: at.lat(),
                lon: at.lng(),
                heading_deg: rng.random_range(0.0..360.0),
                fov_deg: if ptz {
                    360.0
                } else {
                    rng.random_range(30.0..120.0)
                },
                range_m: if ptz {
                    rng.random_range(50.0..300.0)
                } else {
                    rng.random_range(30.0..200.0)
                },
                kind: if ptz {
                    CameraKind::Ptz
                } else {
                    CameraKind::Fixed
                },
                status: CameraStatus::Online,
            }
        })
        .collect()
}

/// What the server does with one new camera once stored: check it, note its tiles before and after,
/// apply it (sector and covered cells worked out and filed).
fn import(world: &mut World, cameras: &[NewCamera]) -> usize {
    let mut touched_layers = 0;
    for (i, new) in cameras.iter().enumerate() {
        let camera = new
            .clone()
            .checked()
            .expect("a valid camera")
            .with_id(CameraId(i64::try_from(i).expect("small") + 1));
        let event = Event {
            seq: i64::try_from(i).expect("small") + 1,
            at: DateTime::UNIX_EPOCH,
            change: Change::CameraCreated(camera.clone()),
        };
        let mut dirty = Dirty::default();
        touched(world, &event, &mut dirty);
        world.apply_camera(camera);
        touched(world, &event, &mut dirty);
        touched_layers += dirty.into_layers().len();
    }
    touched_layers
}

fn bench(c: &mut Criterion) {
    let base = dongjie();
    let streets = street_cameras(&World::from_snapshot(base.clone()));
    let centre = &streets[0];
    let tower = NewCamera {
        name: "tower".into(),
        range_m: 2000.0,
        kind: CameraKind::Ptz,
        fov_deg: 360.0,
        ..centre.clone()
    };
    let mut group = c.benchmark_group("cameras");
    group.sample_size(10);
    group.bench_function("import_1000_street_cameras", |b| {
        b.iter_batched(
            || World::from_snapshot(base.clone()),
            |mut world| black_box(import(&mut world, black_box(&streets))),
            criterion::BatchSize::LargeInput,
        );
    });
    group.bench_function("import_one_360_degree_2_km_camera", |b| {
        b.iter_batched(
            || World::from_snapshot(base.clone()),
            |mut world| black_box(import(&mut world, std::slice::from_ref(black_box(&tower)))),
            criterion::BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
