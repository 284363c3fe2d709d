//! Recursive bisection of a cell set into `k` groups of near-equal households.
//!
//! Works in the local metric projection of [`CellGraph`] (meters); owns only the cut rule.

use crate::cells::CellGraph;

/// Splits `cells` into `k` groups (fewer only if there are fewer cells than `k`).
///
/// Each step sorts the cells along the longer axis of their extent and cuts where the mean
/// households per group on both sides are most equal (`|left / k1 − right / k2|`), the
/// left side getting `k1 = k / 2` groups. Among equally good cuts it takes the one closest
/// to an even share of cells, so empty land is split in proportion too.
pub(super) fn bisect(
    graph: &CellGraph,
    households: &[u64],
    cells: Vec<u32>,
    k: usize,
) -> Vec<Vec<u32>> {
    bisect_with(graph, households, cells, k, Axes::Two)
}

/// Which directions a cut may run across.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Axes {
    /// The longer of x and y (the default).
    Two,
    /// The longest of x, y and the two diagonals.
    Four,
    /// The shorter of x and y for the first cut, then the longer: another first cut.
    ShortFirst,
}

/// [`bisect`] with a choice of cut directions, for the local re-partition of
/// [`super::refine`].
pub(super) fn bisect_with(
    graph: &CellGraph,
    households: &[u64],
    cells: Vec<u32>,
    k: usize,
    axes: Axes,
) -> Vec<Vec<u32>> {
    let mut out = Vec::with_capacity(k);
    let mut stack = vec![(cells, k, true)];
    while let Some((cells, k, first)) = stack.pop() {
        if k <= 1 || cells.len() <= 1 {
            out.push(cells);
            continue;
        }
        let k1 = k / 2;
        let k2 = k - k1;
        let axes_here = match axes {
            Axes::ShortFirst if !first => Axes::Two,
            other => other,
        };
        let (left, right) = cut(graph, households, cells, k1, k2, axes_here);
        // Right first on the stack so the left side is emitted first: a stable order.
        stack.push((right, k2, false));
        stack.push((left, k1, false));
    }
    out
}

#[expect(
    clippy::cast_precision_loss,
    reason = "households and cell counts are far below 2^52"
)]
fn cut(
    graph: &CellGraph,
    households: &[u64],
    mut cells: Vec<u32>,
    k1: usize,
    k2: usize,
    axes: Axes,
) -> (Vec<u32>, Vec<u32>) {
    // Unit directions (x, y): x, y, and for `Axes::Four` the two diagonals.
    let h = std::f64::consts::FRAC_1_SQRT_2;
    let directions: &[(f64, f64)] = match axes {
        Axes::Four => &[(1.0, 0.0), (0.0, 1.0), (h, h), (h, -h)],
        Axes::Two | Axes::ShortFirst => &[(1.0, 0.0), (0.0, 1.0)],
    };
    let extent = |&(dx, dy): &(f64, f64)| {
        let (mut lo, mut hi) = (f64::MAX, f64::MIN);
        for &id in &cells {
            let (x, y) = graph.xy[id as usize];
            let v = x * dx + y * dy;
            lo = lo.min(v);
            hi = hi.max(v);
        }
        hi - lo
    };
    let extents: Vec<f64> = directions.iter().map(extent).collect();
    // The longest direction (the first on ties), or for `ShortFirst` the shortest.
    let mut pick = 0;
    for (i, &e) in extents.iter().enumerate().skip(1) {
        let better = if axes == Axes::ShortFirst {
            e < extents[pick]
        } else {
            e > extents[pick]
        };
        if better {
            pick = i;
        }
    }
    let (dx, dy) = directions[pick];
    let key = |id: u32| {
        let (x, y) = graph.xy[id as usize];
        // Along y the tie-break is x (as it always was), else the perpendicular.
        let across = if pick == 1 { x } else { y * dx - x * dy };
        (x * dx + y * dy, across)
    };
    cells.sort_unstable_by(|&a, &b| {
        key(a)
            .partial_cmp(&key(b))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(&b))
    });

    let n = cells.len();
    let total: u64 = cells.iter().map(|&id| households[id as usize]).sum();
    let (k1f, k2f) = (k1 as f64, k2 as f64);
    let even = n as f64 * k1f / (k1f + k2f);
    // Each side needs at least as many cells as groups.
    let first = k1.max(1);
    let last = n.saturating_sub(k2.max(1));
    let mut best: Option<(f64, f64, usize)> = None;
    let mut left_sum = cells[..first.min(n)]
        .iter()
        .map(|&id| households[id as usize])
        .sum::<u64>();
    for i in first..=last.max(first).min(n - 1) {
        if i > first {
            left_sum += households[cells[i - 1] as usize];
        }
        let right_sum = total - left_sum;
        let score = (left_sum as f64 / k1f - right_sum as f64 / k2f).abs();
        let spread = (i as f64 - even).abs();
        let better = match best {
            None => true,
            Some((s, d, _)) => score < s - 1e-9 || (score <= s + 1e-9 && spread < d),
        };
        if better {
            best = Some((score, spread, i));
        }
    }
    let at = best.map_or(n / 2, |(_, _, i)| i).clamp(1, n - 1);
    let right = cells.split_off(at);
    (cells, right)
}
