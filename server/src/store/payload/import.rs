//! The codes a city import names (parent regions, communities, grids), resolved to the row ids the
//! backend assigned. An unknown code refuses the whole import with a `Conflict` naming it.

use std::collections::HashMap;

use super::super::{NewCity, StoreError};
use super::codec::cell_to_i64;

/// Resolves a code named by an import row, or says which row named what.
pub(crate) fn resolve(
    ids: &HashMap<String, i64>,
    code: &str,
    what: impl FnOnce() -> String,
) -> Result<i64, StoreError> {
    ids.get(code)
        .copied()
        .ok_or_else(|| StoreError::Conflict(what()))
}

/// A region's parent id, when it names one.
pub(crate) fn parent(
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
pub(crate) fn communities(
    city: &NewCity,
    regions: &HashMap<String, i64>,
) -> Result<Vec<i64>, StoreError> {
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

/// Every cell of the city and the id of the grid holding it, as two parallel columns.
pub(crate) fn cells(
    city: &NewCity,
    grids: &HashMap<String, i64>,
) -> Result<(Vec<i64>, Vec<i64>), StoreError> {
    let total = city.grids.iter().map(|g| g.cells.len()).sum();
    let (mut cells, mut owners) = (Vec::with_capacity(total), Vec::with_capacity(total));
    for grid in &city.grids {
        let id = resolve(grids, &grid.code, || {
            format!("grid {} was not stored", grid.code)
        })?;
        cells.extend(grid.cells.iter().map(|&c| cell_to_i64(c)));
        owners.extend(std::iter::repeat_n(id, grid.cells.len()));
    }
    Ok((cells, owners))
}

/// Each building's grid id, in the order of `city.buildings`.
pub(crate) fn building_grids(
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
