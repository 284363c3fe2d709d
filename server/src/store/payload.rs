//! What both stores share: the JSON payload of every event kind, and (in its submodules) how values
//! become columns, how rows become domain values again, and how a refused write becomes a `Conflict`.
//!
//! Nothing here talks to a database: each backend owns its SQL. Payloads carry counts and staff data
//! only — never resident data, and never a token's hash.

pub(crate) mod cameras;
pub(crate) mod codec;
pub(crate) mod conflict;
pub(crate) mod fixes;
pub(crate) mod import;
pub mod incidents;
pub(crate) mod rows;

use geo::MultiPolygon;
use geojson::GeometryValue;
use serde_json::{Value, json};

use super::{NewCity, TokenRecord};
use crate::domain::{Building, Region, Worker};

/// Event kinds, dotted `noun.verb`.
pub const CITY_IMPORTED: &str = "city.imported";
pub const REGION_CREATED: &str = "region.created";
pub const BUILDING_CREATED: &str = "building.created";
pub const WORKER_CREATED: &str = "worker.created";
pub const WORKER_UPDATED: &str = "worker.updated";
pub const TOKEN_CREATED: &str = "token.created";
pub const INCIDENT_CREATED: &str = "incident.created";
pub const INCIDENT_UPDATED: &str = "incident.updated";
pub const INCIDENT_PHOTO_ADDED: &str = "incident.photo_added";
pub const CATEGORY_UPDATED: &str = "category.updated";
pub const DEPARTMENT_UPDATED: &str = "department.updated";
pub const ALERT_RAISED: &str = "alert.raised";

/// Settings keys.
pub(crate) const CELL_RESOLUTION: &str = "cell_resolution";
pub(crate) const CITY_NAME: &str = "city_name";
pub(crate) const ATTRIBUTION: &str = "attribution";

/// The message of the `Conflict` an import into a store that already holds grids gets.
pub(crate) const CITY_EXISTS: &str = "the store already holds a city; import into an empty store";

// ---------------------------------------------------------------------------------------------------
// Event payloads
// ---------------------------------------------------------------------------------------------------

fn geometry_json(geometry: &MultiPolygon<f64>) -> Value {
    Value::from(&GeometryValue::from(geometry))
}

/// `city.imported`: the city's name and what it holds, in counts.
pub(crate) fn city_imported(city: &NewCity) -> Value {
    json!({
        "name": city.name,
        "attribution": city.attribution,
        "resolution": u8::from(city.resolution),
        "regions": city.regions.len(),
        "grids": city.grids.len(),
        "cells": city.grids.iter().map(|g| g.cells.len()).sum::<usize>(),
        "buildings": city.buildings.len(),
        "households": city.buildings.iter().map(|(b, _)| u64::from(b.households)).sum::<u64>(),
        "base_lines": city.base_lines.len(),
        "base_areas": city.base_areas.len(),
    })
}

/// `region.created`: the whole region, boundary as a `GeoJSON` geometry.
pub(crate) fn region_created(region: &Region) -> Value {
    json!({
        "id": region.id,
        "level": region.level.as_str(),
        "code": region.code,
        "name": region.name,
        "parent": region.parent,
        "boundary": geometry_json(&region.boundary),
    })
}

/// `building.created`: the building (cell as H3 hex) and, when it joined a grid, the grid's new totals.
pub(crate) fn building_created(building: &Building, grid_totals: Option<(u32, u32)>) -> Value {
    json!({
        "id": building.id,
        "source_id": building.source_id,
        "kind": building.kind,
        "levels": building.levels,
        "households": building.households,
        "cell": building.cell.to_string(),
        "grid": building.grid,
        "grid_totals": grid_totals.map(|(households, building_count)| json!({
            "households": households,
            "building_count": building_count,
        })),
        "footprint": geometry_json(&building.footprint),
    })
}

/// `worker.created` / `worker.updated`: staff data and grid duties.
pub(crate) fn worker(worker: &Worker) -> Value {
    json!({
        "id": worker.id,
        "name": worker.name,
        "kind": worker.kind.as_str(),
        "duty": worker.duty.as_str(),
        "phone": worker.phone,
        "device_id": worker.device_id,
        "grids": worker.grids,
    })
}

/// `token.created`: who the token is for. Never the hash: events are replayed to clients.
pub(crate) fn token_created(token: &TokenRecord) -> Value {
    json!({
        "id": token.id,
        "role": token.role.as_str(),
        "scopes": token.scopes,
        "worker": token.worker,
        "label": token.label,
    })
}
