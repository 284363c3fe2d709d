//! Joins OSM way node lists into closed rings (multipolygon and boundary relations).
//! Works on node ids only; it owns no coordinates and no tags.

use std::collections::VecDeque;

/// Joins ways end to end into closed rings of node ids (first id == last id).
///
/// Ways may be reversed to join. `None` when a chain cannot be closed (a member is missing
/// from the extract) or a ring has fewer than 4 nodes.
pub(super) fn join_rings(ways: &[&[i64]]) -> Option<Vec<Vec<i64>>> {
    let mut remaining: VecDeque<Vec<i64>> = ways
        .iter()
        .filter(|w| !w.is_empty())
        .map(|w| w.to_vec())
        .collect();
    let mut rings = Vec::new();
    while let Some(mut ring) = remaining.pop_front() {
        loop {
            let first = *ring.first()?;
            let last = *ring.last()?;
            if first == last {
                if ring.len() < 4 {
                    return None;
                }
                rings.push(ring);
                break;
            }
            let position = remaining
                .iter()
                .position(|w| w.first() == Some(&last) || w.last() == Some(&last))?;
            let mut next = remaining.remove(position)?;
            if next.first() != Some(&last) {
                next.reverse();
            }
            ring.extend_from_slice(&next[1..]);
        }
    }
    Some(rings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_reversed_pieces() {
        let a = [1, 2, 3];
        let b = [5, 4, 3];
        let c = [5, 1];
        let rings = join_rings(&[&a, &b, &c]).expect("closes");
        assert_eq!(rings, vec![vec![1, 2, 3, 4, 5, 1]]);
    }

    #[test]
    fn keeps_separate_rings_apart() {
        let a = [1, 2, 3, 1];
        let b = [7, 8, 9, 7];
        assert_eq!(join_rings(&[&a, &b]).map(|r| r.len()), Some(2));
    }

    #[test]
    fn an_open_chain_is_incomplete() {
        let a = [1, 2, 3];
        let b = [3, 4];
        assert_eq!(join_rings(&[&a, &b]), None);
    }
}
