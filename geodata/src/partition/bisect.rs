//! Recursive bisection of a cell set into `k` groups of near-equal households.
//!
//! Works in the local metric projection of [`CellGraph`] (meters); owns only the cut rule,
//! including the preference for cuts along barriers (see [`barrier_cut`]).

use crate::cells::CellGraph;

/// Splits `cells` into `k` groups (fewer only if there are fewer cells than `k`).
///
/// Each step sorts the cells along the longer axis of their extent and cuts where the mean
/// households per group on both sides are most equal (`|left / k1 − right / k2|`), the
/// left side getting `k1 = k / 2` groups. Among equally good cuts it takes the one closest
/// to an even share of cells, so empty land is split in proportion too.
///
/// With `range` (the household range of a group) and a graph with barriers, a much cheaper
/// cut along barriers replaces that one when one keeps both sides' means well in range
/// ([`barrier_cut`]).
pub(super) fn bisect(
    graph: &CellGraph,
    households: &[u64],
    cells: Vec<u32>,
    k: usize,
    range: Option<(u64, u64)>,
) -> Vec<Vec<u32>> {
    bisect_with(graph, households, cells, k, Axes::Two, range)
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
    range: Option<(u64, u64)>,
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
        let (left, right, k1, k2) = cut(graph, households, cells, k1, k2, axes_here, range);
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
    range: Option<(u64, u64)>,
) -> (Vec<u32>, Vec<u32>, usize, usize) {
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
    let k = k1 + k2;
    if let Some((min, max)) = range
        && graph.has_barriers()
        && let Some((order, at, left_groups)) =
            barrier_cut(graph, households, &cells, at, k, (dx, dy), min, max)
    {
        let mut left = order;
        let right = left.split_off(at);
        return (left, right, left_groups, k - left_groups);
    }
    let right = cells.split_off(at);
    (cells, right, k1, k2)
}

/// A barrier cut replaces the balanced one only when it costs less than this share of it
/// (in tenths): clearly more of it runs along barriers.
const BARRIER_CUT_SHARE: u64 = 7;

/// The cheapest cut (cut edges weighted by [`CellGraph::cost`]: an edge on a barrier costs
/// less) among the straight sweeps across `default_order`'s direction and across every
/// barrier line's, at any position and any split of the `k` groups that keeps both sides'
/// mean households per group in the middle three fifths of `min..=max`. Returned as
/// `(order, position, left groups)` when it costs under [`BARRIER_CUT_SHARE`] tenths of the
/// balanced cut at `default_at`; `None` otherwise.
#[expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "households and group counts are far below 2^52"
)]
#[expect(clippy::too_many_arguments, reason = "one cut's whole context")]
fn barrier_cut(
    graph: &CellGraph,
    households: &[u64],
    default_order: &[u32],
    default_at: usize,
    k: usize,
    default_direction: (f64, f64),
    min: u64,
    max: u64,
) -> Option<(Vec<u32>, usize, usize)> {
    let n = default_order.len();
    let total: u64 = default_order
        .iter()
        .map(|&id| households[id as usize])
        .sum();
    if k < 2 || n < 2 || total == 0 {
        return None;
    }
    let margin = (max - min) / 5;
    let (lo, hi) = ((min + margin) as f64, (max - margin) as f64);
    let mut pos = vec![u32::MAX; graph.len()];
    let mut orders: Vec<Vec<u32>> = vec![default_order.to_vec()];
    for &(nx, ny) in &graph.normals {
        if (nx * default_direction.0 + ny * default_direction.1).abs() > 0.995 {
            continue;
        }
        let key = |id: u32| {
            let (x, y) = graph.xy[id as usize];
            (x * nx + y * ny, y * nx - x * ny)
        };
        let mut order = default_order.to_vec();
        order.sort_unstable_by(|&a, &b| {
            key(a)
                .partial_cmp(&key(b))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.cmp(&b))
        });
        orders.push(order);
    }
    // (cost, imbalance, direction, position, left groups)
    let mut best: Option<(u64, f64, usize, usize, usize)> = None;
    let mut default_cost = 0;
    for (d, order) in orders.iter().enumerate() {
        let sweep = sweep(graph, order, &mut pos);
        if d == 0 {
            default_cost = sweep.cost[default_at];
        }
        let mut left = 0;
        for i in 1..n {
            left += households[order[i - 1] as usize];
            let right = total - left;
            let guess = (k as f64 * left as f64 / total as f64).round() as usize;
            for k1 in guess.saturating_sub(1)..=guess + 1 {
                if k1 < 1 || k1 >= k || i < k1 || n - i < k - k1 {
                    continue;
                }
                let (ml, mr) = (left as f64 / k1 as f64, right as f64 / (k - k1) as f64);
                if ml < lo || ml > hi || mr < lo || mr > hi {
                    continue;
                }
                let candidate = (sweep.cost[i], (ml - mr).abs(), d, i, k1);
                let better = best.is_none_or(|b| {
                    candidate.0 < b.0 || (candidate.0 == b.0 && candidate.1 < b.1 - 1e-9)
                });
                if better {
                    best = Some(candidate);
                }
            }
        }
    }
    let (cost, _, d, at, k1) = best?;
    (cost * 10 < default_cost * BARRIER_CUT_SHARE).then(|| (orders.swap_remove(d), at, k1))
}

/// Every cut of one sweep: `cost[i]`, what cutting `order[..i]` from `order[i..]` costs.
struct Sweep {
    cost: Vec<u64>,
}

/// The cuts of a sweep along `order` (see [`Sweep`]). `pos` is scratch of the graph's size,
/// all `u32::MAX`, and left so.
fn sweep(graph: &CellGraph, order: &[u32], pos: &mut [u32]) -> Sweep {
    for (p, &id) in (0_u32..).zip(order) {
        pos[id as usize] = p;
    }
    let len = order.len() + 1;
    let mut out = Sweep { cost: vec![0; len] };
    let mut cost = 0_u64;
    for (p, &id) in (0_u32..).zip(order) {
        for (k, &j) in graph.neighbours(id).iter().enumerate() {
            let q = pos[j as usize];
            if q == u32::MAX {
                continue;
            }
            let w = u64::from(graph.cost(id, k));
            // An edge to an earlier cell leaves the cut; one to a later cell joins it.
            if q < p {
                cost -= w;
            } else {
                cost += w;
            }
        }
        out.cost[p as usize + 1] = cost;
    }
    for &id in order {
        pos[id as usize] = u32::MAX;
    }
    out
}
