//! The automatic proposal: geodata's partitioner on the community's cells and households, with the old
//! codes kept where a new group matches an old grid (see the parent module).

use h3o::CellIndex;
use rustc_hash::FxHashMap;

use super::validate::{Current, ProposedGrid, loads};
use crate::domain::RegionId;
use crate::world::World;

/// The proposal for community `community`: every group of `partition_cells`, each with the code of the
/// old grid it shares the most households with (then cells), or none (a new grid). Groups are given
/// north to south, then west to east, by the mean of their cell centres.
#[must_use]
#[expect(
    clippy::cast_precision_loss,
    reason = "a mean over a community's cells"
)]
pub fn proposal(world: &World, community: RegionId) -> Vec<ProposedGrid> {
    let current = Current::of(world, community);
    let loads = loads(world, &current.cells);
    let mut cells: Vec<CellIndex> = current.cells.iter().copied().collect();
    cells.sort_unstable();
    let mut groups = gridwatch_geodata::partition_cells(
        &cells,
        &loads,
        &gridwatch_geodata::PartitionRules::default(),
    );
    let centre = |cells: &[CellIndex]| {
        let n = cells.len().max(1) as f64;
        let (lon, lat) = cells
            .iter()
            .map(|&c| gridwatch_geodata::cells::cell_center(c))
            .fold((0.0, 0.0), |(x, y), (lon, lat)| (x + lon, y + lat));
        (lat / n, lon / n)
    };
    groups.sort_by(|a, b| {
        let ((alat, alon), (blat, blon)) = (centre(a), centre(b));
        blat.total_cmp(&alat).then(alon.total_cmp(&blon))
    });

    let mut old_of: FxHashMap<CellIndex, usize> = FxHashMap::default();
    for (i, grid) in current.grids.iter().enumerate() {
        for &cell in &grid.cells {
            old_of.insert(cell, i);
        }
    }
    // (shared households, shared cells) of every (group, old grid) pair that shares a cell.
    let mut shared: FxHashMap<(usize, usize), (u64, usize)> = FxHashMap::default();
    for (g, group) in groups.iter().enumerate() {
        for cell in group {
            if let Some(&o) = old_of.get(cell) {
                let entry = shared.entry((g, o)).or_default();
                entry.0 += u64::from(loads.get(cell).map_or(0, |l| l.households));
                entry.1 += 1;
            }
        }
    }
    let mut pairs: Vec<((usize, usize), (u64, usize))> = shared.into_iter().collect();
    pairs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut code_of_group: Vec<Option<String>> = vec![None; groups.len()];
    let mut taken = vec![false; current.grids.len()];
    for ((g, o), _) in pairs {
        if code_of_group[g].is_none() && !taken[o] {
            code_of_group[g] = Some(current.grids[o].code.clone());
            taken[o] = true;
        }
    }
    groups
        .into_iter()
        .zip(code_of_group)
        .map(|(cells, code)| ProposedGrid {
            code,
            name: None,
            cells: cells.iter().map(ToString::to_string).collect(),
        })
        .collect()
}
