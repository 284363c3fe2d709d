//! `import_city` for `PostgreSQL`: every row of a city inside the caller's write transaction, each
//! table after the regions sent as parallel arrays in one `UNNEST` statement.

use std::collections::HashMap;

use sqlx::postgres::PgConnection;

use super::{insert_region_row, lock_events, put_setting};
use crate::store::payload::codec::{cell_to_i64, flag_text, geojson_text, resolution_text};
use crate::store::payload::conflict::Context;
use crate::store::payload::{self, import};
use crate::store::{NewCity, StoreError};

/// Writes the settings, regions, grids, cells, buildings and base map of `city`, refusing a store that already
/// holds grids. The caller appends the event and commits.
pub(super) async fn write_city(conn: &mut PgConnection, city: &NewCity) -> Result<(), StoreError> {
    // Taken before the check, so two concurrent imports cannot both find the store empty.
    lock_events(conn).await?;
    let has_grids: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM grids)")
        .fetch_one(&mut *conn)
        .await
        .context("checking for a city")?;
    if has_grids {
        return Err(StoreError::Conflict(payload::CITY_EXISTS.to_owned()));
    }
    let resolution = resolution_text(city.resolution);
    put_setting(conn, payload::CELL_RESOLUTION, Some(&resolution)).await?;
    put_setting(conn, payload::CITY_NAME, Some(&city.name)).await?;
    put_setting(conn, payload::ATTRIBUTION, city.attribution.as_deref()).await?;

    let regions = write_regions(conn, city).await?;
    let grids = write_grids(conn, city, import::communities(city, &regions)?).await?;
    let (cells, owners) = import::cells(city, &grids)?;
    sqlx::query(include_str!("insert_cells.sql"))
        .bind(cells)
        .bind(owners)
        .execute(&mut *conn)
        .await
        .context("importing grid cells")?;
    write_buildings(conn, city, import::building_grids(city, &grids)?).await?;
    write_base_map(conn, city).await
}

/// One at a time, parents first, so each child finds its parent's id; returns every region's id by code.
async fn write_regions(
    conn: &mut PgConnection,
    city: &NewCity,
) -> Result<HashMap<String, i64>, StoreError> {
    let mut ids: HashMap<String, i64> = sqlx::query_as("SELECT code, id FROM regions")
        .fetch_all(&mut *conn)
        .await
        .context("loading region codes")?
        .into_iter()
        .collect();
    for (region, parent) in &city.regions {
        let parent = import::parent(&ids, &region.code, parent.as_deref())?;
        let id = insert_region_row(conn, region, parent).await?;
        ids.insert(region.code.clone(), id);
    }
    Ok(ids)
}

/// Returns every grid's id by code.
async fn write_grids(
    conn: &mut PgConnection,
    city: &NewCity,
    communities: Vec<i64>,
) -> Result<HashMap<String, i64>, StoreError> {
    let grids = &city.grids;
    let stored: Vec<(String, i64)> = sqlx::query_as(include_str!("insert_grids.sql"))
        .bind(grids.iter().map(|g| g.code.clone()).collect::<Vec<_>>())
        .bind(grids.iter().map(|g| g.name.clone()).collect::<Vec<_>>())
        .bind(communities)
        .bind(
            grids
                .iter()
                .map(|g| i64::from(g.households))
                .collect::<Vec<_>>(),
        )
        .bind(
            grids
                .iter()
                .map(|g| i64::from(g.building_count))
                .collect::<Vec<_>>(),
        )
        .bind(
            grids
                .iter()
                .map(|g| flag_text(g.flag.as_ref()))
                .collect::<Vec<_>>(),
        )
        .bind(
            grids
                .iter()
                .map(|g| geojson_text(&g.boundary))
                .collect::<Vec<_>>(),
        )
        .fetch_all(&mut *conn)
        .await
        .context("importing grids")?;
    Ok(stored.into_iter().collect())
}

async fn write_buildings(
    conn: &mut PgConnection,
    city: &NewCity,
    grids: Vec<Option<i64>>,
) -> Result<(), StoreError> {
    let buildings = || city.buildings.iter().map(|(b, _)| b);
    sqlx::query(include_str!("insert_buildings.sql"))
        .bind(buildings().map(|b| b.source_id.clone()).collect::<Vec<_>>())
        .bind(
            buildings()
                .map(|b| geojson_text(&b.footprint))
                .collect::<Vec<_>>(),
        )
        .bind(buildings().map(|b| b.kind.clone()).collect::<Vec<_>>())
        .bind(
            buildings()
                .map(|b| b.levels.map(i64::from))
                .collect::<Vec<_>>(),
        )
        .bind(
            buildings()
                .map(|b| i64::from(b.households))
                .collect::<Vec<_>>(),
        )
        .bind(buildings().map(|b| cell_to_i64(b.cell)).collect::<Vec<_>>())
        .bind(grids)
        .execute(&mut *conn)
        .await
        .context("importing buildings")?;
    Ok(())
}

/// The base map's lines and areas, each table in one statement, in input order.
async fn write_base_map(conn: &mut PgConnection, city: &NewCity) -> Result<(), StoreError> {
    let lines = &city.base_lines;
    sqlx::query(include_str!("insert_base_lines.sql"))
        .bind(lines.iter().map(|l| l.kind.clone()).collect::<Vec<_>>())
        .bind(lines.iter().map(|l| l.name.clone()).collect::<Vec<_>>())
        .bind(
            lines
                .iter()
                .map(|l| geojson_text(&l.geometry))
                .collect::<Vec<_>>(),
        )
        .execute(&mut *conn)
        .await
        .context("importing base-map lines")?;
    let areas = &city.base_areas;
    sqlx::query(include_str!("insert_base_areas.sql"))
        .bind(areas.iter().map(|a| a.kind.clone()).collect::<Vec<_>>())
        .bind(areas.iter().map(|a| a.name.clone()).collect::<Vec<_>>())
        .bind(
            areas
                .iter()
                .map(|a| geojson_text(&a.geometry))
                .collect::<Vec<_>>(),
        )
        .execute(&mut *conn)
        .await
        .context("importing base-map areas")?;
    Ok(())
}
