//! The grid partitioner: splits a set of H3 cells into contiguous groups whose households
//! fall in a range (grids of 100–150 households, or communities of 1,500–2,500).
//!
//! Owns the rules ([`PartitionRules`]), the per-cell load ([`CellLoad`]) and the method:
//!
//! 1. A cell whose households exceed the maximum on its own becomes a group by itself
//!    (a tower: the planner flags it).
//! 2. The other cells are split into connected components (H3 neighbours); each component
//!    gets `k` groups, the count that puts its mean households per group in range
//!    (`round(H / mid-range)`, moved into `[H / max, H / min]` when that interval holds an
//!    integer; otherwise the `k` with the least total excess).
//! 3. Recursive bisection: the cells are sorted along the longer axis of their extent
//!    (local metric projection, x = lon·cos(lat0)) and cut where the two sides' mean
//!    households per group are most equal; among equal cuts, the one closest to an even
//!    share of cells. See [`bisect`].
//! 4. Contiguity repair, then a balancing pass that moves short chains of border cells
//!    between neighbouring groups while any group is out of range. See [`repair`].
//!
//! Deterministic: no randomness, ties broken by cell index. Geometry is only H3 adjacency
//! and cell centres; it must not know about regions, codes or files.

mod bisect;
mod repair;

use crate::cells::CellGraph;
use h3o::CellIndex;
use std::collections::HashMap;

/// Household ranges for grids and communities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartitionRules {
    /// Fewest households in a grid (100).
    pub min_households: u32,
    /// Most households in a grid (150).
    pub max_households: u32,
    /// Fewest households in a community formed from cells (1,500).
    pub community_min_households: u32,
    /// Most households in a community formed from cells (2,500).
    pub community_max_households: u32,
}

impl Default for PartitionRules {
    fn default() -> Self {
        Self {
            min_households: 100,
            max_households: 150,
            community_min_households: 1500,
            community_max_households: 2500,
        }
    }
}

/// What lies in one cell: the buildings whose centroid falls in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CellLoad {
    /// Households of those buildings.
    pub households: u32,
    /// Number of those buildings.
    pub buildings: u32,
    /// Households of the largest of them.
    pub max_building_households: u32,
}

impl CellLoad {
    /// Adds one building of `households` to the cell.
    pub fn add_building(&mut self, households: u32) {
        self.households = self.households.saturating_add(households);
        self.buildings += 1;
        self.max_building_households = self.max_building_households.max(households);
    }
}

/// Splits `cells` into contiguous grids of `rules.min_households..=rules.max_households`
/// households (cells missing from `loads` hold none).
///
/// Every cell lands in exactly one grid; each grid is connected through H3 neighbours
/// (edge-sharing cells) unless the input itself is not. A cell over the maximum alone is its
/// own grid. Grids are returned with their cells sorted, ordered by their first cell.
#[must_use]
pub fn partition_cells(
    cells: &[CellIndex],
    loads: &HashMap<CellIndex, CellLoad>,
    rules: &PartitionRules,
) -> Vec<Vec<CellIndex>> {
    partition_range(cells, loads, rules.min_households, rules.max_households)
}

/// [`partition_cells`] for any household range (`min..=max`).
pub(crate) fn partition_range(
    cells: &[CellIndex],
    loads: &HashMap<CellIndex, CellLoad>,
    min: u32,
    max: u32,
) -> Vec<Vec<CellIndex>> {
    let graph = CellGraph::new(cells);
    let households: Vec<u64> = graph
        .cells
        .iter()
        .map(|c| u64::from(loads.get(c).map_or(0, |l| l.households)))
        .collect();
    let (min, max) = (u64::from(min), u64::from(max.max(min)));

    let mut groups: Vec<Vec<u32>> = Vec::new();
    let mut fixed: Vec<bool> = Vec::new();
    let oversize: Vec<bool> = households.iter().map(|&h| h > max).collect();
    for (id, _) in (0_u32..).zip(&oversize).filter(|(_, o)| **o) {
        groups.push(vec![id]);
        fixed.push(true);
    }
    for component in components(&graph, |id| !oversize[id as usize]) {
        let total: u64 = component.iter().map(|&id| households[id as usize]).sum();
        let k = choose_k(total, min, max, component.len());
        for part in bisect::bisect(&graph, &households, component, k) {
            groups.push(part);
            fixed.push(false);
        }
    }
    let groups = repair::repair(&graph, &households, groups, &fixed, min, max);

    let mut out: Vec<Vec<CellIndex>> = groups
        .into_iter()
        .filter(|g| !g.is_empty())
        .map(|g| {
            let mut cells: Vec<CellIndex> = g.into_iter().map(|id| graph.cells[id as usize]).collect();
            cells.sort_unstable();
            cells
        })
        .collect();
    out.sort_unstable_by_key(|g| g[0]);
    out
}

/// Number of groups for `total` households in a component of `cells` cells.
fn choose_k(total: u64, min: u64, max: u64, cells: usize) -> usize {
    let cells = u64::try_from(cells).unwrap_or(u64::MAX).max(1);
    if total == 0 || max == 0 {
        return 1;
    }
    let mid = (min + max).max(1);
    // round(total / mean) with mean = (min + max) / 2.
    let guess = ((2 * total + mid / 2) / mid).max(1);
    let low = total.div_ceil(max).max(1);
    let high = if min == 0 { u64::MAX } else { total / min };
    let k = if low <= high {
        guess.clamp(low, high)
    } else {
        // No k puts the mean in range: least total excess, below min or above max.
        let excess = |k: u64| k.saturating_mul(min).saturating_sub(total) + total.saturating_sub(k.saturating_mul(max));
        let (a, b) = (high.max(1), low);
        if excess(a) <= excess(b) { a } else { b }
    };
    usize::try_from(k.min(cells)).unwrap_or(1)
}

/// Connected components of the cells accepted by `keep`, each sorted, in order of their
/// smallest id.
pub(crate) fn components(graph: &CellGraph, keep: impl Fn(u32) -> bool) -> Vec<Vec<u32>> {
    let n = u32::try_from(graph.len()).unwrap_or(u32::MAX);
    let mut seen = vec![false; graph.len()];
    let mut out = Vec::new();
    for start in 0..n {
        if seen[start as usize] || !keep(start) {
            continue;
        }
        seen[start as usize] = true;
        let mut component = vec![start];
        let mut head = 0;
        while head < component.len() {
            let id = component[head];
            head += 1;
            for &next in graph.neighbours(id) {
                if !seen[next as usize] && keep(next) {
                    seen[next as usize] = true;
                    component.push(next);
                }
            }
        }
        component.sort_unstable();
        out.push(component);
    }
    out
}

#[cfg(test)]
mod tests;
