//! Which cells belong to which community (or to which street still to be cut into
//! communities). Cells are H3 at the plan's resolution; boundaries degrees (EPSG:4326,
//! lon/lat order). Owns the rules for cells outside every boundary; no households.

use super::PlanError;
use super::hierarchy::Tree;
use crate::cells::polygon_cells;
use crate::model::BuildingRecord;
use geo::{BooleanOps as _, MultiPolygon, Rect, coord};
use h3o::{CellIndex, LatLng, Resolution};
use rayon::prelude::*;
use rustc_hash::FxHashMap;

/// How far (in rings) to look for the nearest owned cell before scanning all of them.
const MAX_RING: u32 = 60;
/// Mean meters per degree of latitude.
const M_PER_DEG: f64 = 111_195.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Unit {
    Community(usize),
    Street(usize),
}

/// The cells of every community (aligned with `Tree::communities`) and of every street that
/// has no communities yet (aligned with `Tree::streets`; empty for the others). All sorted.
pub(super) struct Territory {
    pub community_cells: Vec<Vec<CellIndex>>,
    pub street_cells: Vec<Vec<CellIndex>>,
}

pub(super) fn assign(
    tree: &Tree,
    buildings: &[(BuildingRecord, CellIndex)],
    res: Resolution,
) -> Result<Territory, PlanError> {
    let (boundaries, tiled) = tile_communities(tree, res)?;
    // Communities whose tiling lost a cell to a lower code, and every cell given out after
    // the tiling, in order: the communities' cells are their tiling, filtered only where
    // needed, plus these.
    let (mut owner, overlapped) = Owners::from_tilings(&tiled);
    let mut added: Vec<(CellIndex, Unit)> = Vec::new();

    let mut has_communities = vec![false; tree.streets.len()];
    for &s in &tree.community_street {
        has_communities[s] = true;
    }
    let open: Vec<usize> = (0..tree.streets.len())
        .filter(|&s| tree.streets[s].boundary.is_none() && !has_communities[s])
        .collect();
    if open.len() > 1 {
        return Err(PlanError::AmbiguousStreets {
            codes: open.iter().map(|&s| tree.streets[s].code.clone()).collect(),
        });
    }

    let street_tiles = tile_streets(tree, &boundaries, res);
    for (s, cells) in street_tiles.into_iter().enumerate() {
        let uncovered: Vec<CellIndex> = cells.into_iter().filter(|&c| !owner.contains(c)).collect();
        if has_communities[s] {
            flood(
                &mut owner,
                &mut added,
                uncovered,
                |unit| matches!(unit, Unit::Community(i) if tree.community_street[i] == s),
            );
        } else {
            for cell in uncovered {
                owner.insert(cell, Unit::Street(s));
                added.push((cell, Unit::Street(s)));
            }
        }
    }

    let mut orphans: Vec<&(BuildingRecord, CellIndex)> = buildings
        .par_iter()
        .filter(|(_, cell)| !owner.contains(*cell))
        .collect();
    orphans.sort_by_key(|(_, cell)| *cell);
    if let Some(&s) = open.first() {
        let mut take = |cell: CellIndex| {
            if owner.try_insert(cell, Unit::Street(s)).is_none() {
                added.push((cell, Unit::Street(s)));
            }
        };
        if let Some(area) = padded_bbox(orphans.iter().map(|(b, _)| &b.footprint), res) {
            for cell in polygon_cells(&area, res) {
                take(cell);
            }
        }
        for (_, cell) in &orphans {
            take(*cell);
        }
    } else if !orphans.is_empty() {
        if owner.is_empty() {
            return Err(PlanError::NoTerritory {
                buildings: orphans.len(),
            });
        }
        for (_, cell) in orphans {
            if !owner.contains(*cell) {
                attach_to_nearest(*cell, &mut owner, &mut added);
            }
        }
    }

    Ok(gather(
        tiled,
        &overlapped,
        &owner,
        added,
        tree.streets.len(),
    ))
}

/// The cells of every community (its tiling, less what a lower code kept where tilings
/// overlap, plus the cells `added` after the tiling) and of every street, all sorted.
fn gather(
    tiled: Vec<Vec<CellIndex>>,
    overlapped: &[bool],
    owner: &Owners,
    added: Vec<(CellIndex, Unit)>,
    streets: usize,
) -> Territory {
    let mut community_cells: Vec<Vec<CellIndex>> = tiled
        .into_iter()
        .zip(overlapped)
        .enumerate()
        .map(|(i, (mut cells, &overlapped))| {
            if overlapped {
                cells.retain(|&c| owner.get(c) == Some(Unit::Community(i)));
            }
            cells
        })
        .collect();
    let mut street_cells = vec![Vec::new(); streets];
    let mut grown = vec![false; community_cells.len()];
    for (cell, unit) in added {
        match unit {
            Unit::Community(i) => {
                community_cells[i].push(cell);
                grown[i] = true;
            }
            Unit::Street(s) => street_cells[s].push(cell),
        }
    }
    for (cells, _) in community_cells.iter_mut().zip(&grown).filter(|(_, g)| **g) {
        cells.sort_unstable();
    }
    for cells in &mut street_cells {
        cells.sort_unstable();
    }
    Territory {
        community_cells,
        street_cells,
    }
}

/// The communities' boundaries and their cells.
type Tiled<'a> = (Vec<&'a MultiPolygon<f64>>, Vec<Vec<CellIndex>>);

/// Every community's boundary and its cells (centre containment), tiled in parallel.
fn tile_communities(tree: &Tree, res: Resolution) -> Result<Tiled<'_>, PlanError> {
    let boundaries: Vec<&MultiPolygon<f64>> = tree
        .communities
        .iter()
        .map(|community| {
            community
                .boundary
                .as_ref()
                .ok_or_else(|| PlanError::MissingBoundary {
                    code: community.code.clone(),
                })
        })
        .collect::<Result<_, _>>()?;
    let tiled = boundaries
        .par_iter()
        .map(|boundary| polygon_cells(boundary, res))
        .collect();
    Ok((boundaries, tiled))
}

/// The cells of each street (aligned with `tree.streets`) that its communities may leave
/// uncovered: only the part of its boundary outside them can hold such cells, so that part
/// is tiled, not the whole street (a street without communities is tiled whole; one without
/// a boundary gets none). Streets in parallel.
fn tile_streets(
    tree: &Tree,
    community_boundaries: &[&MultiPolygon<f64>],
    res: Resolution,
) -> Vec<Vec<CellIndex>> {
    let mut street_communities: Vec<Vec<&MultiPolygon<f64>>> = vec![Vec::new(); tree.streets.len()];
    for (i, &s) in tree.community_street.iter().enumerate() {
        street_communities[s].push(community_boundaries[i]);
    }
    tree.streets
        .par_iter()
        .zip(&street_communities)
        .map(|(street, communities)| {
            let Some(boundary) = &street.boundary else {
                return Vec::new();
            };
            if communities.is_empty() {
                return polygon_cells(boundary, res);
            }
            let covered = geo::unary_union(communities.iter().copied());
            polygon_cells(&boundary.difference(&covered), res)
        })
        .collect()
}

/// Which unit owns each cell: the communities' tilings, then the cells given out after.
#[derive(Debug, Default)]
struct Owners {
    /// Every cell of a community's tiling with the lowest community holding it, by cell.
    tiled: Vec<(CellIndex, usize)>,
    /// Cells given out after the tiling (none of them tiled).
    added: FxHashMap<CellIndex, Unit>,
}

impl Owners {
    /// The owners of the communities' tilings (`tiled`, sorted by code, so on overlap the
    /// lowest code keeps the cell), and for each community whether it lost a cell that way.
    /// Sorted in parallel rather than inserted one by one: a city has tens of millions of
    /// cells.
    fn from_tilings(tiled: &[Vec<CellIndex>]) -> (Self, Vec<bool>) {
        let mut pairs: Vec<(CellIndex, usize)> = tiled
            .par_iter()
            .enumerate()
            .flat_map_iter(|(i, cells)| cells.iter().map(move |&cell| (cell, i)))
            .collect();
        pairs.par_sort_unstable();
        let mut overlapped = vec![false; tiled.len()];
        pairs.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                overlapped[later.1] = true;
            }
            same
        });
        let owners = Self {
            tiled: pairs,
            added: FxHashMap::default(),
        };
        (owners, overlapped)
    }

    /// The unit owning `cell`, if any.
    fn get(&self, cell: CellIndex) -> Option<Unit> {
        if let Some(&unit) = self.added.get(&cell) {
            return Some(unit);
        }
        self.tiled
            .binary_search_by_key(&cell, |&(c, _)| c)
            .ok()
            .map(|at| Unit::Community(self.tiled[at].1))
    }

    /// Whether some unit owns `cell`.
    fn contains(&self, cell: CellIndex) -> bool {
        self.get(cell).is_some()
    }

    /// Gives `cell`, owned by no unit, to `unit`.
    fn insert(&mut self, cell: CellIndex, unit: Unit) {
        self.added.insert(cell, unit);
    }

    /// Gives `cell` to `unit` unless it has one; returns the unit it already had.
    fn try_insert(&mut self, cell: CellIndex, unit: Unit) -> Option<Unit> {
        let had = self.get(cell);
        if had.is_none() {
            self.insert(cell, unit);
        }
        had
    }

    /// Whether no cell is owned.
    fn is_empty(&self) -> bool {
        self.tiled.is_empty() && self.added.is_empty()
    }

    /// Every owned cell.
    fn cells(&self) -> impl Iterator<Item = CellIndex> + '_ {
        self.tiled
            .iter()
            .map(|&(cell, _)| cell)
            .chain(self.added.keys().copied())
    }
}

/// Gives each of `cells` to a unit accepted by `eligible` that it touches, growing layer by
/// layer from the units' edges; cells never reached stay unowned. Ties go to the lowest unit.
fn flood(
    owner: &mut Owners,
    added: &mut Vec<(CellIndex, Unit)>,
    cells: Vec<CellIndex>,
    eligible: impl Fn(Unit) -> bool,
) {
    let mut left: Vec<CellIndex> = cells;
    left.sort_unstable();
    loop {
        let mut taken: Vec<(CellIndex, Unit)> = Vec::new();
        left.retain(|&cell| {
            let best = crate::cells::neighbours(cell)
                .filter_map(|n| owner.get(n))
                .filter(|&u| eligible(u))
                .min();
            match best {
                Some(unit) => {
                    taken.push((cell, unit));
                    false
                }
                None => true,
            }
        });
        if taken.is_empty() {
            return;
        }
        for &(cell, unit) in &taken {
            owner.insert(cell, unit);
        }
        added.extend(taken);
    }
}

/// Gives `cell` to the unit of the nearest owned cell (by distance between cell centres,
/// ties by cell index), together with the cells on the H3 line between them, so the unit
/// stays contiguous. The line stops at the first owned cell it meets, whose unit wins.
fn attach_to_nearest(cell: CellIndex, owner: &mut Owners, added: &mut Vec<(CellIndex, Unit)>) {
    let Some(target) = nearest_owned(cell, owner) else {
        return;
    };
    let Some(mut unit) = owner.get(target) else {
        return;
    };
    let mut line = Vec::new();
    let walked = cell.grid_path_cells(target).map(|steps| {
        for step in steps {
            let Ok(step) = step else { return false };
            if let Some(u) = owner.get(step) {
                unit = u;
                return true;
            }
            line.push(step);
        }
        true
    });
    if walked != Ok(true) {
        // No H3 line (pentagon distortion): the cell alone joins the nearest unit.
        line = vec![cell];
        unit = owner.get(target).unwrap_or(unit);
    }
    for step in line {
        owner.insert(step, unit);
        added.push((step, unit));
    }
}

fn nearest_owned(cell: CellIndex, owner: &Owners) -> Option<CellIndex> {
    let from = LatLng::from(cell);
    let closest = |candidates: &mut dyn Iterator<Item = CellIndex>| {
        candidates
            .map(|c| (from.distance_m(LatLng::from(c)), c))
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
            .map(|(_, c)| c)
    };
    for k in 1..=MAX_RING {
        let ring: Vec<CellIndex> = cell.grid_ring(k);
        if let Some(found) = closest(&mut ring.into_iter().filter(|&c| owner.contains(c))) {
            return Some(found);
        }
    }
    closest(&mut owner.cells())
}

/// The bounding box of the footprints (degrees, lon/lat), padded by one cell edge length.
fn padded_bbox<'a>(
    footprints: impl Iterator<Item = &'a MultiPolygon<f64>>,
    res: Resolution,
) -> Option<MultiPolygon<f64>> {
    let mut bbox: Option<Rect<f64>> = None;
    for rect in footprints.filter_map(geo::BoundingRect::bounding_rect) {
        bbox = Some(match bbox {
            None => rect,
            Some(b) => Rect::new(
                coord! { x: b.min().x.min(rect.min().x), y: b.min().y.min(rect.min().y) },
                coord! { x: b.max().x.max(rect.max().x), y: b.max().y.max(rect.max().y) },
            ),
        });
    }
    let bbox = bbox?;
    let pad_lat = res.edge_length_m() / M_PER_DEG;
    let pad_lon = pad_lat / bbox.center().y.to_radians().cos().max(0.01);
    let padded = Rect::new(
        coord! { x: (bbox.min().x - pad_lon).max(-180.0), y: (bbox.min().y - pad_lat).max(-90.0) },
        coord! { x: (bbox.max().x + pad_lon).min(180.0), y: (bbox.max().y + pad_lat).min(90.0) },
    );
    Some(MultiPolygon::new(vec![padded.to_polygon()]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn on_overlap_the_lowest_code_keeps_the_cell() {
        let centre = LatLng::new(36.19, 113.11)
            .expect("valid")
            .to_cell(Resolution::Twelve);
        let sorted = |mut cells: Vec<CellIndex>| {
            cells.sort_unstable();
            cells
        };
        // Three tilings: a disk, a ring overlapping its edge, and a far disk apart.
        let disk = sorted(centre.grid_disk(2));
        let ring = sorted(
            centre
                .grid_ring::<Vec<CellIndex>>(2)
                .into_iter()
                .chain(centre.grid_ring::<Vec<CellIndex>>(3))
                .collect(),
        );
        let far = sorted(centre.grid_ring::<Vec<CellIndex>>(9)[0].grid_disk(1));
        let (owner, overlapped) = Owners::from_tilings(&[disk.clone(), ring.clone(), far.clone()]);
        assert_eq!(overlapped, vec![false, true, false]);
        for &cell in &disk {
            assert_eq!(owner.get(cell), Some(Unit::Community(0)), "{cell}");
        }
        for &cell in ring.iter().filter(|c| !disk.contains(c)) {
            assert_eq!(owner.get(cell), Some(Unit::Community(1)), "{cell}");
        }
        for &cell in &far {
            assert_eq!(owner.get(cell), Some(Unit::Community(2)), "{cell}");
        }
        assert!(!owner.contains(centre.grid_ring::<Vec<CellIndex>>(6)[0]));
        assert_eq!(owner.cells().count(), 37 + 7);
        // The lower code still wins when it is tiled second.
        let (owner, overlapped) = Owners::from_tilings(&[ring, disk]);
        assert_eq!(overlapped, vec![false, true]);
        assert_eq!(
            owner.get(centre.grid_ring::<Vec<CellIndex>>(2)[0]),
            Some(Unit::Community(0))
        );
    }

    #[test]
    fn nearest_attachment_keeps_the_unit_contiguous() {
        let centre = LatLng::new(36.19, 113.11)
            .expect("valid")
            .to_cell(Resolution::Twelve);
        let mut disk: Vec<CellIndex> = centre.grid_disk(3);
        disk.sort_unstable();
        let (mut owner, _) = Owners::from_tilings(&[disk]);
        let far: Vec<CellIndex> = centre.grid_ring(12);
        let stray = far[0];
        attach_to_nearest(stray, &mut owner, &mut Vec::new());
        assert_eq!(owner.get(stray), Some(Unit::Community(0)));
        // The unit is still one piece.
        let cells: HashSet<CellIndex> = owner.cells().collect();
        let mut seen = HashSet::from([centre]);
        let mut stack = vec![centre];
        while let Some(c) = stack.pop() {
            for n in crate::cells::neighbours(c) {
                if cells.contains(&n) && seen.insert(n) {
                    stack.push(n);
                }
            }
        }
        assert_eq!(seen.len(), cells.len());
        // The line is short: about the 9 rings between the disk and the stray cell.
        assert!(cells.len() <= 37 + 12, "{}", cells.len());
    }
}
