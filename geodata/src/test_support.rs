//! Helpers shared by this crate's tests. Written plainly (a flood fill over H3 neighbours) so the
//! tests do not check the partitioner's contiguity repair against its own code.

use std::collections::HashSet;

use h3o::CellIndex;

/// Whether `cells` form one edge-connected piece.
pub(crate) fn is_contiguous(cells: &[CellIndex]) -> bool {
    let set: HashSet<CellIndex> = cells.iter().copied().collect();
    let Some(&start) = cells.first() else {
        return true;
    };
    let mut seen = HashSet::from([start]);
    let mut stack = vec![start];
    while let Some(cell) = stack.pop() {
        for n in crate::cells::neighbours(cell) {
            if set.contains(&n) && seen.insert(n) {
                stack.push(n);
            }
        }
    }
    seen.len() == set.len()
}
