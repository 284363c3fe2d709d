//! Which cells belong to which community (or to which street still to be cut into
//! communities). Cells are H3 at the plan's resolution; boundaries degrees (EPSG:4326,
//! lon/lat order). Owns the rules for cells outside every boundary; no households.

use super::PlanError;
use super::hierarchy::Tree;
use crate::cells::polygon_cells;
use crate::model::BuildingRecord;
use geo::{MultiPolygon, Rect, coord};
use h3o::{CellIndex, LatLng, Resolution};
use std::collections::HashMap;

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
    let mut owner: HashMap<CellIndex, Unit> = HashMap::new();
    for (i, community) in tree.communities.iter().enumerate() {
        let boundary = community
            .boundary
            .as_ref()
            .ok_or_else(|| PlanError::MissingBoundary {
                code: community.code.clone(),
            })?;
        // Communities come sorted by code: on overlap the lowest code keeps the cell.
        for cell in polygon_cells(boundary, res) {
            owner.entry(cell).or_insert(Unit::Community(i));
        }
    }

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

    for (s, street) in tree.streets.iter().enumerate() {
        let Some(boundary) = &street.boundary else {
            continue;
        };
        let uncovered: Vec<CellIndex> = polygon_cells(boundary, res)
            .into_iter()
            .filter(|c| !owner.contains_key(c))
            .collect();
        if has_communities[s] {
            flood(
                &mut owner,
                uncovered,
                |unit| matches!(unit, Unit::Community(i) if tree.community_street[i] == s),
            );
        } else {
            for cell in uncovered {
                owner.insert(cell, Unit::Street(s));
            }
        }
    }

    let mut orphans: Vec<&(BuildingRecord, CellIndex)> = buildings
        .iter()
        .filter(|(_, cell)| !owner.contains_key(cell))
        .collect();
    orphans.sort_by_key(|(_, cell)| *cell);
    if let Some(&s) = open.first() {
        if let Some(area) = padded_bbox(orphans.iter().map(|(b, _)| &b.footprint), res) {
            for cell in polygon_cells(&area, res) {
                owner.entry(cell).or_insert(Unit::Street(s));
            }
        }
        for (_, cell) in &orphans {
            owner.entry(*cell).or_insert(Unit::Street(s));
        }
    } else if !orphans.is_empty() {
        if owner.is_empty() {
            return Err(PlanError::NoTerritory {
                buildings: orphans.len(),
            });
        }
        for (_, cell) in orphans {
            if !owner.contains_key(cell) {
                attach_to_nearest(*cell, &mut owner);
            }
        }
    }

    let mut community_cells = vec![Vec::new(); tree.communities.len()];
    let mut street_cells = vec![Vec::new(); tree.streets.len()];
    for (&cell, &unit) in &owner {
        match unit {
            Unit::Community(i) => community_cells[i].push(cell),
            Unit::Street(s) => street_cells[s].push(cell),
        }
    }
    for cells in community_cells.iter_mut().chain(street_cells.iter_mut()) {
        cells.sort_unstable();
    }
    Ok(Territory {
        community_cells,
        street_cells,
    })
}

/// Gives each of `cells` to a unit accepted by `eligible` that it touches, growing layer by
/// layer from the units' edges; cells never reached stay unowned. Ties go to the lowest unit.
fn flood(
    owner: &mut HashMap<CellIndex, Unit>,
    cells: Vec<CellIndex>,
    eligible: impl Fn(Unit) -> bool,
) {
    let mut left: Vec<CellIndex> = cells;
    left.sort_unstable();
    loop {
        let mut taken: Vec<(CellIndex, Unit)> = Vec::new();
        left.retain(|&cell| {
            let best = crate::cells::neighbours(cell)
                .filter_map(|n| owner.get(&n).copied())
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
        owner.extend(taken);
    }
}

/// Gives `cell` to the unit of the nearest owned cell (by distance between cell centres,
/// ties by cell index), together with the cells on the H3 line between them, so the unit
/// stays contiguous. The line stops at the first owned cell it meets, whose unit wins.
fn attach_to_nearest(cell: CellIndex, owner: &mut HashMap<CellIndex, Unit>) {
    let Some(target) = nearest_owned(cell, owner) else {
        return;
    };
    let mut unit = owner[&target];
    let mut line = Vec::new();
    let walked = cell.grid_path_cells(target).map(|steps| {
        for step in steps {
            let Ok(step) = step else { return false };
            if let Some(&u) = owner.get(&step) {
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
        unit = owner[&target];
    }
    for step in line {
        owner.insert(step, unit);
    }
}

fn nearest_owned(cell: CellIndex, owner: &HashMap<CellIndex, Unit>) -> Option<CellIndex> {
    let from = LatLng::from(cell);
    let closest = |candidates: &mut dyn Iterator<Item = CellIndex>| {
        candidates
            .map(|c| (from.distance_m(LatLng::from(c)), c))
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
            .map(|(_, c)| c)
    };
    for k in 1..=MAX_RING {
        let ring: Vec<CellIndex> = cell.grid_ring(k);
        if let Some(found) = closest(&mut ring.into_iter().filter(|c| owner.contains_key(c))) {
            return Some(found);
        }
    }
    closest(&mut owner.keys().copied())
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
    fn nearest_attachment_keeps_the_unit_contiguous() {
        let centre = LatLng::new(36.19, 113.11)
            .expect("valid")
            .to_cell(Resolution::Twelve);
        let mut owner: HashMap<CellIndex, Unit> = centre
            .grid_disk::<Vec<_>>(3)
            .into_iter()
            .map(|c| (c, Unit::Community(0)))
            .collect();
        let far: Vec<CellIndex> = centre.grid_ring(12);
        let stray = far[0];
        attach_to_nearest(stray, &mut owner);
        assert_eq!(owner.get(&stray), Some(&Unit::Community(0)));
        // The unit is still one piece.
        let cells: HashSet<CellIndex> = owner.keys().copied().collect();
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
