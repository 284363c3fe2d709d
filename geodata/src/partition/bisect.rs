//! Recursive bisection of a cell set into `k` groups of near-equal households.
//!
//! Works in the local metric projection of [`CellGraph`] (meters); owns only the cut rule,
//! including the preference for cuts along barriers (see [`barrier_cut`]).
//!
//! The cells are sorted once along every direction a cut may run across (the axes, and the
//! barrier lines' normals when barrier cuts are tried); each cut then splits those orders
//! stably instead of sorting its cells again. The order along a direction is total (ties by
//! cell id), so a stable split of the parent's order is exactly the sorted order of each
//! side: the cuts are those of sorting at every step, at a fraction of the cost.

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
///
/// `sorted` holds the cells to split, sorted ([`Sorted::new`] with [`Axes::Two`], with the
/// barrier lines' normals when `range` is given): made once for every `k` tried.
pub(super) fn bisect(
    graph: &CellGraph,
    households: &[u64],
    sorted: &Sorted,
    k: usize,
    range: Option<(u64, u64)>,
) -> Vec<Vec<u32>> {
    bisect_sorted(graph, households, sorted, k, Axes::Two, range)
}

/// Cells sorted along every direction a bisection may cut across: its first piece.
pub(super) struct Sorted {
    directions: Directions,
    orders: Vec<Vec<u32>>,
    /// The cells as given, the one group when no cut is made.
    cells: Vec<u32>,
}

impl Sorted {
    /// `cells` of `graph` sorted along the axes of `axes`, and when `barriers` along the
    /// normals of the graph's barrier lines too.
    pub fn new(graph: &CellGraph, cells: Vec<u32>, axes: Axes, barriers: bool) -> Self {
        let directions = Directions::new(graph, axes, barriers);
        let orders = directions.sort(&cells);
        Self {
            directions,
            orders,
            cells,
        }
    }

    /// The same cells along the axes only, for cuts that follow no barrier.
    pub fn axes_only(&self) -> Self {
        let axes = self.directions.axes;
        Self {
            directions: Directions {
                units: self.directions.units[..axes].to_vec(),
                axes,
                keys: self.directions.keys[..axes].to_vec(),
            },
            orders: self.orders[..axes].to_vec(),
            cells: self.cells.clone(),
        }
    }
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

/// A set of cells still to cut: the same cells in the order of every direction of
/// [`Directions`], and the direction whose order the cut that made it used (its cells in
/// that order are the group, should it be cut no further).
struct Piece {
    orders: Vec<Vec<u32>>,
    made_along: usize,
    k: usize,
    first: bool,
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
    if k <= 1 || cells.len() <= 1 {
        return vec![cells];
    }
    let barriers = range.is_some() && graph.has_barriers();
    let sorted = Sorted::new(graph, cells, axes, barriers);
    bisect_sorted(graph, households, &sorted, k, axes, range)
}

/// [`bisect_with`] on cells already sorted (`sorted` made with the same `axes`, and with
/// barriers if `range` is given and the graph has some).
fn bisect_sorted(
    graph: &CellGraph,
    households: &[u64],
    sorted: &Sorted,
    k: usize,
    axes: Axes,
    range: Option<(u64, u64)>,
) -> Vec<Vec<u32>> {
    if k <= 1 || sorted.cells.len() <= 1 {
        return vec![sorted.cells.clone()];
    }
    let range = range.filter(|_| graph.has_barriers());
    let directions = &sorted.directions;
    debug_assert_eq!(
        directions.units.len() > directions.axes,
        range.is_some() && !graph.normals.is_empty()
    );
    let mut scratch = Scratch {
        pos: vec![u32::MAX; graph.len()],
        left: vec![false; graph.len()],
    };
    let mut out = Vec::with_capacity(k);
    let mut stack = vec![Piece {
        orders: sorted.orders.clone(),
        made_along: 0,
        k,
        first: true,
    }];
    while let Some(mut piece) = stack.pop() {
        if piece.k <= 1 || piece.orders[0].len() <= 1 {
            out.push(piece.orders.swap_remove(piece.made_along));
            continue;
        }
        let k1 = piece.k / 2;
        let k2 = piece.k - k1;
        let axes_here = match axes {
            Axes::ShortFirst if !piece.first => Axes::Two,
            other => other,
        };
        let (along, at, k1) = cut(
            graph,
            households,
            directions,
            &piece.orders,
            (k1, k2),
            axes_here,
            range,
            &mut scratch.pos,
        );
        let (left, right) = split(&piece.orders, along, at, &mut scratch.left);
        // Right first on the stack so the left side is emitted first: a stable order.
        stack.push(Piece {
            orders: right,
            made_along: along,
            k: piece.k - k1,
            first: false,
        });
        stack.push(Piece {
            orders: left,
            made_along: along,
            k: k1,
            first: false,
        });
    }
    out
}

/// Scratch of the graph's size, reused by every cut of one bisection.
struct Scratch {
    /// For [`sweep`]: all `u32::MAX` between sweeps.
    pos: Vec<u32>,
    /// For [`split`]: all `false` between splits.
    left: Vec<bool>,
}

/// Splits every order of a piece into the cells of `orders[along][..at]` and the others,
/// each side keeping every direction's order.
fn split(orders: &[Vec<u32>], along: usize, at: usize, left: &mut [bool]) -> Pieces {
    for &id in &orders[along][..at] {
        left[id as usize] = true;
    }
    let (lefts, rights): Pieces = orders
        .iter()
        .map(|order| order.iter().partition(|&&id| left[id as usize]))
        .unzip();
    for &id in &orders[along][..at] {
        left[id as usize] = false;
    }
    (lefts, rights)
}

/// The orders of the two sides of a cut.
type Pieces = (Vec<Vec<u32>>, Vec<Vec<u32>>);

/// The directions a bisection sorts its cells along, with every cell's sort key on each:
/// first the axes (x, y, and for [`Axes::Four`] the two diagonals), then, when barrier cuts
/// are tried, the normals of the graph's barrier lines.
struct Directions {
    /// Unit directions (x, y) in the graph's plane.
    units: Vec<(f64, f64)>,
    /// How many of `units` are axes.
    axes: usize,
    /// `keys[d][id]`: cell `id`'s position along direction `d`, then across it.
    keys: Vec<Vec<(f64, f64)>>,
}

impl Directions {
    fn new(graph: &CellGraph, axes: Axes, barriers: bool) -> Self {
        let h = std::f64::consts::FRAC_1_SQRT_2;
        let mut units: Vec<(f64, f64)> = match axes {
            Axes::Four => vec![(1.0, 0.0), (0.0, 1.0), (h, h), (h, -h)],
            Axes::Two | Axes::ShortFirst => vec![(1.0, 0.0), (0.0, 1.0)],
        };
        let axis_count = units.len();
        if barriers {
            units.extend_from_slice(&graph.normals);
        }
        let keys = units
            .iter()
            .enumerate()
            .map(|(d, &(dx, dy))| {
                graph
                    .xy
                    .iter()
                    .map(|&(x, y)| {
                        // Along y the tie-break is x (as it always was), else the perpendicular.
                        let across = if d == 1 { x } else { y * dx - x * dy };
                        (x * dx + y * dy, across)
                    })
                    .collect()
            })
            .collect();
        Self {
            units,
            axes: axis_count,
            keys,
        }
    }

    /// `cells` sorted along every direction: by position along it, then across it, then by
    /// id. The positions are compared as integers ([`ordered_bits`]), which order finite
    /// floats as `partial_cmp` does, and faster.
    fn sort(&self, cells: &[u32]) -> Vec<Vec<u32>> {
        self.keys
            .iter()
            .map(|keys| {
                let mut keyed: Vec<(u64, u64, u32)> = cells
                    .iter()
                    .map(|&id| {
                        let (along, across) = keys[id as usize];
                        (ordered_bits(along), ordered_bits(across), id)
                    })
                    .collect();
                keyed.sort_unstable();
                keyed.into_iter().map(|(_, _, id)| id).collect()
            })
            .collect()
    }

    /// The extent of `order` (sorted along direction `d`) along `d`.
    fn extent(&self, d: usize, order: &[u32]) -> f64 {
        match (order.first(), order.last()) {
            (Some(&lo), Some(&hi)) => self.keys[d][hi as usize].0 - self.keys[d][lo as usize].0,
            _ => 0.0,
        }
    }
}

/// An integer in the order of the finite float `v`: `a < b` exactly when
/// `ordered_bits(a) < ordered_bits(b)`, and −0 and +0 are equal (as `partial_cmp` has
/// them). Positive floats order as their bits; negative ones reversed, below them.
fn ordered_bits(v: f64) -> u64 {
    // Adding +0 turns −0 into +0 and leaves every other value as it is.
    let bits = (v + 0.0).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// One cut of a piece: `(direction, position, left groups)`, the left side being the first
/// `position` cells of the piece's order along that direction.
#[expect(
    clippy::cast_precision_loss,
    reason = "households and cell counts are far below 2^52"
)]
#[expect(clippy::too_many_arguments, reason = "one cut's whole context")]
fn cut(
    graph: &CellGraph,
    households: &[u64],
    directions: &Directions,
    orders: &[Vec<u32>],
    (k1, k2): (usize, usize),
    axes: Axes,
    range: Option<(u64, u64)>,
    pos: &mut [u32],
) -> (usize, usize, usize) {
    let candidates = match axes {
        Axes::Four => 4,
        Axes::Two | Axes::ShortFirst => 2,
    };
    let extents: Vec<f64> = (0..candidates)
        .map(|d| directions.extent(d, &orders[d]))
        .collect();
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
    let cells = &orders[pick];

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
    if let Some((min, max)) = range
        && let Some(found) = barrier_cut(
            graph,
            households,
            directions,
            orders,
            (pick, at),
            k1 + k2,
            (min, max),
            pos,
        )
    {
        return found;
    }
    (pick, at, k1)
}

/// A barrier cut replaces the balanced one only when it costs less than this share of it
/// (in tenths): clearly more of it runs along barriers.
const BARRIER_CUT_SHARE: u64 = 7;

/// The cheapest cut (cut edges weighted by [`CellGraph::cost`]: an edge on a barrier costs
/// less) among the straight sweeps across the balanced cut's direction (`orders[default]`)
/// and across every barrier line's, at any position and any split of the `k` groups that
/// keeps both sides' mean households per group in the middle three fifths of `min..=max`.
/// Returned as `(direction, position, left groups)` when it costs under
/// [`BARRIER_CUT_SHARE`] tenths of the balanced cut at `default_at`; `None` otherwise.
#[expect(
    clippy::cast_precision_loss,
    reason = "households and group counts are far below 2^52"
)]
#[expect(clippy::too_many_arguments, reason = "one cut's whole context")]
fn barrier_cut(
    graph: &CellGraph,
    households: &[u64],
    directions: &Directions,
    orders: &[Vec<u32>],
    (default, default_at): (usize, usize),
    k: usize,
    (min, max): (u64, u64),
    pos: &mut [u32],
) -> Option<(usize, usize, usize)> {
    let default_order = &orders[default];
    let n = default_order.len();
    let total: u64 = default_order
        .iter()
        .map(|&id| households[id as usize])
        .sum();
    if k < 2 || n < 2 || total == 0 {
        return None;
    }
    let margin = (max - min) / 5;
    let (lo, hi) = (min + margin, max - margin);
    let default_direction = directions.units[default];
    let mut swept = vec![default];
    for d in directions.axes..directions.units.len() {
        let (nx, ny) = directions.units[d];
        if (nx * default_direction.0 + ny * default_direction.1).abs() <= 0.995 {
            swept.push(d);
        }
    }
    // (cost, imbalance, direction, position, left groups)
    let mut best: Option<(u64, f64, usize, usize, usize)> = None;
    let mut default_cost = 0;
    let mut cost = Vec::with_capacity(n + 1);
    for &d in &swept {
        let order = &orders[d];
        sweep(graph, order, pos, &mut cost);
        if d == default {
            default_cost = cost[default_at];
        }
        let mut left = 0;
        for i in 1..n {
            left += households[order[i - 1] as usize];
            let right = total - left;
            // round(k · left / total), in integers (half away from zero, as f64::round).
            let guess =
                usize::try_from((2 * k as u64 * left + total) / (2 * total)).unwrap_or(usize::MAX);
            for k1 in guess.saturating_sub(1)..=guess.saturating_add(1) {
                if k1 < 1 || k1 >= k || i < k1 || n - i < k - k1 {
                    continue;
                }
                // Both means in lo..=hi, compared in integers: left / k1 < lo exactly when
                // left < lo · k1.
                let (k1w, k2w) = (k1 as u64, (k - k1) as u64);
                if left < lo * k1w || left > hi * k1w || right < lo * k2w || right > hi * k2w {
                    continue;
                }
                let (ml, mr) = (left as f64 / k1 as f64, right as f64 / (k - k1) as f64);
                let candidate = (cost[i], (ml - mr).abs(), d, i, k1);
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
    (cost * 10 < default_cost * BARRIER_CUT_SHARE).then_some((d, at, k1))
}

/// The cuts of a sweep along `order`: `cost[i]` is what cutting `order[..i]` from
/// `order[i..]` costs. `pos` is scratch of the graph's size, all `u32::MAX`, and left so.
fn sweep(graph: &CellGraph, order: &[u32], pos: &mut [u32], cost: &mut Vec<u64>) {
    for (p, &id) in (0_u32..).zip(order) {
        pos[id as usize] = p;
    }
    cost.clear();
    cost.resize(order.len() + 1, 0);
    let mut running = 0_u64;
    for (p, &id) in (0_u32..).zip(order) {
        for (k, &j) in graph.neighbours(id).iter().enumerate() {
            let q = pos[j as usize];
            if q == u32::MAX {
                continue;
            }
            let w = u64::from(graph.cost(id, k));
            // An edge to an earlier cell leaves the cut; one to a later cell joins it.
            if q < p {
                running -= w;
            } else {
                running += w;
            }
        }
        cost[p as usize + 1] = running;
    }
    for &id in order {
        pos[id as usize] = u32::MAX;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use h3o::{LatLng, Resolution};

    /// The sort along a direction compares integers instead of floats: the order must be
    /// the floats' own, −0 and +0 equal, for the cuts to stay the same.
    #[test]
    fn ordered_bits_order_finite_floats_as_partial_cmp() {
        use rand::{Rng as _, SeedableRng as _};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut values = vec![
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            1.0,
            -1.0,
            f64::MAX,
            f64::MIN,
            12_345.678,
            -12_345.678,
        ];
        values.extend((0..200).map(|_| rng.random_range(-2e7..2e7)));
        for &a in &values {
            for &b in &values {
                assert_eq!(
                    ordered_bits(a).cmp(&ordered_bits(b)),
                    a.partial_cmp(&b).expect("finite"),
                    "{a} vs {b}"
                );
            }
        }
    }

    /// The speed-up rests on this: splitting a piece's orders keeps each side sorted along
    /// every direction, exactly as sorting that side afresh would.
    #[test]
    fn a_split_keeps_both_sides_sorted_along_every_direction() {
        let centre = LatLng::new(36.19, 113.11)
            .expect("valid")
            .to_cell(Resolution::Twelve);
        let cells: Vec<h3o::CellIndex> = centre.grid_disk(12);
        let mut graph = CellGraph::new(&cells);
        // Two made-up barrier directions, so the normals' orders are split too.
        graph.normals = vec![(0.6, 0.8), (0.96, -0.28)];
        let ids: Vec<u32> = (0_u32..).take(graph.len()).collect();
        let sorted = Sorted::new(&graph, ids, Axes::Four, true);
        let directions = &sorted.directions;
        assert_eq!(directions.units.len(), 6);
        let mut left = vec![false; graph.len()];
        for along in 0..directions.units.len() {
            for at in [1, 100, graph.len() / 2, graph.len() - 1] {
                let (lefts, rights) = split(&sorted.orders, along, at, &mut left);
                assert!(left.iter().all(|&l| !l), "the scratch is left clear");
                for side in [&lefts, &rights] {
                    assert_eq!(side, &directions.sort(&side[along]));
                }
                assert_eq!(lefts[along], sorted.orders[along][..at]);
            }
        }
    }
}
