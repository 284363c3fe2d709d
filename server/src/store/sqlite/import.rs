//! `import_city` for `SQLite`: every row of a city inside the caller's write transaction, each table
//! as multi-row INSERTs of at most `MAX_BINDS` bound values.

use std::collections::HashMap;

use sqlx::sqlite::SqliteConnection;
use sqlx::{QueryBuilder, Sqlite};

use super::{insert_region_row, put_setting};
use crate::store::payload::codec::{cell_to_i64, flag_text, geojson_text, resolution_text};
use crate::store::payload::conflict::Context;
use crate::store::payload::{self, import};
use crate::store::{NewCity, StoreError};

/// Bound values per multi-row INSERT; `SQLite` accepts at most 32 766.
const MAX_BINDS: usize = 32_000;

/// Writes the settings, regions, grids, cells, buildings and base map of `city`, refusing a store that already
/// holds grids. The caller appends the event and commits.
pub(super) async fn write_city(
    conn: &mut SqliteConnection,
    city: &NewCity,
) -> Result<(), StoreError> {
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
    let grids = write_grids(conn, city, &import::communities(city, &regions)?).await?;
    let (cells, owners) = import::cells(city, &grids)?;
    write_cells(conn, &cells, &owners).await?;
    write_buildings(conn, city, &import::building_grids(city, &grids)?).await?;
    write_base_map(conn, city).await
}

/// One at a time, parents first, so each child finds its parent's id; returns every region's id by code.
async fn write_regions(
    conn: &mut SqliteConnection,
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
    conn: &mut SqliteConnection,
    city: &NewCity,
    communities: &[i64],
) -> Result<HashMap<String, i64>, StoreError> {
    let rows: Vec<_> = city.grids.iter().zip(communities).collect();
    let mut ids = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(MAX_BINDS / 7) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO grids (code, name, community_id, households, building_count, flag, boundary) ",
        );
        insert.push_values(chunk, |mut row, (grid, community)| {
            row.push_bind(grid.code.clone())
                .push_bind(grid.name.clone())
                .push_bind(**community)
                .push_bind(i64::from(grid.households))
                .push_bind(i64::from(grid.building_count))
                .push_bind(flag_text(grid.flag.as_ref()))
                .push_bind(geojson_text(&grid.boundary));
        });
        insert.push(" RETURNING code, id");
        let stored: Vec<(String, i64)> = insert
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .context("importing grids")?;
        ids.extend(stored);
    }
    Ok(ids)
}

async fn write_cells(
    conn: &mut SqliteConnection,
    cells: &[i64],
    owners: &[i64],
) -> Result<(), StoreError> {
    let rows: Vec<(i64, i64)> = cells.iter().copied().zip(owners.iter().copied()).collect();
    for chunk in rows.chunks(MAX_BINDS / 2) {
        let mut insert = QueryBuilder::<Sqlite>::new("INSERT INTO grid_cells (cell, grid_id) ");
        insert.push_values(chunk, |mut row, &(cell, grid)| {
            row.push_bind(cell).push_bind(grid);
        });
        insert
            .build()
            .execute(&mut *conn)
            .await
            .context("importing grid cells")?;
    }
    Ok(())
}

async fn write_buildings(
    conn: &mut SqliteConnection,
    city: &NewCity,
    grids: &[Option<i64>],
) -> Result<(), StoreError> {
    let rows: Vec<_> = city.buildings.iter().map(|(b, _)| b).zip(grids).collect();
    for chunk in rows.chunks(MAX_BINDS / 7) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO buildings (source_id, footprint, kind, levels, households, cell, grid_id) ",
        );
        insert.push_values(chunk, |mut row, (building, grid)| {
            row.push_bind(building.source_id.clone())
                .push_bind(geojson_text(&building.footprint))
                .push_bind(building.kind.clone())
                .push_bind(building.levels.map(i64::from))
                .push_bind(i64::from(building.households))
                .push_bind(cell_to_i64(building.cell))
                .push_bind(**grid);
        });
        insert
            .build()
            .execute(&mut *conn)
            .await
            .context("importing buildings")?;
    }
    Ok(())
}

/// The base map's lines and areas, in input order.
async fn write_base_map(conn: &mut SqliteConnection, city: &NewCity) -> Result<(), StoreError> {
    let lines: Vec<_> = city
        .base_lines
        .iter()
        .map(|l| (&l.kind, &l.name, geojson_text(&l.geometry)))
        .collect();
    write_base_rows(conn, "base_lines", &lines).await?;
    let areas: Vec<_> = city
        .base_areas
        .iter()
        .map(|a| (&a.kind, &a.name, geojson_text(&a.geometry)))
        .collect();
    write_base_rows(conn, "base_areas", &areas).await
}

/// `(kind, name, GeoJSON geometry)` rows into `table`, one of the two base-map tables.
async fn write_base_rows(
    conn: &mut SqliteConnection,
    table: &'static str,
    rows: &[(&String, &Option<String>, String)],
) -> Result<(), StoreError> {
    for chunk in rows.chunks(MAX_BINDS / 3) {
        let mut insert =
            QueryBuilder::<Sqlite>::new(format!("INSERT INTO {table} (kind, name, geometry) "));
        insert.push_values(chunk, |mut row, (kind, name, geometry)| {
            row.push_bind((*kind).clone())
                .push_bind((*name).clone())
                .push_bind(geometry.clone());
        });
        insert
            .build()
            .execute(&mut *conn)
            .await
            .context("importing the base map")?;
    }
    Ok(())
}
