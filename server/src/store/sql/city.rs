//! The city's rows: the import (settings and regions here, then the dialect's bulk inserts of grids,
//! cells, buildings and base map), and a region or a building added later. An import names parents,
//! communities and grids by code; each is resolved to the id the database assigned, and an unknown
//! code refuses the whole import with a `Conflict` naming it.

use std::collections::HashMap;

use super::bulk::Bulk;
use super::{Dialect, Tx};
use crate::domain::event::CityImported;
use crate::domain::event::GridTotals;
use crate::domain::{Building, BuildingId, GridId, Region, RegionId};
use crate::store::sql::codec::{self, cell_to_i64, geojson_text, resolution_text};
use crate::store::{NewBuilding, NewCity, NewRegion, StoreError};

/// Settings keys.
pub(crate) const CELL_RESOLUTION: &str = "cell_resolution";
pub(crate) const CITY_NAME: &str = "city_name";
pub(crate) const ATTRIBUTION: &str = "attribution";

/// The message of the `Conflict` an import into a store that already holds grids gets.
pub(crate) const CITY_EXISTS: &str = "the store already holds a city; import into an empty store";

/// Writes the settings, regions, grids, cells, buildings and base map of `city`, refusing a store that
/// already holds grids. The caller appends the event and commits.
pub(super) async fn write_city<D: Dialect>(
    tx: &mut Tx<D>,
    city: &NewCity,
) -> Result<(), StoreError> {
    // Taken before the check, so two concurrent imports cannot both find the store empty.
    D::lock_events(tx).await?;
    let has_grids: bool = D::SQL
        .has_grids
        .query()
        .scalar(tx, "checking for a city")
        .await?;
    if has_grids {
        return Err(StoreError::Conflict(CITY_EXISTS.to_owned()));
    }
    let resolution = resolution_text(city.resolution);
    put_setting(tx, CELL_RESOLUTION, Some(&resolution)).await?;
    put_setting(tx, CITY_NAME, Some(&city.name)).await?;
    put_setting(tx, ATTRIBUTION, city.attribution.as_deref()).await?;

    let regions = write_regions(tx, city).await?;
    let communities = communities(city, &regions)?;
    D::insert_bulk(tx, Bulk::grids(&city.grids, communities)).await?;
    // The store held no grid before: these are the city's.
    let grids: Vec<(String, i64)> = D::SQL
        .load_grid_codes
        .fetch_all(tx, "loading grid codes")
        .await?;
    let grids: HashMap<String, i64> = grids.into_iter().collect();
    let cells = city.grids.iter().map(|g| {
        let id = resolve(&grids, &g.code, || {
            format!("grid {} was not stored", g.code)
        })?;
        Ok((id, g.cells.as_slice()))
    });
    let cells = cells.collect::<Result<Vec<_>, StoreError>>()?;
    D::insert_bulk(tx, Bulk::cells(&cells, "importing grid cells")).await?;
    let building_grids = building_grids(city, &grids)?;
    D::insert_bulk(tx, Bulk::buildings(&city.buildings, building_grids)).await?;
    D::insert_bulk(tx, Bulk::base_lines(&city.base_lines)).await?;
    D::insert_bulk(tx, Bulk::base_areas(&city.base_areas)).await
}

/// Sets a setting, or removes it when `value` is `None`.
async fn put_setting<D: Dialect>(
    tx: &mut Tx<D>,
    key: &str,
    value: Option<&str>,
) -> Result<(), StoreError> {
    let stmt = match value {
        Some(value) => D::SQL.put_setting.bind(key).bind(value),
        None => D::SQL.delete_setting.bind(key),
    };
    stmt.execute(tx, "writing settings").await?;
    Ok(())
}

/// One at a time, parents first, so each child finds its parent's id; returns every region's id by code.
async fn write_regions<D: Dialect>(
    tx: &mut Tx<D>,
    city: &NewCity,
) -> Result<HashMap<String, i64>, StoreError> {
    let codes: Vec<(String, i64)> = D::SQL
        .load_region_codes
        .fetch_all(tx, "loading region codes")
        .await?;
    let mut ids: HashMap<String, i64> = codes.into_iter().collect();
    for (region, parent) in &city.regions {
        let parent = parent_id(&ids, &region.code, parent.as_deref())?;
        let id = insert_region_row(tx, region, parent).await?;
        ids.insert(region.code.clone(), id);
    }
    Ok(ids)
}

pub(super) async fn insert_region<D: Dialect>(
    tx: &mut Tx<D>,
    region: &NewRegion,
    parent: Option<RegionId>,
) -> Result<Region, StoreError> {
    let id = insert_region_row(tx, region, parent.map(|p| p.0)).await?;
    Ok(Region {
        id: RegionId(id),
        level: region.level,
        code: region.code.clone(),
        name: region.name.clone(),
        parent,
        boundary: region.boundary.clone(),
    })
}

async fn insert_region_row<D: Dialect>(
    tx: &mut Tx<D>,
    region: &NewRegion,
    parent: Option<i64>,
) -> Result<i64, StoreError> {
    (D::SQL.insert_region)
        .bind(region.level.as_str())
        .bind(&region.code)
        .bind(&region.name)
        .bind(parent)
        .bind(geojson_text(&region.boundary))
        .scalar(tx, "inserting a region")
        .await
}

/// Inserts a building and adds its households and count to its grid; the grid's new totals.
pub(super) async fn insert_building<D: Dialect>(
    tx: &mut Tx<D>,
    new: &NewBuilding,
    grid: Option<GridId>,
) -> Result<(Building, Option<GridTotals>), StoreError> {
    let id: i64 = (D::SQL.insert_building)
        .bind(&new.source_id)
        .bind(geojson_text(&new.footprint))
        .bind(&new.kind)
        .bind(new.levels.map(i64::from))
        .bind(i64::from(new.households))
        .bind(cell_to_i64(new.cell))
        .bind(grid.map(|g| g.0))
        .scalar(tx, "inserting a building")
        .await?;
    let totals = match grid {
        Some(grid) => {
            let (households, count): (i64, i64) = (D::SQL.add_building_to_grid)
                .bind(i64::from(new.households))
                .bind(grid.0)
                .fetch_one(tx, "adding a building to its grid")
                .await?;
            Some(codec::grid_totals(households, count)?)
        }
        None => None,
    };
    let building = Building {
        id: BuildingId(id),
        source_id: new.source_id.clone(),
        footprint: new.footprint.clone(),
        kind: new.kind.clone(),
        levels: new.levels,
        households: new.households,
        cell: new.cell,
        grid,
    };
    Ok((building, totals))
}

/// `city.imported`: the city's name and what it holds, in counts.
pub(crate) fn city_imported(city: &NewCity) -> CityImported {
    CityImported {
        name: city.name.clone(),
        attribution: city.attribution.clone(),
        resolution: u8::from(city.resolution),
        regions: city.regions.len(),
        grids: city.grids.len(),
        cells: city.grids.iter().map(|g| g.cells.len()).sum(),
        buildings: city.buildings.len(),
        households: city
            .buildings
            .iter()
            .map(|(b, _)| u64::from(b.households))
            .sum(),
        base_lines: city.base_lines.len(),
        base_areas: city.base_areas.len(),
    }
}

/// Resolves a code named by an import row, or says which row named what.
fn resolve(
    ids: &HashMap<String, i64>,
    code: &str,
    what: impl FnOnce() -> String,
) -> Result<i64, StoreError> {
    ids.get(code)
        .copied()
        .ok_or_else(|| StoreError::Conflict(what()))
}

/// A region's parent id, when it names one.
fn parent_id(
    regions: &HashMap<String, i64>,
    code: &str,
    parent: Option<&str>,
) -> Result<Option<i64>, StoreError> {
    parent
        .map(|p| {
            resolve(regions, p, || {
                format!("region {code} names an unknown parent {p}")
            })
        })
        .transpose()
}

/// Each grid's community id, in the order of `city.grids`.
fn communities(city: &NewCity, regions: &HashMap<String, i64>) -> Result<Vec<i64>, StoreError> {
    city.grids
        .iter()
        .map(|g| {
            resolve(regions, &g.community_code, || {
                format!(
                    "grid {} names an unknown community {}",
                    g.code, g.community_code
                )
            })
        })
        .collect()
}

/// Each building's grid id, in the order of `city.buildings`.
fn building_grids(
    city: &NewCity,
    grids: &HashMap<String, i64>,
) -> Result<Vec<Option<i64>>, StoreError> {
    city.buildings
        .iter()
        .map(|(_, code)| {
            code.as_deref()
                .map(|code| {
                    resolve(grids, code, || {
                        format!("a building names an unknown grid {code}")
                    })
                })
                .transpose()
        })
        .collect()
}
