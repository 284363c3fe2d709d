//! Contiguity repair and household balancing of a partition, by moving cells between
//! neighbouring groups. Owns only these two local-search passes over H3 adjacency.
//!
//! Where the graph has barriers ([`CellGraph::cost`]), the passes weigh each adjacency by
//! what cutting it costs: a stray piece joins the group it is most strongly tied to,
//! chains start from cells touching the receiver off a barrier, and smoothing moves a
//! cell only when that makes the groups' borders cheaper, so a border on a road stays there.

use crate::barriers::PLAIN_CUT_COST;
use crate::cells::CellGraph;
use std::collections::VecDeque;

/// Upper bound on balancing rounds; each round tries every group once.
const MAX_BALANCE_ROUNDS: usize = 60;
/// How far (in cells) a moved chain may reach into the giving group.
const MAX_CHAIN_STEPS: u32 = 6;
/// How many loaded cells to try per pair of groups and round.
const MAX_CANDIDATES: usize = 12;
/// Upper bound on smoothing rounds over all cells.
const MAX_SMOOTH_ROUNDS: usize = 8;

struct State<'a> {
    graph: &'a CellGraph,
    households: &'a [u64],
    owner: Vec<u32>,
    members: Vec<Vec<u32>>,
    sums: Vec<u64>,
    /// Scratch marks for walks: a cell is marked when `mark[cell] == stamp`.
    mark: Vec<u32>,
    stamp: u32,
    /// Marks of the chain search, kept apart from `mark` because the connectivity check
    /// runs in the middle of that search.
    visit: Vec<u32>,
    visit_stamp: u32,
    min: u64,
    max: u64,
}

/// Makes every group connected, then balances households; returns the groups' cells.
/// All cells of `graph` must be in some group.
pub(super) fn repair(
    graph: &CellGraph,
    households: &[u64],
    groups: Vec<Vec<u32>>,
    min: u64,
    max: u64,
) -> Vec<Vec<u32>> {
    let mut owner = vec![u32::MAX; graph.len()];
    let mut sums = vec![0; groups.len()];
    for (g, cells) in (0_u32..).zip(&groups) {
        for &id in cells {
            owner[id as usize] = g;
            sums[g as usize] += households[id as usize];
        }
    }
    let mut state = State {
        graph,
        households,
        owner,
        members: groups,
        sums,
        mark: vec![0; graph.len()],
        stamp: 0,
        visit: vec![0; graph.len()],
        visit_stamp: 0,
        min,
        max,
    };
    state.make_contiguous();
    state.balance();
    state.smooth();

    state.members
}

impl State<'_> {
    fn violation(&self, sum: u64) -> u64 {
        self.min.saturating_sub(sum) + sum.saturating_sub(self.max)
    }

    fn next_stamp(&mut self) -> u32 {
        self.stamp += 1;
        self.stamp
    }

    /// The connected pieces of group `g`, largest (by households, then cells) first.
    fn pieces(&mut self, g: u32) -> Vec<Vec<u32>> {
        let stamp = self.next_stamp();
        let mut pieces = Vec::new();
        for index in 0..self.members[g as usize].len() {
            let start = self.members[g as usize][index];
            if self.mark[start as usize] == stamp {
                continue;
            }
            self.mark[start as usize] = stamp;
            let mut piece = vec![start];
            let mut head = 0;
            while head < piece.len() {
                let id = piece[head];
                head += 1;
                for &next in self.graph.neighbours(id) {
                    if self.owner[next as usize] == g && self.mark[next as usize] != stamp {
                        self.mark[next as usize] = stamp;
                        piece.push(next);
                    }
                }
            }
            pieces.push(piece);
        }
        let load = |piece: &Vec<u32>| {
            piece
                .iter()
                .map(|&id| self.households[id as usize])
                .sum::<u64>()
        };
        pieces.sort_by_key(|piece| std::cmp::Reverse((load(piece), piece.len())));
        pieces
    }

    fn move_cells(&mut self, cells: &[u32], from: u32, to: u32) {
        let moved: u64 = cells.iter().map(|&id| self.households[id as usize]).sum();
        for &id in cells {
            self.owner[id as usize] = to;
        }
        self.members[to as usize].extend_from_slice(cells);
        let owner = &self.owner;
        self.members[from as usize].retain(|&id| owner[id as usize] == from);
        self.sums[from as usize] -= moved;
        self.sums[to as usize] += moved;
    }

    /// Moves every stray piece of a group into the neighbouring group it fits best: one
    /// that stays in range (empty pieces always fit), sharing the most edges.
    fn make_contiguous(&mut self) {
        loop {
            let mut changed = false;
            for g in (0_u32..).take(self.members.len()) {
                let pieces = self.pieces(g);
                for piece in pieces.into_iter().skip(1) {
                    if let Some(target) = self.best_home(&piece, g) {
                        self.move_cells(&piece, g, target);
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }

    fn best_home(&self, piece: &[u32], from: u32) -> Option<u32> {
        let load: u64 = piece.iter().map(|&id| self.households[id as usize]).sum();
        let mut edges: Vec<(u32, u32)> = Vec::new();
        for &id in piece {
            for (k, &next) in self.graph.neighbours(id).iter().enumerate() {
                let g = self.owner[next as usize];
                if g == from || g == u32::MAX {
                    continue;
                }
                let w = self.graph.cost(id, k);
                match edges.iter_mut().find(|(group, _)| *group == g) {
                    Some((_, count)) => *count += w,
                    None => edges.push((g, w)),
                }
            }
        }
        // Lowest resulting excess, then the strongest tie (shared edges weighted by what
        // cutting them costs), then lowest group id.
        edges
            .into_iter()
            .min_by_key(|&(g, count)| {
                let excess = if load == 0 {
                    0
                } else {
                    self.violation(self.sums[g as usize] + load)
                };
                (excess, std::cmp::Reverse(count), g)
            })
            .map(|(g, _)| g)
    }

    /// Moves short chains of border cells between neighbouring groups while that lowers the
    /// total excess outside `min..=max` or, at equal excess, evens households out. When no
    /// single move helps, tries two-step moves (see [`Self::try_two_step`]).
    fn balance(&mut self) {
        for _ in 0..MAX_BALANCE_ROUNDS {
            let total: u64 = self.sums.iter().map(|&s| self.violation(s)).sum();
            if total == 0 {
                return;
            }
            let mut improved = false;
            for d in (0_u32..).take(self.members.len()) {
                for r in self.neighbour_groups(d) {
                    if self.try_chain(d, r) {
                        improved = true;
                    }
                }
            }
            if !improved {
                for g in (0_u32..).take(self.members.len()) {
                    if self.violation(self.sums[g as usize]) > 0 && self.try_two_step(g) {
                        improved = true;
                    }
                }
            }
            if !improved {
                return;
            }
        }
    }

    fn neighbour_groups(&self, g: u32) -> Vec<u32> {
        let mut out: Vec<u32> = self.members[g as usize]
            .iter()
            .flat_map(|&id| self.graph.neighbours(id))
            .map(|&next| self.owner[next as usize])
            .filter(|&other| other != g && other != u32::MAX)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Candidate chains from `d` to `r`, nearest first: each the path from a cell of `d`
    /// touching `r` to a loaded cell of `d`, at most `MAX_CHAIN_STEPS` long.
    fn chains(&mut self, d: u32, r: u32) -> Vec<Vec<u32>> {
        self.visit_stamp += 1;
        let stamp = self.visit_stamp;
        let mut parent: Vec<(u32, u32, u32)> = Vec::new(); // (cell, parent index or MAX, depth)
        let mut queue = VecDeque::new();
        // Seeds touching `r` off a barrier first: moving one across a barrier would pull the
        // border off it.
        let mut seeds: Vec<(bool, u32)> = self.members[d as usize]
            .iter()
            .copied()
            .filter_map(|id| {
                let mut touches = false;
                let mut plain = false;
                for (k, &n) in self.graph.neighbours(id).iter().enumerate() {
                    if self.owner[n as usize] == r {
                        touches = true;
                        plain |= self.graph.cost(id, k) == u32::from(PLAIN_CUT_COST);
                    }
                }
                touches.then_some((!plain, id))
            })
            .collect();
        seeds.sort_unstable();
        let seeds = seeds.into_iter().map(|(_, id)| id);
        for id in seeds {
            self.visit[id as usize] = stamp;
            queue.push_back(u32::try_from(parent.len()).unwrap_or(u32::MAX));
            parent.push((id, u32::MAX, 0));
        }
        let mut out = Vec::new();
        while let Some(at) = queue.pop_front() {
            let (id, _, depth) = parent[at as usize];
            if self.households[id as usize] > 0 {
                let mut chain = Vec::new();
                let mut walk = at;
                while walk != u32::MAX {
                    chain.push(parent[walk as usize].0);
                    walk = parent[walk as usize].1;
                }
                out.push(chain);
                if out.len() >= MAX_CANDIDATES {
                    break;
                }
            }
            if depth >= MAX_CHAIN_STEPS {
                continue;
            }
            for &next in self.graph.neighbours(id) {
                if self.owner[next as usize] == d && self.visit[next as usize] != stamp {
                    self.visit[next as usize] = stamp;
                    queue.push_back(u32::try_from(parent.len()).unwrap_or(u32::MAX));
                    parent.push((next, at, depth + 1));
                }
            }
        }
        out
    }

    fn load(&self, cells: &[u32]) -> u64 {
        cells.iter().map(|&c| self.households[c as usize]).sum()
    }

    /// Moves the first chain from `d` to `r` that improves and keeps `d` connected.
    fn try_chain(&mut self, d: u32, r: u32) -> bool {
        let (sd, sr) = (self.sums[d as usize], self.sums[r as usize]);
        if sd == 0 {
            return false;
        }
        for chain in self.chains(d, r) {
            let x = self.load(&chain);
            if x < sd && self.improves(sd, sr, x) && self.stays_connected(d, &chain) {
                self.move_cells(&chain, d, r);
                return true;
            }
        }
        false
    }

    /// For a group `g` out of range, a pair of moves through a neighbour `b`: `g` gives a
    /// chain to `b` (or takes one from it), then `b` passes the difference on to another
    /// neighbour `c` (or takes it from `c`). Kept only if the excess of `g`, `b` and `c`
    /// together falls; otherwise both moves are undone.
    fn try_two_step(&mut self, g: u32) -> bool {
        let over = self.sums[g as usize] > self.max;
        for b in self.neighbour_groups(g) {
            let (giver, taker) = if over { (g, b) } else { (b, g) };
            for chain in self.chains(giver, taker) {
                let x = self.load(&chain);
                let first_ok = x < self.sums[giver as usize]
                    && self.violation(self.sums[g as usize])
                        > self.violation(if over {
                            self.sums[g as usize] - x
                        } else {
                            self.sums[g as usize] + x
                        });
                if !first_ok || !self.stays_connected(giver, &chain) {
                    continue;
                }
                for c in self.neighbour_groups(b).into_iter().filter(|&c| c != g) {
                    let before = self.violation(self.sums[g as usize])
                        + self.violation(self.sums[b as usize])
                        + self.violation(self.sums[c as usize]);
                    self.move_cells(&chain, giver, taker);
                    let (giver2, taker2) = if over { (b, c) } else { (c, b) };
                    for chain2 in self.chains(giver2, taker2) {
                        let y = self.load(&chain2);
                        if y >= self.sums[giver2 as usize] {
                            continue;
                        }
                        let after = self.violation(self.sums[g as usize])
                            + self.violation(self.sums[giver2 as usize] - y)
                            + self.violation(self.sums[taker2 as usize] + y);
                        if after < before && self.stays_connected(giver2, &chain2) {
                            self.move_cells(&chain2, giver2, taker2);
                            return true;
                        }
                    }
                    self.move_cells(&chain, taker, giver);
                }
            }
        }
        false
    }

    /// Straightens borders without changing any group's households: an empty cell with
    /// more neighbours in another group than in its own moves there, when its own group's
    /// neighbours form one unbroken arc around it (so its group stays connected). Each move
    /// adds edges inside groups, so this ends.
    fn smooth(&mut self) {
        for _ in 0..MAX_SMOOTH_ROUNDS {
            let mut moved = false;
            for id in (0_u32..).take(self.graph.len()) {
                if self.households[id as usize] > 0 {
                    continue;
                }
                let Some(ring) = self.graph.ring(id) else {
                    continue;
                };
                let own = self.owner[id as usize];
                let owners: [u32; 6] = ring.map(|n| {
                    if n == u32::MAX {
                        u32::MAX
                    } else {
                        self.owner[n as usize]
                    }
                });
                // Ties to each group: its neighbours, weighted by what cutting them costs.
                let tie = |g: u32| -> u32 {
                    ring.iter()
                        .zip(&owners)
                        .filter(|&(_, &o)| o == g)
                        .map(|(&n, _)| self.graph.cost_between(id, n))
                        .sum()
                };
                let own_count = tie(own);
                let mut best: Option<(u32, u32)> = None;
                for &g in owners.iter().filter(|&&g| g != own && g != u32::MAX) {
                    let count = tie(g);
                    if best.is_none_or(|(c, b)| count > c || (count == c && g < b)) {
                        best = Some((count, g));
                    }
                }
                let Some((count, target)) = best else {
                    continue;
                };
                if count > own_count && own_count > 0 && one_arc(&owners, own) {
                    self.move_cells(&[id], own, target);
                    moved = true;
                }
            }
            if !moved {
                return;
            }
        }
    }

    fn improves(&self, sd: u64, sr: u64, x: u64) -> bool {
        let before = self.violation(sd) + self.violation(sr);
        let after = self.violation(sd - x) + self.violation(sr + x);
        // At equal excess, a move that leaves the receiver below the giver's old count
        // lowers the sum of squares: households even out.
        after < before || (after == before && sr + x < sd)
    }

    /// Whether group `d` stays connected (and non-empty) without `chain`.
    fn stays_connected(&mut self, d: u32, chain: &[u32]) -> bool {
        let size = self.members[d as usize].len();
        if chain.len() >= size {
            return false;
        }
        let stamp = self.next_stamp();
        for &id in chain {
            self.mark[id as usize] = stamp;
        }
        let Some(&start) = self.members[d as usize]
            .iter()
            .find(|&&id| self.mark[id as usize] != stamp)
        else {
            return false;
        };
        self.mark[start as usize] = stamp;
        let mut queue = vec![start];
        let mut reached = 1;
        while let Some(id) = queue.pop() {
            for &next in self.graph.neighbours(id) {
                if self.owner[next as usize] == d && self.mark[next as usize] != stamp {
                    self.mark[next as usize] = stamp;
                    reached += 1;
                    queue.push(next);
                }
            }
        }
        reached + chain.len() == size
    }
}

/// Whether the entries equal to `g` form one unbroken run around the cyclic ring.
fn one_arc(ring: &[u32; 6], g: u32) -> bool {
    let starts = (0..6)
        .filter(|&k| ring[k] == g && ring[(k + 5) % 6] != g)
        .count();
    let all = ring.iter().all(|&o| o == g);
    starts == 1 || all
}
