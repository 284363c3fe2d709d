//! Rows as both backends select them (`PostgreSQL` geometry through `ST_AsGeoJSON`, jsonb cast to text),
//! and their decoding into domain values. A row that does not decode is `StoreError::Corrupt`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use h3o::CellIndex;

use super::super::{Snapshot, StoreError, TokenRecord};
use super::codec::{
    cell_from_i64, corrupt, count, geometry_from_text, lines_from_text, parse_enum,
    resolution_from_text, scopes_from_text,
};
use crate::domain::{
    BaseArea, BaseLine, Building, BuildingId, Change, DutyStatus, Event, Grid, GridDuty, GridId,
    Region, RegionId, RegionLevel, Responsibility, Role, TokenId, Worker, WorkerId, WorkerKind,
};
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RegionRow {
    pub id: i64,
    pub level: String,
    pub code: String,
    pub name: String,
    pub parent_id: Option<i64>,
    pub boundary: String,
}

impl RegionRow {
    fn into_region(self) -> Result<Region, StoreError> {
        Ok(Region {
            id: RegionId(self.id),
            level: parse_enum("regions", "level", &self.level, RegionLevel::parse)?,
            code: self.code,
            name: self.name,
            parent: self.parent_id.map(RegionId),
            boundary: geometry_from_text("regions", &self.boundary)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct GridRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub community_id: i64,
    pub households: i64,
    pub building_count: i64,
    pub flag: Option<String>,
    pub boundary: String,
}

impl GridRow {
    fn into_grid(self, mut cells: Vec<CellIndex>) -> Result<Grid, StoreError> {
        cells.sort_unstable();
        let flag = self
            .flag
            .map(|f| {
                serde_json::from_str(&f).map_err(|e| corrupt("grids", format!("bad flag: {e}")))
            })
            .transpose()?;
        Ok(Grid {
            id: GridId(self.id),
            code: self.code,
            name: self.name,
            community: RegionId(self.community_id),
            cells,
            boundary: geometry_from_text("grids", &self.boundary)?,
            households: count("grids", "households", self.households)?,
            building_count: count("grids", "building_count", self.building_count)?,
            flag,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct BuildingRow {
    pub id: i64,
    pub source_id: Option<String>,
    pub footprint: String,
    pub kind: String,
    pub levels: Option<i64>,
    pub households: i64,
    pub cell: i64,
    pub grid_id: Option<i64>,
}

/// A `base_lines` or `base_areas` row; `geometry` is `GeoJSON` text (degrees, EPSG:4326, lon/lat).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct BaseRow {
    pub kind: String,
    pub name: Option<String>,
    pub geometry: String,
}

impl BaseRow {
    fn into_line(self) -> Result<BaseLine, StoreError> {
        Ok(BaseLine {
            geometry: lines_from_text("base_lines", &self.geometry)?,
            kind: self.kind,
            name: self.name,
        })
    }

    fn into_area(self) -> Result<BaseArea, StoreError> {
        Ok(BaseArea {
            geometry: geometry_from_text("base_areas", &self.geometry)?,
            kind: self.kind,
            name: self.name,
        })
    }
}

impl BuildingRow {
    fn into_building(self) -> Result<Building, StoreError> {
        Ok(Building {
            id: BuildingId(self.id),
            source_id: self.source_id,
            footprint: geometry_from_text("buildings", &self.footprint)?,
            kind: self.kind,
            levels: self
                .levels
                .map(|l| count("buildings", "levels", l))
                .transpose()?,
            households: count("buildings", "households", self.households)?,
            cell: cell_from_i64("buildings", self.cell)?,
            grid: self.grid_id.map(GridId),
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct WorkerRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub duty: String,
    pub phone: Option<String>,
    pub device_id: Option<String>,
}

/// One `worker_grids` row; selected ordered by worker and position.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct DutyRow {
    pub worker_id: i64,
    pub grid_id: i64,
    pub responsibility: String,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TokenRow {
    pub id: i64,
    pub role: String,
    pub scopes: String,
    pub worker_id: Option<i64>,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl TokenRow {
    pub(crate) fn into_record(self) -> Result<TokenRecord, StoreError> {
        Ok(TokenRecord {
            id: TokenId(self.id),
            role: parse_enum("tokens", "role", &self.role, Role::parse)?,
            scopes: scopes_from_text(&self.scopes)?,
            worker: self.worker_id.map(WorkerId),
            label: self.label,
            created_at: self.created_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EventRow {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub payload: String,
}

impl EventRow {
    /// The event, its payload decoded into the variant its kind names. A kind no variant has, or a
    /// payload that does not fit it, is data damage: `Corrupt`, naming the row.
    pub(crate) fn into_event(self) -> Result<Event, StoreError> {
        let change = Change::from_stored(&self.kind, &self.payload).map_err(|e| {
            corrupt(
                "events",
                format!("event {} ({}) does not decode: {e}", self.seq, self.kind),
            )
        })?;
        Ok(Event {
            seq: self.seq,
            at: self.at,
            change,
        })
    }
}

/// Everything a snapshot reads, as rows; `sql/snapshot.rs` fills it inside one read transaction.
#[derive(Debug, Default)]
pub(crate) struct SnapshotRows {
    pub resolution: Option<String>,
    pub regions: Vec<RegionRow>,
    pub grids: Vec<GridRow>,
    /// `(grid_id, cell)`.
    pub cells: Vec<(i64, i64)>,
    pub buildings: Vec<BuildingRow>,
    pub base_lines: Vec<BaseRow>,
    pub base_areas: Vec<BaseRow>,
    pub workers: Vec<WorkerRow>,
    pub duties: Vec<DutyRow>,
    pub last_seq: i64,
}

impl SnapshotRows {
    pub(crate) fn into_snapshot(self) -> Result<Snapshot, StoreError> {
        let mut cells: HashMap<i64, Vec<CellIndex>> = HashMap::new();
        for (grid, cell) in self.cells {
            cells
                .entry(grid)
                .or_default()
                .push(cell_from_i64("grid_cells", cell)?);
        }
        let mut duties: HashMap<i64, Vec<GridDuty>> = HashMap::new();
        for duty in self.duties {
            duties.entry(duty.worker_id).or_default().push(GridDuty {
                grid_id: GridId(duty.grid_id),
                responsibility: parse_enum(
                    "worker_grids",
                    "responsibility",
                    &duty.responsibility,
                    Responsibility::parse,
                )?,
            });
        }
        Ok(Snapshot {
            resolution: self
                .resolution
                .as_deref()
                .map(resolution_from_text)
                .transpose()?,
            regions: self
                .regions
                .into_iter()
                .map(RegionRow::into_region)
                .collect::<Result<_, _>>()?,
            grids: self
                .grids
                .into_iter()
                .map(|g| {
                    let own = cells.remove(&g.id).unwrap_or_default();
                    g.into_grid(own)
                })
                .collect::<Result<_, _>>()?,
            buildings: self
                .buildings
                .into_iter()
                .map(BuildingRow::into_building)
                .collect::<Result<_, _>>()?,
            base_lines: self
                .base_lines
                .into_iter()
                .map(BaseRow::into_line)
                .collect::<Result<_, _>>()?,
            base_areas: self
                .base_areas
                .into_iter()
                .map(BaseRow::into_area)
                .collect::<Result<_, _>>()?,
            workers: self
                .workers
                .into_iter()
                .map(|w| {
                    Ok(Worker {
                        id: WorkerId(w.id),
                        kind: parse_enum("workers", "kind", &w.kind, WorkerKind::parse)?,
                        duty: parse_enum("workers", "duty", &w.duty, DutyStatus::parse)?,
                        grids: duties.remove(&w.id).unwrap_or_default(),
                        name: w.name,
                        phone: w.phone,
                        device_id: w.device_id,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            last_seq: self.last_seq,
            ..Snapshot::default()
        })
    }
}
