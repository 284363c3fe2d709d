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
//! 5. If some group is still out of range, steps 3–4 are tried again with the neighbouring
//!    counts (k ± 1, ± 2) that keep the mean in range; the first result fully in range
//!    wins, else the one with the least total excess.
//! 6. Groups still out of range are re-cut locally together with their neighbouring groups
//!    (steps 2–4 on that union, cutting across two or four directions), while that lowers
//!    the total excess. See [`refine`].
//!
//! With barriers ([`partition_cells_with_barriers`]: major roads, railways, water), each
//! adjacency costs what cutting it costs, less on a barrier. Step 3 then takes a cut along
//! barriers instead of the balanced one when it is much cheaper and keeps both sides' means
//! well in range (any split of the groups, any barrier's direction); step 4 weighs
//! adjacencies by that cost. If that leaves groups out of range that the plain cuts would
//! not, the plain cuts win: barriers never cost a grid its range.
//!
//! Deterministic: no randomness, ties broken by cell index. Geometry is only H3 adjacency
//! and cell centres; it must not know about regions, codes or files.

mod bisect;
mod repair;

use crate::barriers::Barriers;
use crate::cells::{CellGraph, GraphOutlines};
use h3o::CellIndex;
use std::collections::HashMap;
use std::hash::BuildHasher;

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
pub fn partition_cells<S: BuildHasher>(
    cells: &[CellIndex],
    loads: &HashMap<CellIndex, CellLoad, S>,
    rules: &PartitionRules,
) -> Vec<Vec<CellIndex>> {
    groups(partition_range(
        cells,
        loads,
        rules.min_households,
        rules.max_households,
        None,
        false,
    ))
}

/// The cells of the groups of [`partition_range`].
fn groups(grouped: Vec<Group>) -> Vec<Vec<CellIndex>> {
    grouped.into_iter().map(|group| group.cells).collect()
}

/// One group of [`partition_range`], with what the cell graph already knows of it.
pub(crate) struct Group {
    /// Its cells, sorted.
    pub cells: Vec<CellIndex>,
    /// The sum of its cells' centres ([`crate::cells::cell_center`], degrees, added in
    /// cell order): the planner orders grids by them.
    pub centre_sum: (f64, f64),
    /// Its Polsby–Popper ([`crate::cells::polsby_popper`], bit for bit), when asked for.
    pub polsby_popper: Option<f64>,
}

/// [`partition_cells`] preferring grid edges along `barriers` (major roads, railways,
/// water; see [`Barriers`]): where a cut along them is much cheaper than the balanced cut
/// and keeps both sides' means well in range, it is taken, and the repair passes keep
/// borders on them. Never leaves more households out of range than [`partition_cells`]
/// would on the same cuts; with no barrier among the cells it gives the same grids.
#[must_use]
pub fn partition_cells_with_barriers<S: BuildHasher>(
    cells: &[CellIndex],
    loads: &HashMap<CellIndex, CellLoad, S>,
    rules: &PartitionRules,
    barriers: &Barriers,
) -> Vec<Vec<CellIndex>> {
    groups(partition_range(
        cells,
        loads,
        rules.min_households,
        rules.max_households,
        Some(barriers),
        false,
    ))
}

/// [`partition_cells`] for any household range (`min..=max`), with optional barriers. Each
/// group comes with the sum of its cells' centres, and with `compactness` its
/// Polsby–Popper, both measured on the cell graph built for the cut ([`Group`]): the
/// planner orders and reports grids by them without asking h3o again.
pub(crate) fn partition_range<S: BuildHasher>(
    cells: &[CellIndex],
    loads: &HashMap<CellIndex, CellLoad, S>,
    min: u32,
    max: u32,
    barriers: Option<&Barriers>,
    compactness: bool,
) -> Vec<Group> {
    let (min, max) = (u64::from(min), u64::from(max.max(min)));
    let households = |cell: &CellIndex| u64::from(loads.get(cell).map_or(0, |l| l.households));
    let mut graph = CellGraph::new(cells);
    if let Some(barriers) = barriers.filter(|b| !b.is_empty()) {
        let classified = barriers.classify(&graph);
        graph.set_barriers(classified);
    }
    let oversize: Vec<bool> = graph.cells.iter().map(|c| households(c) > max).collect();

    let mut out: Vec<Vec<CellIndex>> = graph
        .cells
        .iter()
        .zip(&oversize)
        .filter(|(_, o)| **o)
        .map(|(&c, _)| vec![c])
        .collect();
    let parts = components(&graph, |id| !oversize[id as usize]);
    // Outlines measured while comparing cuts serve again for the grids' compactness.
    let mut outlines = GraphOutlines::new(&graph);
    if let [only] = parts.as_slice()
        && only.len() == graph.len()
    {
        out.extend(partition_component(
            &graph,
            &households,
            min,
            max,
            &mut outlines,
        ));
    } else {
        for component in parts {
            let sub = graph.subgraph(&component);
            let mut sub_outlines = GraphOutlines::new(&sub);
            out.extend(partition_component(
                &sub,
                &households,
                min,
                max,
                &mut sub_outlines,
            ));
        }
    }
    for group in &mut out {
        group.sort_unstable();
    }
    out.sort_unstable_by_key(|g| g[0]);
    let ids: Vec<Vec<u32>> = out
        .iter()
        .map(|group| {
            group
                .iter()
                .filter_map(|c| graph.cells.binary_search(c).ok())
                .map(|id| u32::try_from(id).unwrap_or(u32::MAX))
                .collect()
        })
        .collect();
    let mut measured = if compactness {
        measure_compactness(&graph, &mut outlines, &ids)
    } else {
        Vec::new()
    }
    .into_iter();
    out.into_iter()
        .zip(&ids)
        .map(|(cells, ids)| Group {
            cells,
            centre_sum: ids
                .iter()
                .map(|&id| graph.centres[id as usize])
                .fold((0.0, 0.0), |(x, y), (lon, lat)| (x + lon, y + lat)),
            polsby_popper: measured.next(),
        })
        .collect()
}

/// The Polsby–Popper of each group (`groups`: disjoint sets of `graph` ids, each
/// increasing), measured on the graph's `outlines`: equal bit for bit to
/// [`crate::cells::polsby_popper`] of the group's cells, and only border cells not yet
/// measured are asked of h3o.
fn measure_compactness(
    graph: &CellGraph,
    outlines: &mut GraphOutlines,
    groups: &[Vec<u32>],
) -> Vec<f64> {
    let mut owner = vec![u32::MAX; graph.len()];
    for (g, ids) in (0_u32..).zip(groups) {
        for &id in ids {
            owner[id as usize] = g;
        }
    }
    (0_u32..)
        .zip(groups)
        .map(|(g, ids)| outlines.polsby_popper(ids, &owner, g))
        .collect()
}

/// Partitions one connected set of cells, none over `max` alone. With barriers, it is cut
/// both with them and without, and the cut along barriers is kept only when it leaves no
/// more households out of range and its grids are on the whole no less compact
/// ([`no_less_compact`], measured on `outlines`, the graph's): barriers never cost a grid
/// its range or its shape.
fn partition_component(
    graph: &CellGraph,
    households: &impl Fn(&CellIndex) -> u64,
    min: u64,
    max: u64,
    outlines: &mut GraphOutlines,
) -> Vec<Vec<CellIndex>> {
    let loads: Vec<u64> = graph.cells.iter().map(households).collect();
    // Sorted once for both cuts and every group count tried.
    let ids: Vec<u32> = (0..u32::try_from(graph.len()).unwrap_or(u32::MAX)).collect();
    let sorted = bisect::Sorted::new(graph, ids, bisect::Axes::Two, graph.has_barriers());
    let mut parts = partition_groups(graph, &loads, min, max, &sorted);
    if graph.has_barriers() {
        let bare = graph.without_barriers();
        let plain = partition_groups(&bare, &loads, min, max, &sorted.axes_only());
        let keep = total_excess_of(&parts, &loads, min, max)
            <= total_excess_of(&plain, &loads, min, max)
            && no_less_compact(graph, outlines, &parts, &plain);
        if !keep {
            parts = plain;
        }
    }
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(|p| p.into_iter().map(|id| graph.cells[id as usize]).collect())
        .collect()
}

/// Steps 2–6 on one connected set: tries the group counts that put the mean in range, best
/// first, keeps the first result with every group in range, else refines the one with the
/// least total excess. `sorted`: all the graph's cells, sorted for [`bisect::bisect`].
fn partition_groups(
    graph: &CellGraph,
    loads: &[u64],
    min: u64,
    max: u64,
    sorted: &bisect::Sorted,
) -> Vec<Vec<u32>> {
    let total: u64 = loads.iter().sum();
    let range = graph.has_barriers().then_some((min, max));
    let mut best: Option<(u64, Vec<Vec<u32>>)> = None;
    for k in k_candidates(total, min, max, graph.len()) {
        let parts = bisect::bisect(graph, loads, sorted, k, range);
        let parts = repair::repair(graph, loads, parts, min, max);
        let total_excess = total_excess_of(&parts, loads, min, max);
        if best.as_ref().is_none_or(|(b, _)| total_excess < *b) {
            best = Some((total_excess, parts));
        }
        if total_excess == 0 {
            break;
        }
    }
    match best {
        Some((0, parts)) => parts,
        Some((_, parts)) => refine(graph, loads, parts, min, max),
        None => Vec::new(),
    }
}

/// Whether the groups `a` are on the whole at least as compact as `b`: as many groups, and
/// neither the sum nor the lowest of their Polsby–Popper ([`crate::cells::polsby_popper`],
/// the figure the plan reports) falls. Measured on the graph's `outlines`, each cell's
/// edges asked of h3o once for both; a group of `a` that is also one of `b` is measured
/// once, and `a` stops at its first group below `b`'s lowest.
fn no_less_compact(
    graph: &CellGraph,
    outlines: &mut GraphOutlines,
    a: &[Vec<u32>],
    b: &[Vec<u32>],
) -> bool {
    let sorted = |parts: &[Vec<u32>]| -> Vec<Vec<u32>> {
        parts
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| {
                let mut ids = p.clone();
                ids.sort_unstable();
                ids
            })
            .collect()
    };
    let (a, b) = (sorted(a), sorted(b));
    if a.len() != b.len() {
        return false;
    }
    let mut owner = vec![u32::MAX; graph.len()];
    let own = |parts: &[Vec<u32>], owner: &mut [u32]| {
        for (g, part) in (0_u32..).zip(parts) {
            for &id in part {
                owner[id as usize] = g;
            }
        }
    };
    own(&b, &mut owner);
    // Each group of `b` by its first cell (groups are disjoint), with its figure.
    let mut b_at = vec![u32::MAX; graph.len()];
    let mut b_values = Vec::with_capacity(b.len());
    let (mut sum_b, mut min_b) = (0.0, f64::MAX);
    for (g, part) in (0_u32..).zip(&b) {
        b_at[part[0] as usize] = g;
        let value = outlines.polsby_popper(part, &owner, g);
        b_values.push(value);
        sum_b += value;
        min_b = f64::min(min_b, value);
    }
    own(&a, &mut owner);
    let mut sum_a = 0.0;
    for (g, part) in (0_u32..).zip(&a) {
        let same = b_at[part[0] as usize];
        let value = if same != u32::MAX && b[same as usize] == *part {
            b_values[same as usize]
        } else {
            outlines.polsby_popper(part, &owner, g)
        };
        if value < min_b {
            return false;
        }
        sum_a += value;
    }
    sum_a >= sum_b
}

/// Households below `min` plus above `max`, summed over the groups.
fn total_excess_of(parts: &[Vec<u32>], loads: &[u64], min: u64, max: u64) -> u64 {
    parts
        .iter()
        .map(|p| {
            let sum: u64 = p.iter().map(|&id| loads[id as usize]).sum();
            min.saturating_sub(sum) + sum.saturating_sub(max)
        })
        .sum()
}

/// Rounds of [`refine`]; each replaces at least one set of groups.
const MAX_REFINE_ROUNDS: usize = 16;
/// Groups in the largest set [`refine`] re-cuts at once.
const MAX_REFINE_GROUPS: usize = 24;

/// Local re-partition: for each group still out of range, re-cuts it together with
/// neighbouring groups (with each neighbour, then with all of them, then with their
/// neighbours too) from scratch — every group count that keeps the mean in range, and cuts
/// across two or four directions — and keeps the first re-cut that lowers the set's total
/// excess. The set is connected, so the new groups stay inside it and contiguous.
fn refine(
    graph: &CellGraph,
    loads: &[u64],
    mut parts: Vec<Vec<u32>>,
    min: u64,
    max: u64,
) -> Vec<Vec<u32>> {
    let excess = |sum: u64| min.saturating_sub(sum) + sum.saturating_sub(max);
    let sum_of = |part: &[u32]| part.iter().map(|&id| loads[id as usize]).sum::<u64>();
    for _ in 0..MAX_REFINE_ROUNDS {
        let mut owner = vec![u32::MAX; graph.len()];
        for (g, part) in (0_u32..).zip(&parts) {
            for &id in part {
                owner[id as usize] = g;
            }
        }
        let neighbours_of = |groups: &[u32]| {
            let mut out: Vec<u32> = groups
                .iter()
                .flat_map(|&g| &parts[g as usize])
                .flat_map(|&id| graph.neighbours(id))
                .map(|&n| owner[n as usize])
                .chain(groups.iter().copied())
                .filter(|&o| o != u32::MAX)
                .collect();
            out.sort_unstable();
            out.dedup();
            out
        };
        let bad = (0_u32..)
            .zip(&parts)
            .filter(|(_, part)| excess(sum_of(part)) > 0)
            .map(|(g, _)| g);
        let mut replaced = None;
        'groups: for g in bad {
            let around = neighbours_of(&[g]);
            let mut sets: Vec<Vec<u32>> = around
                .iter()
                .filter(|&&b| b != g)
                .map(|&b| {
                    let mut pair = vec![g, b];
                    pair.sort_unstable();
                    pair
                })
                .collect();
            let wider = neighbours_of(&around);
            sets.push(around);
            sets.push(wider);
            for set in sets {
                if set.len() > MAX_REFINE_GROUPS {
                    continue;
                }
                if let Some(new_parts) = recut(graph, loads, &parts, &set, min, max) {
                    replaced = Some((set, new_parts));
                    break 'groups;
                }
            }
        }
        let Some((set, new_parts)) = replaced else {
            break;
        };
        let mut index = 0_u32;
        parts.retain(|_| {
            let keep = set.binary_search(&index).is_err();
            index += 1;
            keep
        });
        parts.extend(new_parts);
    }
    parts
}

/// Re-cuts the union of the groups `set` (sorted ids into `parts`) from scratch; returns the
/// best new groups (ids of `graph`) if they have less total excess than the old ones.
fn recut(
    graph: &CellGraph,
    loads: &[u64],
    parts: &[Vec<u32>],
    set: &[u32],
    min: u64,
    max: u64,
) -> Option<Vec<Vec<u32>>> {
    let excess = |sum: u64| min.saturating_sub(sum) + sum.saturating_sub(max);
    let mut ids: Vec<u32> = set
        .iter()
        .flat_map(|&g| parts[g as usize].clone())
        .collect();
    // Ids follow the sorted cell order, so sorted ids match the sub-graph's ids one to one.
    ids.sort_unstable();
    let old: u64 = set
        .iter()
        .map(|&g| excess(parts[g as usize].iter().map(|&id| loads[id as usize]).sum()))
        .sum();
    let sub = graph.subgraph(&ids);
    let sub_loads: Vec<u64> = ids.iter().map(|&id| loads[id as usize]).collect();
    let total: u64 = sub_loads.iter().sum();
    let all: Vec<u32> = (0..u32::try_from(sub.len()).unwrap_or(u32::MAX)).collect();
    let mut counts = k_candidates(total, min, max, sub.len());
    for k in [set.len(), set.len() + 1] {
        if !counts.contains(&k) && k <= sub.len() {
            counts.push(k);
        }
    }
    let mut best: Option<(u64, Vec<Vec<u32>>)> = None;
    for k in counts {
        for axes in [
            bisect::Axes::Two,
            bisect::Axes::Four,
            bisect::Axes::ShortFirst,
        ] {
            let cut = bisect::bisect_with(&sub, &sub_loads, all.clone(), k, axes, None);
            let new_parts: Vec<Vec<u32>> = repair::repair(&sub, &sub_loads, cut, min, max)
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect();
            let connected = new_parts.iter().all(|p| {
                let inside: std::collections::HashSet<u32> = p.iter().copied().collect();
                components(&sub, |id| inside.contains(&id)).len() == 1
            });
            let new: u64 = new_parts
                .iter()
                .map(|p| excess(p.iter().map(|&id| sub_loads[id as usize]).sum()))
                .sum();
            if connected && new < old && best.as_ref().is_none_or(|(b, _)| new < *b) {
                best = Some((new, new_parts));
            }
        }
        if best.as_ref().is_some_and(|(b, _)| *b == 0) {
            break;
        }
    }
    best.map(|(_, new_parts)| {
        new_parts
            .into_iter()
            .map(|p| p.into_iter().map(|id| ids[id as usize]).collect())
            .collect()
    })
}

/// Group counts to try, best first: [`choose_k`], then its neighbours (±1, ±2) while they
/// keep the mean households per group in range.
fn k_candidates(total: u64, min: u64, max: u64, cells: usize) -> Vec<usize> {
    let k0 = choose_k(total, min, max, cells);
    let mut out = vec![k0];
    if total == 0 {
        return out;
    }
    for k in [k0 + 1, k0.saturating_sub(1), k0 + 2, k0.saturating_sub(2)] {
        let kk = u64::try_from(k).unwrap_or(u64::MAX);
        let mean_in_range =
            kk >= 1 && total <= kk.saturating_mul(max) && total >= kk.saturating_mul(min);
        if k >= 1 && k <= cells && mean_in_range && !out.contains(&k) {
            out.push(k);
        }
    }
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
    let high = total.checked_div(min).unwrap_or(u64::MAX);
    let k = if low <= high {
        guess.clamp(low, high)
    } else {
        // No k puts the mean in range: least total excess, below min or above max.
        let excess = |k: u64| {
            k.saturating_mul(min).saturating_sub(total)
                + total.saturating_sub(k.saturating_mul(max))
        };
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
