//! Boundary plans and versions: a draft stored and read back, a boundary change applied in one
//! transaction (baseline and version rows, grid rows rewritten, a new grid inserted, cells moved, the
//! plan marked applied, `boundary.changed`), read back the same through a snapshot, and a second apply of
//! the same plan refused as a conflict with nothing written. On PostGIS an emptied grid's outline is an
//! empty `MultiPolygon`.

use std::sync::Arc;

use gridwatch::domain::GridId;
use gridwatch::domain::event::BoundaryChanged;
use gridwatch::store::boundary::{AssignedGrid, BoundaryChange, GridWrite, NewPlan};
use gridwatch::store::{Store, StoreError};

use crate::imported;

store_tests!(boundary_change_round_trips);

#[allow(clippy::too_many_lines)] // one scenario read top to bottom
async fn boundary_change_round_trips(store: Arc<dyn Store>) {
    let before = imported(&store).await;
    let community = before.grids[0].community;
    let grids: Vec<_> = before
        .grids
        .iter()
        .filter(|g| g.community == community)
        .cloned()
        .collect();
    assert!(
        grids.len() >= 2 && grids[0].cells.len() >= 2,
        "the small city has two grids in its first community"
    );
    let (a, b) = (&grids[0], &grids[1]);
    let moved = a.cells[0];
    let mut a_cells = a.cells.clone();
    a_cells.remove(0);
    let mut b_cells = b.cells.clone();
    b_cells.push(moved);
    b_cells.sort_unstable();
    let new_code = format!("{}999", &a.code[..12]);
    let assigned = |code: &str, name: &str, cells: &[h3o::CellIndex]| AssignedGrid {
        code: code.to_owned(),
        name: name.to_owned(),
        new: false,
        cells: cells.to_vec(),
    };
    let plan = NewPlan {
        community,
        kind: "manual",
        grids: vec![
            assigned(&a.code, &a.name, &a_cells),
            assigned(&b.code, "改名 renamed", &b_cells),
        ],
        warnings: serde_json::json!([{"code": a.code, "households": 1}]),
        effective_at: None,
        note: Some("一格 one cell".to_owned()),
        created_by: None,
        // Round-trips as stored: no version of that id need exist.
        base_version: Some(7),
    };
    let (record, event) = store.insert_plan(&plan).await.expect("insert plan");
    assert_eq!(
        (event.change.kind(), record.status.as_str()),
        ("plan.created", "draft")
    );
    assert_eq!(
        store.plan(record.id).await.expect("plan"),
        Some(record.clone())
    );
    assert_eq!(
        store.plans(community).await.expect("plans"),
        vec![record.clone()]
    );
    assert_eq!(store.plan(record.id + 1000).await.expect("no plan"), None);

    let write = |id: Option<GridId>, code: &str, name: &str, cells: &[h3o::CellIndex]| GridWrite {
        id,
        code: code.to_owned(),
        name: name.to_owned(),
        cells: cells.to_vec(),
        boundary: gridwatch_geodata::cells::outline(cells),
        households: 0,
        building_count: 0,
        flag: None,
    };
    let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 6);
    let change = BoundaryChange {
        community,
        plan: record.id,
        baseline: Some(
            grids
                .iter()
                .map(|g| assigned(&g.code, &g.name, &g.cells))
                .collect(),
        ),
        assignment: plan.grids.clone(),
        effective_at: now,
        applied_at: now,
        applied_by: None,
        note: plan.note.clone(),
        grids: vec![
            write(Some(a.id), &a.code, &a.name, &a_cells),
            write(Some(b.id), &b.code, "改名 renamed", &b_cells),
            write(None, &new_code, "新 new", &[]),
        ],
        buildings: Vec::new(),
        reroutes: Vec::new(),
        payload: BoundaryChanged {
            community,
            plan: record.id,
            effective_at: now,
            cells_moved: 1,
            cells: vec![moved],
            lat: None,
            lon: None,
            version: 0,
            grids: Vec::new(),
        },
    };
    let applied = store.apply_boundary(&change).await.expect("apply");
    assert_eq!(applied.event.change.kind(), "boundary.changed");
    assert_eq!(
        applied.event.change.payload_json()["version"],
        applied.version.id
    );
    assert_eq!(&applied.grid_ids[..2], &[a.id, b.id]);
    let new_id = applied.grid_ids[2];
    assert_eq!(
        applied.event.change.payload_json()["grids"],
        serde_json::json!([a.id.0, b.id.0, new_id.0])
    );

    let after = store.snapshot(None).await.expect("snapshot");
    let grid = |id: GridId| {
        after
            .grids
            .iter()
            .find(|g| g.id == id)
            .expect("grid")
            .clone()
    };
    assert_eq!(grid(a.id).cells, a_cells);
    assert_eq!(
        (grid(b.id).cells, grid(b.id).name),
        (b_cells, "改名 renamed".to_owned())
    );
    let new = grid(new_id);
    assert_eq!(
        (new.code.as_str(), new.cells.len(), new.boundary.0.len()),
        (new_code.as_str(), 0, 0)
    );
    assert_eq!(
        grid(a.id).boundary,
        gridwatch_geodata::cells::outline(&grid(a.id).cells)
    );

    let versions = store.versions(community).await.expect("versions");
    assert_eq!(versions.len(), 2, "baseline and the change");
    assert_eq!(
        (versions[0].plan, versions[1].plan),
        (None, Some(record.id))
    );
    assert_eq!(
        versions[0]
            .grids
            .iter()
            .map(|g| g.cells.clone())
            .collect::<Vec<_>>(),
        grids.iter().map(|g| g.cells.clone()).collect::<Vec<_>>()
    );
    assert_eq!(versions[1], applied.version);
    let stored = store
        .plan(record.id)
        .await
        .expect("plan")
        .expect("still there");
    assert_eq!(
        (stored.status.as_str(), stored.version),
        ("applied", Some(applied.version.id))
    );

    // Applying the same plan again changes nothing.
    let again = BoundaryChange {
        baseline: None,
        ..change
    };
    assert!(matches!(
        store.apply_boundary(&again).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.versions(community).await.expect("versions").len(), 2);
    assert_eq!(
        store.snapshot(None).await.expect("snapshot").grids,
        after.grids
    );
}
