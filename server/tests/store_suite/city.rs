//! Importing a city, and adding regions and buildings to it.

use std::sync::Arc;
use std::time::Instant;

use gridwatch::domain::{GridId, RegionId, RegionLevel};
use gridwatch::store::{NewCity, NewRegion, Snapshot, Store};

use crate::{assert_conflict, assert_same, data, grid_ids, imported, region_ids};

store_tests!(
    empty_store_snapshot,
    import_then_snapshot_round_trips,
    import_into_non_empty_store_is_refused,
    cell_in_two_grids_rolls_back_the_import,
    import_with_unknown_codes_is_refused,
    import_at_city_scale,
    region_insert,
    building_insert_updates_its_grid,
    import_keeps_the_synthetic_base_map,
);

fn assert_matches_city(snapshot: &Snapshot, city: &NewCity) {
    assert_eq!(snapshot.resolution, Some(city.resolution));
    let regions = region_ids(snapshot);
    assert_eq!(snapshot.regions.len(), city.regions.len());
    for (new, parent) in &city.regions {
        let stored = snapshot
            .regions
            .iter()
            .find(|r| r.code == new.code)
            .expect("region stored");
        assert_eq!(stored.level, new.level);
        assert_eq!(stored.name, new.name);
        assert_eq!(
            stored.boundary, new.boundary,
            "region {} boundary",
            new.code
        );
        assert_eq!(stored.parent, parent.as_ref().map(|p| regions[p]));
    }
    let grids = grid_ids(snapshot);
    assert_eq!(snapshot.grids.len(), city.grids.len());
    for new in &city.grids {
        let stored = snapshot
            .grids
            .iter()
            .find(|g| g.code == new.code)
            .expect("grid stored");
        let mut cells = new.cells.clone();
        cells.sort_unstable();
        assert_eq!(stored.name, new.name);
        assert_eq!(stored.community, regions[&new.community_code]);
        assert_eq!(stored.cells, cells, "grid {} cells", new.code);
        assert_eq!(stored.boundary, new.boundary, "grid {} boundary", new.code);
        assert_eq!(stored.households, new.households);
        assert_eq!(stored.building_count, new.building_count);
        assert_eq!(stored.flag, new.flag);
    }
    assert_eq!(snapshot.buildings.len(), city.buildings.len());
    for (stored, (new, grid)) in snapshot.buildings.iter().zip(&city.buildings) {
        assert_eq!(stored.source_id, new.source_id);
        assert_eq!(stored.footprint, new.footprint);
        assert_eq!(stored.kind, new.kind);
        assert_eq!(stored.levels, new.levels);
        assert_eq!(stored.households, new.households);
        assert_eq!(stored.cell, new.cell);
        assert_eq!(stored.grid, grid.as_ref().map(|g| grids[g]));
    }
    // The base map comes back whole, in order, to the last bit of every coordinate.
    assert_eq!(
        snapshot.base_lines.len(),
        city.base_lines.len(),
        "base lines"
    );
    assert_eq!(snapshot.base_lines, city.base_lines);
    assert_eq!(
        snapshot.base_areas.len(),
        city.base_areas.len(),
        "base areas"
    );
    assert_eq!(snapshot.base_areas, city.base_areas);
}

async fn empty_store_snapshot(store: Arc<dyn Store>) {
    let snapshot = store.snapshot(None).await.expect("snapshot");
    assert_eq!(snapshot.resolution, None);
    assert!(
        snapshot.regions.is_empty() && snapshot.grids.is_empty() && snapshot.buildings.is_empty()
    );
    assert!(snapshot.base_lines.is_empty() && snapshot.base_areas.is_empty());
    assert!(snapshot.workers.is_empty());
    assert_eq!(snapshot.last_seq, 0);
    assert!(store.events_since(0, 10).await.expect("events").is_empty());
}

async fn import_then_snapshot_round_trips(store: Arc<dyn Store>) {
    let city = data::city();
    let event = store.import_city(&city).await.expect("import");
    assert_eq!(event.change.kind(), "city.imported");
    assert!(event.seq > 0);
    assert_eq!(event.change.payload_json()["name"], city.name.as_str());
    assert_eq!(event.change.payload_json()["grids"], 3);
    assert_eq!(event.change.payload_json()["cells"], 37);
    assert_eq!(event.change.payload_json()["buildings"], 5);
    assert_eq!(event.change.payload_json()["base_lines"], 3);
    assert_eq!(event.change.payload_json()["base_areas"], 2);

    let snapshot = store.snapshot(None).await.expect("snapshot");
    assert_matches_city(&snapshot, &city);
    assert_eq!(snapshot.last_seq, event.seq);
    assert_eq!(
        store.events_since(0, 10).await.expect("events"),
        vec![event]
    );
    // Grid B is a ring of cells: its outline kept its hole.
    let b = snapshot
        .grids
        .iter()
        .find(|g| g.code == data::GRID_B)
        .expect("grid B");
    assert_eq!(b.boundary.0.len(), 1);
    assert_eq!(b.boundary.0[0].interiors().len(), 1);
}

async fn import_into_non_empty_store_is_refused(store: Arc<dyn Store>) {
    let before = imported(&store).await;
    let mut other = data::big_city();
    "second".clone_into(&mut other.name);
    assert_conflict(store.import_city(&data::city()).await, "same city again");
    assert_conflict(store.import_city(&other).await, "another city");
    assert_same(&before, &store.snapshot(None).await.expect("snapshot"));
    assert_eq!(store.events_since(0, 10).await.expect("events").len(), 1);
}

async fn cell_in_two_grids_rolls_back_the_import(store: Arc<dyn Store>) {
    let mut city = data::city();
    let shared = city.grids[0].cells[0];
    city.grids[2].cells.push(shared);
    let message = assert_conflict(store.import_city(&city).await, "a cell in two grids");
    assert!(message.contains("cell"), "{message}");
    let after = store.snapshot(None).await.expect("snapshot");
    assert_same(&Snapshot::default(), &after);
    // The rollback left the store usable: the corrected city imports.
    store
        .import_city(&data::city())
        .await
        .expect("import after the refusal");
}

async fn import_with_unknown_codes_is_refused(store: Arc<dyn Store>) {
    let mut city = data::city();
    "999999999999".clone_into(&mut city.grids[1].community_code);
    let message = assert_conflict(store.import_city(&city).await, "unknown community");
    assert!(message.contains("999999999999"), "{message}");

    let mut city = data::city();
    city.buildings[0].1 = Some("000000000000000".to_owned());
    assert_conflict(store.import_city(&city).await, "unknown grid of a building");

    let mut city = data::city();
    city.regions[1].1 = Some("000000".to_owned());
    assert_conflict(store.import_city(&city).await, "unknown parent region");

    assert_same(
        &Snapshot::default(),
        &store.snapshot(None).await.expect("snapshot"),
    );
}

async fn import_at_city_scale(store: Arc<dyn Store>) {
    let city = data::big_city();
    assert!(city.grids.iter().map(|g| g.cells.len()).sum::<usize>() > 20_000);
    let started = Instant::now();
    store.import_city(&city).await.expect("import");
    let import_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let snapshot = store.snapshot(None).await.expect("snapshot");
    let snapshot_s = started.elapsed().as_secs_f64();
    // Reported, never asserted: wall-clock time is for BENCHMARKS.md, not for tests.
    eprintln!(
        "{:?}: imported {} grids, {} cells, {} buildings in {import_s:.3} s; snapshot in {snapshot_s:.3} s",
        store.kind(),
        city.grids.len(),
        city.grids.iter().map(|g| g.cells.len()).sum::<usize>(),
        city.buildings.len(),
    );
    assert_matches_city(&snapshot, &city);
}

async fn region_insert(store: Arc<dyn Store>) {
    let city = data::city();
    let (district, event) = store
        .insert_region(&city.regions[0].0, None)
        .await
        .expect("district");
    assert_eq!(event.change.kind(), "region.created");
    assert_eq!(event.change.payload_json()["code"], data::DISTRICT);
    let street = NewRegion {
        level: RegionLevel::Street,
        ..city.regions[1].0.clone()
    };
    let (street, _) = store
        .insert_region(&street, Some(district.id))
        .await
        .expect("street");
    assert_eq!(street.parent, Some(district.id));

    assert_conflict(
        store
            .insert_region(&city.regions[1].0, Some(district.id))
            .await,
        "duplicate code",
    );
    let orphan = NewRegion {
        code: "140402009".to_owned(),
        ..city.regions[1].0.clone()
    };
    assert_conflict(
        store.insert_region(&orphan, Some(RegionId(9_999))).await,
        "unknown parent",
    );

    let snapshot = store.snapshot(None).await.expect("snapshot");
    assert_eq!(snapshot.regions, vec![district, street]);
    assert_eq!(snapshot.last_seq, 2);
}

async fn building_insert_updates_its_grid(store: Arc<dyn Store>) {
    let before = imported(&store).await;
    let grids = grid_ids(&before);
    let a = grids[data::GRID_A];
    let grid_a = |s: &Snapshot| s.grids.iter().find(|g| g.id == a).cloned().expect("grid A");

    let new = data::building("osm:way/77", data::centre(), 25, Some(3));
    let (building, event) = store.insert_building(&new, Some(a)).await.expect("insert");
    assert_eq!(event.change.kind(), "building.created");
    assert_eq!(event.change.payload_json()["grid_totals"]["households"], 95);
    assert_eq!(building.grid, Some(a));

    let (loose, _) = store
        .insert_building(&data::building("osm:way/78", data::centre(), 2, None), None)
        .await
        .expect("insert without a grid");
    assert_conflict(
        store.insert_building(&new, Some(GridId(9_999))).await,
        "unknown grid",
    );

    let after = store.snapshot(None).await.expect("snapshot");
    let (old, now) = (grid_a(&before), grid_a(&after));
    assert_eq!(now.households, old.households + 25);
    assert_eq!(now.building_count, old.building_count + 1);
    assert_eq!(
        &after.buildings[before.buildings.len()..],
        &[building, loose]
    );
    assert_eq!(after.last_seq, before.last_seq + 2);
    // The other grids did not move.
    assert_eq!(
        after.grids.iter().filter(|g| g.id != a).collect::<Vec<_>>(),
        before
            .grids
            .iter()
            .filter(|g| g.id != a)
            .collect::<Vec<_>>()
    );
}

/// The synthetic city through the real import path: every road and area of the geodata `Dataset` (the
/// reference, built without the server) comes back from the store with its kind, name and geometry.
async fn import_keeps_the_synthetic_base_map(store: Arc<dyn Store>) {
    let dataset = gridwatch_geodata::synthetic_city(gridwatch_geodata::Preset::Dongjie, 1);
    assert!(
        !dataset.roads.is_empty() && !dataset.areas.is_empty(),
        "the preset has a base map"
    );
    let plan = gridwatch_geodata::plan_city(
        &dataset,
        h3o::Resolution::Twelve,
        &gridwatch_geodata::PartitionRules::default(),
    )
    .expect("dongjie plans");
    store
        .import_city(&gridwatch::city::to_new_city(&dataset, &plan))
        .await
        .expect("import");
    let snapshot = store.snapshot(None).await.expect("snapshot");
    assert_eq!(snapshot.base_lines.len(), dataset.roads.len(), "roads");
    for (stored, road) in snapshot.base_lines.iter().zip(&dataset.roads) {
        assert_eq!((&stored.kind, &stored.name), (&road.kind, &road.name));
        assert_eq!(
            stored.geometry.0,
            vec![road.geometry.clone()],
            "road {:?}",
            road.name
        );
    }
    assert_eq!(snapshot.base_areas.len(), dataset.areas.len(), "areas");
    for (stored, area) in snapshot.base_areas.iter().zip(&dataset.areas) {
        assert_eq!((&stored.kind, &stored.name), (&area.kind, &area.name));
        assert_eq!(stored.geometry, area.geometry, "area {:?}", area.name);
    }
}
