//! Reading order, codes and flags of grids (and of communities formed from cells).
//! Works on cell centres in degrees (EPSG:4326); owns no cutting.

use super::{GridFlag, PlannedGrid};
use crate::partition::{CellLoad, Group, PartitionRules};
use h3o::{CellIndex, Resolution};
use std::collections::HashMap;
use std::hash::BuildHasher;

/// Mean meters per degree of latitude.
const M_PER_DEG: f64 = 111_195.0;

/// Sorts groups of cells in reading order: rows north to south, each row about as tall as
/// a typical group (the side of a square of the mean group area), west to east within a
/// row, by the mean of each group's cell centres (from the sum the partitioner gives with
/// each group, [`Group::centre_sum`]).
#[expect(clippy::cast_precision_loss, reason = "cell counts are far below 2^52")]
#[expect(
    clippy::cast_possible_truncation,
    reason = "row numbers are small and finite"
)]
pub(super) fn reading_order(groups: Vec<Group>, res: Resolution) -> Vec<Group> {
    if groups.is_empty() {
        return Vec::new();
    }
    let total_cells: usize = groups.iter().map(|group| group.cells.len()).sum();
    let mean_area_m2 = total_cells as f64 / groups.len() as f64 * res.area_m2();
    let row_height_deg = (mean_area_m2.sqrt() / M_PER_DEG).max(f64::EPSILON);
    let mut keyed: Vec<((f64, f64), Group)> = groups
        .into_iter()
        .map(|group| {
            let n = group.cells.len().max(1) as f64;
            let (lon, lat) = group.centre_sum;
            ((lon / n, lat / n), group)
        })
        .collect();
    let top = keyed
        .iter()
        .map(|((_, lat), _)| *lat)
        .fold(f64::MIN, f64::max);
    let row = |lat: f64| ((top - lat) / row_height_deg).floor() as i64;
    keyed.sort_by(|(a, ga), (b, gb)| {
        row(a.1)
            .cmp(&row(b.1))
            .then(a.0.total_cmp(&b.0))
            .then(ga.cells.first().cmp(&gb.cells.first()))
    });
    keyed.into_iter().map(|(_, group)| group).collect()
}

/// A grid's households, building count and flag from its cells' loads: a single cell over the
/// maximum is flagged as a tower (one building over it) or a full cell, otherwise a grid out of
/// `rules`' range as under or over it. Shared by the city plan and a planner's redraw.
#[must_use]
pub fn grid_figures<S: BuildHasher>(
    cells: &[CellIndex],
    loads: &HashMap<CellIndex, CellLoad, S>,
    rules: &PartitionRules,
) -> (u32, u32, Option<GridFlag>) {
    let (mut households, mut buildings, mut biggest) = (0_u32, 0_u32, 0_u32);
    for load in cells.iter().filter_map(|c| loads.get(c)) {
        households = households.saturating_add(load.households);
        buildings += load.buildings;
        biggest = biggest.max(load.max_building_households);
    }
    let flag = if cells.len() == 1 && households > rules.max_households {
        Some(if biggest > rules.max_households {
            GridFlag::SingleBuildingOverMax { households }
        } else {
            GridFlag::CellOverMax { households }
        })
    } else if households < rules.min_households {
        Some(GridFlag::UnderMin { households })
    } else if households > rules.max_households {
        Some(GridFlag::OverMax { households })
    } else {
        None
    };
    (households, buildings, flag)
}

/// The `n`-th grid (1-based) of a community, with its households, building count and flag.
pub(super) fn grid<S: BuildHasher>(
    community_code: &str,
    n: usize,
    cells: Vec<CellIndex>,
    loads: &HashMap<CellIndex, CellLoad, S>,
    rules: &PartitionRules,
) -> PlannedGrid {
    let (households, building_count, flag) = grid_figures(&cells, loads, rules);
    PlannedGrid {
        community_code: community_code.to_owned(),
        code: format!("{community_code}{n:03}"),
        cells,
        households,
        building_count,
        flag,
    }
}
