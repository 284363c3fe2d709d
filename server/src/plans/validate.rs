//! Checking a proposed assignment of a community's cells to grids (see the parent module).
//!
//! [`parse`] reads a request into a full assignment (codes given to new grids, names filled in, cells
//! sorted); [`check`] tests an assignment against the world: every cell of the community in exactly one
//! grid, no cell from outside, each grid non-empty and connected through H3 edge neighbours, each code
//! either an existing grid of this community or a free one for a new grid. [`warnings`] lists the grids
//! outside the household range with geodata's reason. Nothing here touches the store.

use std::collections::{HashMap, HashSet};

use h3o::CellIndex;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::PlanError;
use crate::domain::{AccessError, Grid, GridFlag, RegionId, Subject};
use crate::store::boundary::AssignedGrid;
use crate::world::World;

/// How many offending cells or grids a problem names (it counts them all).
pub const EXAMPLES: usize = 20;
/// The longest grid name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// One grid of a request.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposedGrid {
    /// An existing grid code of this community; omitted for a new grid.
    pub code: Option<String>,
    pub name: Option<String>,
    /// H3 cell indexes as strings (`8c…`), at the deployment's resolution.
    pub cells: Vec<String>,
}

/// The community as it is: its grids (emptied ones too) and its cells.
pub struct Current<'w> {
    pub grids: Vec<&'w Grid>,
    pub cells: FxHashSet<CellIndex>,
}

impl<'w> Current<'w> {
    #[must_use]
    pub fn of(world: &'w World, community: RegionId) -> Self {
        let grids: Vec<&Grid> = world.grids().filter(|g| g.community == community).collect();
        let cells = grids.iter().flat_map(|g| g.cells.iter().copied()).collect();
        Self { grids, cells }
    }

    fn by_code(&self, code: &str) -> Option<&'w Grid> {
        self.grids.iter().copied().find(|g| g.code == code)
    }
}

/// The kinds of problem a plan can have, in the order [`check`] looks for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    InvalidCell,
    UnknownGrid,
    DuplicateGrid,
    EmptyGrid,
    Overlap,
    ForeignCell,
    Gap,
    SplitGrid,
}

/// One kind of problem with a plan, with examples; serialised as the API lists it in `problems`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    /// How many cells or grids have it (all of them, not only the examples).
    pub count: usize,
    pub cells: Vec<String>,
    pub grids: Vec<String>,
    /// The figures the message is made of, for a client that words it in its own language:
    /// `community` (id), `resolution`, `parts` (`{grid code: pieces}` of a split grid).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub values: serde_json::Map<String, Value>,
    /// English, for logs and API users; a page renders `kind`, `count`, `grids` and `values` instead.
    pub message: String,
}

impl Problem {
    fn new(kind: ProblemKind, count: usize, message: String) -> Self {
        Self {
            kind,
            count,
            cells: Vec::new(),
            grids: Vec::new(),
            values: serde_json::Map::new(),
            message,
        }
    }
}

fn examples<T: ToString>(items: impl IntoIterator<Item = T>) -> Vec<String> {
    items
        .into_iter()
        .take(EXAMPLES)
        .map(|i| i.to_string())
        .collect()
}

/// Reads a request into a full assignment; [`PlanError::Invalid`] naming every problem.
pub fn parse(
    world: &World,
    community: RegionId,
    proposed: &[ProposedGrid],
) -> Result<Vec<AssignedGrid>, PlanError> {
    let current = Current::of(world, community);
    let resolution = world.resolution();
    let mut bad: Vec<String> = Vec::new();
    let mut parsed = Vec::with_capacity(proposed.len());
    for grid in proposed {
        let mut cells = Vec::with_capacity(grid.cells.len());
        for text in &grid.cells {
            match text.parse::<CellIndex>() {
                Ok(cell) if cell.resolution() == resolution => cells.push(cell),
                _ => bad.push(text.clone()),
            }
        }
        parsed.push(cells);
    }
    if !bad.is_empty() {
        let mut problem = Problem::new(
            ProblemKind::InvalidCell,
            bad.len(),
            format!(
                "{} cells are not H3 cell indexes at resolution {}",
                bad.len(),
                u8::from(resolution)
            ),
        );
        problem.cells = examples(bad.iter().map(|s| s.chars().take(40).collect::<String>()));
        problem
            .values
            .insert("resolution".to_owned(), json!(u8::from(resolution)));
        return Err(PlanError::Invalid(vec![problem]));
    }
    if let Some(name) = proposed
        .iter()
        .filter_map(|g| g.name.as_deref())
        .find(|n| n.trim().is_empty() || n.chars().count() > MAX_NAME_CHARS)
    {
        return Err(PlanError::BadName(name.chars().take(40).collect()));
    }
    let community_region = world
        .region(community)
        .ok_or(AccessError::NotFound(Subject::Community(community)))?;
    let mut next = next_sequence(world, &community_region.code);
    let mut assigned = Vec::with_capacity(proposed.len());
    for (grid, mut cells) in proposed.iter().zip(parsed) {
        cells.sort_unstable();
        let (code, name, new) = if let Some(code) = &grid.code {
            let name = grid
                .name
                .clone()
                .or_else(|| current.by_code(code).map(|g| g.name.clone()))
                .unwrap_or_default();
            (code.clone(), name, false)
        } else {
            if next > 999 {
                return Err(PlanError::NoFreeCode(community));
            }
            let code = format!("{}{next:03}", community_region.code);
            let name = grid
                .name
                .clone()
                .unwrap_or_else(|| format!("{} 网格 {next:03}", community_region.name));
            next += 1;
            (code, name, true)
        };
        assigned.push(AssignedGrid {
            code,
            name,
            new,
            cells,
        });
    }
    let problems = check(world, community, &assigned);
    if problems.is_empty() {
        Ok(assigned)
    } else {
        Err(PlanError::Invalid(problems))
    }
}

/// The next free grid sequence under a community code: one past the highest in use by any grid.
fn next_sequence(world: &World, community_code: &str) -> u32 {
    world
        .grids()
        .filter_map(|g| g.code.strip_prefix(community_code))
        .filter_map(|seq| seq.parse::<u32>().ok())
        .max()
        .unwrap_or(0)
        + 1
}

/// Every problem of an assignment against the world as it is now, in the order of [`ProblemKind`].
#[must_use]
#[allow(clippy::too_many_lines)] // one step read top to bottom; longer since rustfmt
pub fn check(world: &World, community: RegionId, grids: &[AssignedGrid]) -> Vec<Problem> {
    let current = Current::of(world, community);
    let mut problems = Vec::new();

    // Codes: an existing grid of this community, or (new) a code no grid has.
    let unknown: Vec<&str> = grids
        .iter()
        .filter(|g| {
            if g.new {
                world.grids().any(|w| w.code == g.code)
            } else {
                current.by_code(&g.code).is_none()
            }
        })
        .map(|g| g.code.as_str())
        .collect();
    if !unknown.is_empty() {
        let mut p = Problem::new(
            ProblemKind::UnknownGrid,
            unknown.len(),
            format!(
                "{} grid codes are not grids of community {community} (or a new grid's code is taken)",
                unknown.len()
            ),
        );
        p.grids = examples(
            unknown
                .iter()
                .map(|s| s.chars().take(40).collect::<String>()),
        );
        p.values.insert("community".to_owned(), json!(community));
        problems.push(p);
    }
    let mut seen = HashSet::new();
    let duplicate: Vec<&str> = grids
        .iter()
        .map(|g| g.code.as_str())
        .filter(|c| !seen.insert(*c))
        .collect();
    if !duplicate.is_empty() {
        let mut p = Problem::new(
            ProblemKind::DuplicateGrid,
            duplicate.len(),
            format!("{} grid codes are given twice", duplicate.len()),
        );
        p.grids = examples(duplicate);
        problems.push(p);
    }
    let empty: Vec<&str> = grids
        .iter()
        .filter(|g| g.cells.is_empty())
        .map(|g| g.code.as_str())
        .collect();
    if !empty.is_empty() {
        let mut p = Problem::new(
            ProblemKind::EmptyGrid,
            empty.len(),
            format!("{} grids have no cells", empty.len()),
        );
        p.grids = examples(empty);
        problems.push(p);
    }

    let mut owner: FxHashMap<CellIndex, usize> = FxHashMap::default();
    let mut overlap: Vec<CellIndex> = Vec::new();
    let mut overlap_grids: Vec<&str> = Vec::new();
    for (i, grid) in grids.iter().enumerate() {
        for &cell in &grid.cells {
            if let Some(&first) = owner.get(&cell) {
                overlap.push(cell);
                overlap_grids.extend([grids[first].code.as_str(), grid.code.as_str()]);
            } else {
                owner.insert(cell, i);
            }
        }
    }
    if !overlap.is_empty() {
        overlap_grids.sort_unstable();
        overlap_grids.dedup();
        let mut p = Problem::new(
            ProblemKind::Overlap,
            overlap.len(),
            format!("{} cells are in more than one grid", overlap.len()),
        );
        p.cells = examples(&overlap);
        p.grids = examples(overlap_grids);
        problems.push(p);
    }
    let mut foreign: Vec<CellIndex> = owner
        .keys()
        .copied()
        .filter(|c| !current.cells.contains(c))
        .collect();
    if !foreign.is_empty() {
        foreign.sort_unstable();
        let mut p = Problem::new(
            ProblemKind::ForeignCell,
            foreign.len(),
            format!(
                "{} cells are not cells of community {community}",
                foreign.len()
            ),
        );
        p.cells = examples(&foreign);
        p.values.insert("community".to_owned(), json!(community));
        problems.push(p);
    }
    let mut gap: Vec<CellIndex> = current
        .cells
        .iter()
        .copied()
        .filter(|c| !owner.contains_key(c))
        .collect();
    if !gap.is_empty() {
        gap.sort_unstable();
        let mut p = Problem::new(
            ProblemKind::Gap,
            gap.len(),
            format!(
                "{} cells of community {community} are in no grid",
                gap.len()
            ),
        );
        p.cells = examples(&gap);
        p.values.insert("community".to_owned(), json!(community));
        problems.push(p);
    }
    let split: Vec<(&str, usize, Vec<CellIndex>)> = grids
        .iter()
        .filter(|g| components(&g.cells) > 1)
        .map(|g| (g.code.as_str(), components(&g.cells), detached(&g.cells)))
        .collect();
    if !split.is_empty() {
        let mut p = Problem::new(
            ProblemKind::SplitGrid,
            split.len(),
            format!(
                "{} grids are not connected through cell edges ({})",
                split.len(),
                split
                    .iter()
                    .take(EXAMPLES)
                    .map(|(c, n, _)| format!("{c}: {n} parts"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        p.grids = examples(split.iter().map(|(c, _, _)| *c));
        // The cells cut off from each grid's main piece: what the planner's map outlines.
        p.cells = examples(split.iter().flat_map(|(_, _, cut)| cut));
        p.values.insert(
            "parts".to_owned(),
            json!(
                split
                    .iter()
                    .take(EXAMPLES)
                    .map(|(c, n, _)| ((*c).to_owned(), json!(n)))
                    .collect::<serde_json::Map<_, _>>()
            ),
        );
        problems.push(p);
    }
    problems
}

/// How many pieces `cells` fall into when only cells sharing an edge (H3 neighbours) connect.
#[must_use]
pub fn components(cells: &[CellIndex]) -> usize {
    pieces(cells).len()
}

/// The pieces `cells` fall into when only cells sharing an edge (H3 neighbours) connect, each in the
/// order found from the first cell of `cells` not yet seen.
#[must_use]
pub fn pieces(cells: &[CellIndex]) -> Vec<Vec<CellIndex>> {
    let set: FxHashSet<CellIndex> = cells.iter().copied().collect();
    let mut seen: FxHashSet<CellIndex> = FxHashSet::default();
    let mut pieces = Vec::new();
    for &start in cells {
        if !seen.insert(start) {
            continue;
        }
        let mut piece = vec![start];
        let mut stack = vec![start];
        while let Some(cell) = stack.pop() {
            for n in gridwatch_geodata::cells::neighbours(cell) {
                if set.contains(&n) && seen.insert(n) {
                    stack.push(n);
                    piece.push(n);
                }
            }
        }
        pieces.push(piece);
    }
    pieces
}

/// The cells cut off from a grid's largest piece (the first largest, when two are as large): the ones a
/// planner would paint back, or into a neighbour, to join the grid again. Sorted.
#[must_use]
pub fn detached(cells: &[CellIndex]) -> Vec<CellIndex> {
    let pieces = pieces(cells);
    let main = pieces
        .iter()
        .enumerate()
        .max_by_key(|(i, p)| (p.len(), std::cmp::Reverse(*i)))
        .map_or(0, |(i, _)| i);
    let mut cut: Vec<CellIndex> = pieces
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i != main)
        .flat_map(|(_, p)| p)
        .collect();
    cut.sort_unstable();
    cut
}

/// Households, buildings and the largest building's households of each cell of the community.
#[must_use]
pub fn loads<S: std::hash::BuildHasher>(
    world: &World,
    cells: &HashSet<CellIndex, S>,
) -> HashMap<CellIndex, gridwatch_geodata::CellLoad> {
    let mut loads: HashMap<CellIndex, gridwatch_geodata::CellLoad> = HashMap::new();
    for building in world.buildings().filter(|b| cells.contains(&b.cell)) {
        loads
            .entry(building.cell)
            .or_default()
            .add_building(building.households);
    }
    loads
}

/// A grid's households, building count and flag from its cells' loads, by geodata's rule for a
/// planned grid (a single cell over the maximum is flagged as a tower or a full cell).
#[must_use]
pub fn figures<S: std::hash::BuildHasher>(
    cells: &[CellIndex],
    loads: &HashMap<CellIndex, gridwatch_geodata::CellLoad, S>,
) -> (u32, u32, Option<GridFlag>) {
    let (households, buildings, flag) = gridwatch_geodata::grid_figures(
        cells,
        loads,
        &gridwatch_geodata::PartitionRules::default(),
    );
    (households, buildings, flag.map(crate::city::flag))
}

/// The plan's figures by geodata's report (share in range, Polsby–Popper, a reason per grid out of range).
#[must_use]
pub fn report(
    world: &World,
    community: RegionId,
    grids: &[AssignedGrid],
) -> gridwatch_geodata::PlanReport {
    let current = Current::of(world, community);
    let loads = loads(world, &current.cells);
    let code = world
        .region(community)
        .map_or_else(String::new, |r| r.code.clone());
    let planned: Vec<gridwatch_geodata::PlannedGrid> = grids
        .iter()
        .map(|g| {
            let (households, building_count, _) = figures(&g.cells, &loads);
            gridwatch_geodata::PlannedGrid {
                community_code: code.clone(),
                code: g.code.clone(),
                cells: g.cells.clone(),
                households,
                building_count,
                flag: None,
            }
        })
        .collect();
    let mut cells: Vec<CellIndex> = current.cells.into_iter().collect();
    cells.sort_unstable();
    gridwatch_geodata::plan_report(
        [(code.as_str(), cells.as_slice())],
        &planned,
        &loads,
        &gridwatch_geodata::PartitionRules::default(),
    )
}

/// The warnings of a plan: each grid outside 100–150 households, with geodata's reason.
#[must_use]
pub fn warnings(report: &gridwatch_geodata::PlanReport) -> Value {
    Value::from(
        report
            .per_grid
            .iter()
            .filter_map(|g| g.reason.map(|r| json!({"code": g.code, "households": g.households, "reason": reason_json(r)})))
            .collect::<Vec<_>>(),
    )
}

/// geodata's reason a grid is out of range, as JSON (`kind` plus its figures).
#[must_use]
pub fn reason_json(reason: gridwatch_geodata::OutOfRange) -> Value {
    use gridwatch_geodata::OutOfRange as R;
    match reason {
        R::SingleBuilding {
            building_households,
        } => json!({"kind": "single_building", "building_households": building_households}),
        R::CellOverMax {
            households,
            buildings,
        } => json!({"kind": "cell_over_max", "households": households, "buildings": buildings}),
        R::SmallComponent {
            component_households,
        } => json!({"kind": "small_component", "component_households": component_households}),
        R::NoFeasibleCount {
            component_households,
        } => json!({"kind": "no_feasible_count", "component_households": component_households}),
        R::Unresolved { households } => json!({"kind": "unresolved", "households": households}),
    }
}
