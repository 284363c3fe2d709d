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
    let mut out = Vec::with_capacity(k);
    let mut stack = vec![(cells, k)];
    while let Some((cells, k)) = stack.pop() {
        if k <= 1 || cells.len() <= 1 {
            out.push(cells);
            continue;
        }
        let k1 = k / 2;
        let k2 = k - k1;
        let (left, right) = cut(graph, households, cells, k1, k2);
        // Right first on the stack so the left side is emitted first: a stable order.
        stack.push((right, k2));
        stack.push((left, k1));
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
) -> (Vec<u32>, Vec<u32>) {
    let (mut min_x, mut max_x, mut min_y, mut max_y) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &id in &cells {
        let (x, y) = graph.xy[id as usize];
        min_x = min_x.min(x);
        max_x = max_x.max(x);
        min_y = min_y.min(y);
        max_y = max_y.max(y);
    }
    let along_x = max_x - min_x >= max_y - min_y;
    let key = |id: u32| {
        let (x, y) = graph.xy[id as usize];
        if along_x { (x, y) } else { (y, x) }
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
