//! Turning imported geodata into a city in the store: plan (geodata) → rows (store) → world.
//!
//! Also seeds the demo's grid workers. Owns no geometry logic: partitioning and outlines come from
//! `gridwatch-geodata`; this module only maps its plain structs onto store inputs.

use std::collections::HashMap;
use std::sync::Arc;

use gridwatch_geodata::{
    CityPlan, Dataset, GridFlag as PlanFlag, Level, LineRecord, PartitionRules, plan_city,
};
use h3o::Resolution;

use crate::domain::{
    BaseArea, BaseLine, Building, BuildingId, DutyStatus, Grid, GridDuty, GridFlag, GridId, Region,
    RegionId, RegionLevel, Responsibility, WorkerKind,
};
use crate::store::{
    NewBuilding, NewCity, NewGrid, NewRegion, NewWorker, Snapshot, Store, StoreError,
};

/// Why a city could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("planning the city failed: {0}")]
    Plan(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an import wrote, for the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub regions: usize,
    pub grids: usize,
    pub grids_in_range: usize,
    pub buildings: usize,
    pub households: u64,
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} regions, {} grids ({} within 100–150 households), {} buildings, {} households",
            self.regions, self.grids, self.grids_in_range, self.buildings, self.households
        )
    }
}

/// Plans `dataset` into grids at `resolution` and writes it to an empty store in one transaction.
pub async fn import(
    store: &Arc<dyn Store>,
    dataset: &Dataset,
    resolution: Resolution,
) -> Result<ImportSummary, ImportError> {
    let rules = PartitionRules::default();
    let plan =
        plan_city(dataset, resolution, &rules).map_err(|e| ImportError::Plan(e.to_string()))?;
    let city = to_new_city(dataset, &plan);
    let summary = ImportSummary {
        regions: city.regions.len(),
        grids: city.grids.len(),
        grids_in_range: plan
            .grids
            .iter()
            .filter(|g| (rules.min_households..=rules.max_households).contains(&g.households))
            .count(),
        buildings: city.buildings.len(),
        households: city
            .buildings
            .iter()
            .map(|(b, _)| u64::from(b.households))
            .sum(),
    };
    store.import_city(&city).await?;
    Ok(summary)
}

fn level(level: Level) -> RegionLevel {
    match level {
        Level::District => RegionLevel::District,
        Level::Street => RegionLevel::Street,
        Level::Community => RegionLevel::Community,
    }
}

/// geodata's grid flag as the domain's.
pub(crate) fn flag(flag: PlanFlag) -> GridFlag {
    match flag {
        PlanFlag::SingleBuildingOverMax { households } => {
            GridFlag::SingleBuildingOverMax { households }
        }
        PlanFlag::CellOverMax { households } => GridFlag::CellOverMax { households },
        PlanFlag::UnderMin { households } => GridFlag::UnderMin { households },
        PlanFlag::OverMax { households } => GridFlag::OverMax { households },
    }
}

/// Maps a plan onto store inputs. Grids are named after their community and sequence number.
#[must_use]
pub fn to_new_city(dataset: &Dataset, plan: &CityPlan) -> NewCity {
    let regions = plan
        .regions
        .iter()
        .map(|r| {
            let record = &r.record;
            let region = NewRegion {
                level: level(record.level),
                code: record.code.clone(),
                name: record.name.clone(),
                boundary: record
                    .boundary
                    .clone()
                    .unwrap_or_else(|| geo::MultiPolygon(Vec::new())),
            };
            (region, record.parent_code.clone())
        })
        .collect();
    let community_name = |code: &str| {
        plan.regions
            .iter()
            .find(|r| r.record.code == code)
            .map_or("", |r| r.record.name.as_str())
    };
    let grids = plan
        .grids
        .iter()
        .map(|g| NewGrid {
            code: g.code.clone(),
            name: format!(
                "{} 网格 {}",
                community_name(&g.community_code),
                &g.code[g.code.len().saturating_sub(3)..]
            ),
            community_code: g.community_code.clone(),
            cells: g.cells.clone(),
            boundary: gridwatch_geodata::cells::outline(&g.cells),
            households: g.households,
            building_count: g.building_count,
            flag: g.flag.map(flag),
        })
        .collect::<Vec<_>>();
    let grid_of_cell: HashMap<_, _> = plan
        .grids
        .iter()
        .flat_map(|g| g.cells.iter().map(move |&c| (c, g.code.clone())))
        .collect();
    let buildings = plan
        .buildings
        .iter()
        .map(|(b, cell)| {
            let building = NewBuilding {
                source_id: b.source_id.clone(),
                footprint: b.footprint.clone(),
                kind: b.kind.clone(),
                levels: b.levels,
                households: b.households,
                cell: *cell,
            };
            (building, grid_of_cell.get(cell).cloned())
        })
        .collect();
    NewCity {
        name: dataset.name.clone(),
        attribution: dataset.attribution.clone(),
        resolution: plan.resolution,
        regions,
        grids,
        buildings,
        base_lines: plan.roads.iter().map(base_line).collect(),
        base_areas: plan
            .areas
            .iter()
            .map(|a| BaseArea {
                kind: a.kind.clone(),
                name: a.name.clone(),
                geometry: a.geometry.clone(),
            })
            .collect(),
    }
}

/// A dataset line as a base-map line; degrees (EPSG:4326, lon/lat order), unchanged.
fn base_line(line: &LineRecord) -> BaseLine {
    BaseLine {
        kind: line.kind.clone(),
        name: line.name.clone(),
        geometry: geo::MultiLineString::new(vec![line.geometry.clone()]),
    }
}

/// Gives every grid of a fresh demo city one on-duty primary grid worker, so dispatch has someone to
/// route to. Workers are staff, named by grid; no resident data is invented.
pub async fn seed_demo_workers(store: &Arc<dyn Store>) -> Result<usize, StoreError> {
    // Grids and workers only: no finished case is needed.
    let snapshot = store.snapshot(Some(chrono::Utc::now())).await?;
    let mut seeded = 0;
    for grid in snapshot.grids.iter().filter(|g| {
        !snapshot
            .workers
            .iter()
            .any(|w| w.grids.iter().any(|d| d.grid_id == g.id))
    }) {
        let worker = NewWorker {
            name: format!("网格员 {}", grid.code),
            kind: WorkerKind::GridWorker,
            duty: DutyStatus::OnDuty,
            phone: None,
            // Trackers are bound with ids the server makes and shows once: `gridwatch demo` binds one to
            // the first grid worker at each start and prints it.
            device_hash: None,
            grids: vec![GridDuty {
                grid_id: grid.id,
                responsibility: Responsibility::Primary,
            }],
        };
        store.insert_worker(&worker).await?;
        seeded += 1;
    }
    Ok(seeded)
}

/// The snapshot a store would return right after importing `city`, with ids numbered from 1 in
/// input order. For benchmarks and tests that want a world without a store.
#[must_use]
pub fn snapshot_of(city: &NewCity) -> Snapshot {
    let mut region_ids: HashMap<&str, RegionId> = HashMap::new();
    let mut regions = Vec::with_capacity(city.regions.len());
    for (i, (region, parent)) in city.regions.iter().enumerate() {
        let id = RegionId(i64::try_from(i).unwrap_or(i64::MAX) + 1);
        region_ids.insert(&region.code, id);
        regions.push(Region {
            id,
            level: region.level,
            code: region.code.clone(),
            name: region.name.clone(),
            parent: parent.as_deref().and_then(|p| region_ids.get(p).copied()),
            boundary: region.boundary.clone(),
        });
    }
    let mut grid_ids: HashMap<&str, GridId> = HashMap::new();
    let grids = city
        .grids
        .iter()
        .enumerate()
        .filter_map(|(i, g)| {
            let id = GridId(i64::try_from(i).unwrap_or(i64::MAX) + 1);
            grid_ids.insert(&g.code, id);
            Some(Grid {
                id,
                code: g.code.clone(),
                name: g.name.clone(),
                community: *region_ids.get(g.community_code.as_str())?,
                cells: g.cells.clone(),
                boundary: g.boundary.clone(),
                households: g.households,
                building_count: g.building_count,
                flag: g.flag,
            })
        })
        .collect();
    let buildings = city
        .buildings
        .iter()
        .enumerate()
        .map(|(i, (b, grid))| Building {
            id: BuildingId(i64::try_from(i).unwrap_or(i64::MAX) + 1),
            source_id: b.source_id.clone(),
            footprint: b.footprint.clone(),
            kind: b.kind.clone(),
            levels: b.levels,
            households: b.households,
            cell: b.cell,
            grid: grid.as_deref().and_then(|g| grid_ids.get(g).copied()),
        })
        .collect();
    Snapshot {
        resolution: Some(city.resolution),
        regions,
        grids,
        buildings,
        base_lines: city.base_lines.clone(),
        base_areas: city.base_areas.clone(),
        ..Snapshot::default()
    }
}
