//! Rows as both dialects select them (`PostgreSQL` geometry through `ST_AsGeoJSON`, jsonb cast to
//! text), and how each becomes its domain value ([`Load`]). A row that does not decode is
//! `StoreError::Corrupt`.

use std::collections::HashMap;
use std::hash::Hash;

use chrono::{DateTime, Utc};

use serde_json::{Map, Value};

use super::codec::{
    cell_from_i64, corrupt, count, from_json, geometry_from_text, parse_enum, scopes_from_text,
};
use super::driver::Load;
use crate::audit;
use crate::domain::{
    BaseArea, BaseLine, Building, BuildingId, Change, DutyStatus, Event, Fix, Grid, GridDuty,
    GridId, Region, RegionId, RegionLevel, Responsibility, Role, TokenId, Worker, WorkerId,
    WorkerKind,
};
use crate::store::{StoreError, TokenRecord};

/// Child rows grouped by the id of the row they belong to, in the order read (the statements order
/// them by owner, then position).
pub(crate) fn by_owner<K: Eq + Hash, V>(
    rows: impl IntoIterator<Item = Result<(K, V), StoreError>>,
) -> Result<HashMap<K, Vec<V>>, StoreError> {
    let mut grouped: HashMap<K, Vec<V>> = HashMap::new();
    for row in rows {
        let (owner, value) = row?;
        grouped.entry(owner).or_default().push(value);
    }
    Ok(grouped)
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RegionRow {
    pub id: i64,
    pub level: String,
    pub code: String,
    pub name: String,
    pub parent_id: Option<i64>,
    pub boundary: String,
}

impl Load for Region {
    type Row = RegionRow;
    fn from_row(row: RegionRow) -> Result<Self, StoreError> {
        Ok(Region {
            id: RegionId(row.id),
            level: parse_enum("regions", "level", &row.level, RegionLevel::parse)?,
            code: row.code,
            name: row.name,
            parent: row.parent_id.map(RegionId),
            boundary: geometry_from_text("regions", &row.boundary)?,
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

/// Grids with their cells (`(grid_id, cell)` rows).
pub(crate) fn grids(rows: Vec<GridRow>, cells: Vec<(i64, i64)>) -> Result<Vec<Grid>, StoreError> {
    let cells = cells
        .into_iter()
        .map(|(grid, cell)| Ok((grid, cell_from_i64("grid_cells", cell)?)));
    let mut cells = by_owner(cells)?;
    let grid = |row: GridRow| {
        let mut cells = cells.remove(&row.id).unwrap_or_default();
        cells.sort_unstable();
        let flag = row
            .flag
            .map(|f| from_json("grids", "flag", &f))
            .transpose()?;
        Ok(Grid {
            id: GridId(row.id),
            code: row.code,
            name: row.name,
            community: RegionId(row.community_id),
            cells,
            boundary: geometry_from_text("grids", &row.boundary)?,
            households: count("grids", "households", row.households)?,
            building_count: count("grids", "building_count", row.building_count)?,
            flag,
        })
    };
    rows.into_iter().map(grid).collect()
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

impl Load for BaseLine {
    type Row = BaseRow;
    fn from_row(row: BaseRow) -> Result<Self, StoreError> {
        Ok(BaseLine {
            geometry: geometry_from_text("base_lines", &row.geometry)?,
            kind: row.kind,
            name: row.name,
        })
    }
}

impl Load for BaseArea {
    type Row = BaseRow;
    fn from_row(row: BaseRow) -> Result<Self, StoreError> {
        Ok(BaseArea {
            geometry: geometry_from_text("base_areas", &row.geometry)?,
            kind: row.kind,
            name: row.name,
        })
    }
}

impl Load for Building {
    type Row = BuildingRow;
    fn from_row(row: BuildingRow) -> Result<Self, StoreError> {
        Ok(Building {
            id: BuildingId(row.id),
            source_id: row.source_id,
            footprint: geometry_from_text("buildings", &row.footprint)?,
            kind: row.kind,
            levels: row
                .levels
                .map(|l| count("buildings", "levels", l))
                .transpose()?,
            households: count("buildings", "households", row.households)?,
            cell: cell_from_i64("buildings", row.cell)?,
            grid: row.grid_id.map(GridId),
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
    pub device_hash: Option<String>,
}

/// A `worker_grids` row, `worker_id, grid_id, responsibility`; selected ordered by worker and
/// position.
type DutyRow = (i64, i64, String);

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TokenRow {
    pub id: i64,
    pub role: String,
    pub scopes: String,
    pub worker_id: Option<i64>,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub prefix: Option<String>,
    pub created_by: Option<i64>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Load for TokenRecord {
    type Row = TokenRow;
    fn from_row(row: TokenRow) -> Result<Self, StoreError> {
        Ok(TokenRecord {
            id: TokenId(row.id),
            role: parse_enum("tokens", "role", &row.role, Role::parse)?,
            scopes: scopes_from_text(&row.scopes)?,
            worker: row.worker_id.map(WorkerId),
            label: row.label,
            created_at: row.created_at,
            expires_at: row.expires_at,
            prefix: row.prefix,
            created_by: row.created_by.map(TokenId),
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub actor_role: Option<String>,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl Load for audit::Row {
    type Row = AuditRow;
    fn from_row(row: AuditRow) -> Result<Self, StoreError> {
        let role = row
            .actor_role
            .as_deref()
            .map(|r| parse_enum("audit", "actor_role", r, Role::parse))
            .transpose()?;
        Ok(audit::Row {
            seq: row.seq,
            entry: audit::Entry {
                at: row.at,
                actor: audit::Actor {
                    kind: parse_enum(
                        "audit",
                        "actor_kind",
                        &row.actor_kind,
                        audit::ActorKind::parse,
                    )?,
                    id: row.actor_id,
                    name: row.actor_name,
                    role,
                },
                address: row.address,
                user_agent: row.user_agent,
                action: row.action,
                target: row.target,
                outcome: parse_enum("audit", "outcome", &row.outcome, audit::Outcome::parse)?,
                detail: row.detail,
            },
            prev_hash: row.prev_hash,
            hash: row.hash,
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

impl Load for Event {
    type Row = EventRow;
    /// The event, its payload decoded into the variant its kind names. A kind no variant has, or a
    /// payload that does not fit it, is data damage: `Corrupt`, naming the row.
    fn from_row(row: EventRow) -> Result<Self, StoreError> {
        let change = Change::from_stored(&row.kind, &row.payload).map_err(|e| {
            let (seq, kind) = (row.seq, &row.kind);
            corrupt(
                "events",
                format!("event {seq} ({kind}) does not decode: {e}"),
            )
        })?;
        Ok(Event {
            seq: row.seq,
            at: row.at,
            change,
        })
    }
}

const DUTIES: &str = "worker_grids";

/// Workers with their grid duties (`worker_grids` rows ordered by worker and position).
pub(crate) fn workers(
    rows: Vec<WorkerRow>,
    duties: Vec<DutyRow>,
) -> Result<Vec<Worker>, StoreError> {
    let duties = duties.into_iter().map(|(worker, grid, text)| {
        let responsibility = parse_enum(DUTIES, "responsibility", &text, Responsibility::parse)?;
        let grid_id = GridId(grid);
        Ok((
            worker,
            GridDuty {
                grid_id,
                responsibility,
            },
        ))
    });
    let mut duties = by_owner(duties)?;
    let worker = |w: WorkerRow| {
        Ok(Worker {
            id: WorkerId(w.id),
            kind: parse_enum("workers", "kind", &w.kind, WorkerKind::parse)?,
            duty: parse_enum("workers", "duty", &w.duty, DutyStatus::parse)?,
            grids: duties.remove(&w.id).unwrap_or_default(),
            name: w.name,
            phone: w.phone,
            device_hash: w.device_hash,
        })
    };
    rows.into_iter().map(worker).collect()
}

/// A `positions` row as `load_track.sql` selects it (`jsonb` cast to text on PostgreSQL).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct FixRow {
    pub worker_id: i64,
    pub at: DateTime<Utc>,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    pub speed_mps: Option<f64>,
    pub heading_deg: Option<f64>,
    pub altitude_m: Option<f64>,
    pub battery_pct: Option<f64>,
    pub moving: Option<bool>,
    pub flags: String,
    pub attributes: String,
}

impl Load for Fix {
    type Row = FixRow;
    fn from_row(row: FixRow) -> Result<Self, StoreError> {
        let flags: Vec<String> = from_json("positions", "flags", &row.flags)?;
        let attributes: Map<String, Value> = from_json("positions", "attributes", &row.attributes)?;
        Ok(Fix {
            worker: WorkerId(row.worker_id),
            lat: row.lat,
            lon: row.lon,
            at: row.at,
            accuracy_m: row.accuracy_m,
            speed_mps: row.speed_mps,
            heading_deg: row.heading_deg,
            altitude_m: row.altitude_m,
            battery_pct: row.battery_pct,
            moving: row.moving,
            flags,
            attributes,
        })
    }
}
