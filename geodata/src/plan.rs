//! The city planner: from a [`Dataset`] to a full grid plan (district → street → community →
//! grid), every household in exactly one grid.
//!
//! Owns the plan types ([`CityPlan`], [`PlannedRegion`], [`PlannedGrid`], [`GridFlag`],
//! [`PlanReport`]) and
//! the steps, each in its own file: [`hierarchy`] fills missing levels and parents,
//! [`territory`] gives every community its cells, [`numbering`] codes grids in reading
//! order, [`report`] measures the result. The cutting itself is the partitioner's
//! ([`crate::partition_cells_with_barriers`]). Cells are
//! H3 at the requested resolution; boundaries are degrees (EPSG:4326, lon/lat order).
//! It must not read files or know about stores and servers.

mod hierarchy;
mod numbering;
mod report;
mod territory;

pub use numbering::grid_figures;
pub use report::{GridReport, OutOfRange, PlanReport};

use crate::barriers::Barriers;
use crate::cells::{self, centroid_cell};
use crate::model::{AreaRecord, BuildingRecord, Dataset, Level, LineRecord, RegionRecord};
use crate::partition::{CellLoad, PartitionRules, partition_range};
use geo::MultiPolygon;
use h3o::{CellIndex, Resolution};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::collections::HashMap;

/// Why a dataset could not be planned.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    /// A region code does not have the digits its level needs.
    #[error("region {code:?}: a {level:?} code must be {expected} digits")]
    BadCode {
        /// The code.
        code: String,
        /// Its level.
        level: Level,
        /// Digits required.
        expected: usize,
    },
    /// Two regions share a code.
    #[error("region code {code:?} is used twice")]
    DuplicateCode {
        /// The code.
        code: String,
    },
    /// A region names a parent that is not in the dataset, or not one level up.
    #[error("region {code:?}: parent {parent_code:?} {reason}")]
    BadParent {
        /// The region.
        code: String,
        /// The parent it names.
        parent_code: String,
        /// `does not exist` or `is not one level up`.
        reason: &'static str,
    },
    /// A region has no parent and none can be chosen.
    #[error("region {code:?} has no parent and none of the {candidates} candidates contains it")]
    OrphanRegion {
        /// The region.
        code: String,
        /// How many regions one level up there are.
        candidates: usize,
    },
    /// A community has no boundary: its cells cannot be known.
    #[error("community {code:?} has no boundary")]
    MissingBoundary {
        /// The community.
        code: String,
    },
    /// More than one street has neither a boundary nor communities.
    #[error("streets {codes:?} have neither a boundary nor communities; at most one may")]
    AmbiguousStreets {
        /// The streets.
        codes: Vec<String>,
    },
    /// A building's centroid is not a valid coordinate.
    #[error("building {index} ({source_id:?}) has no centroid cell")]
    BuildingWithoutCell {
        /// Position in `dataset.buildings`.
        index: usize,
        /// Its source id, if any.
        source_id: Option<String>,
    },
    /// Buildings lie outside every region and there is no region to give them to.
    #[error("{buildings} buildings lie outside every region and no region has any cell")]
    NoTerritory {
        /// How many buildings.
        buildings: usize,
    },
    /// A region would need more than 999 children (3-digit sequence).
    #[error("{code:?} would need {count} children; codes allow 999")]
    TooManyChildren {
        /// The parent region.
        code: String,
        /// How many.
        count: usize,
    },
}

/// Why a grid is outside the household range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GridFlag {
    /// One cell, holding a single building over the maximum (a tower).
    SingleBuildingOverMax {
        /// The grid's households.
        households: u32,
    },
    /// One cell over the maximum, made of several buildings.
    CellOverMax {
        /// The grid's households.
        households: u32,
    },
    /// Fewer households than the minimum.
    UnderMin {
        /// The grid's households.
        households: u32,
    },
    /// More households than the maximum.
    OverMax {
        /// The grid's households.
        households: u32,
    },
}

/// One grid (网格) of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedGrid {
    /// The 12-digit code of its community.
    pub community_code: String,
    /// 15 digits: the community code + a 3-digit sequence in reading order.
    pub code: String,
    /// Its H3 cells, sorted.
    pub cells: Vec<CellIndex>,
    /// Households of the buildings whose centroid cell is in the grid.
    pub households: u32,
    /// Number of those buildings.
    pub building_count: u32,
    /// Set when the grid is outside the household range.
    pub flag: Option<GridFlag>,
}

/// A region of the plan; its boundary is always set.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRegion {
    /// The region, `boundary` always `Some` (given, or the outline of its cells).
    pub record: RegionRecord,
    /// Communities: their cells, sorted; empty for districts and streets.
    pub cells: Vec<CellIndex>,
}

/// The whole plan: regions, grids, and the buildings with their cells.
#[derive(Debug, Clone, PartialEq)]
pub struct CityPlan {
    /// The H3 resolution of every cell in the plan.
    pub resolution: Resolution,
    /// Districts, then streets, then communities, each sorted by code.
    pub regions: Vec<PlannedRegion>,
    /// Grids, by code.
    pub grids: Vec<PlannedGrid>,
    /// Every building with its centroid cell.
    pub buildings: Vec<(BuildingRecord, CellIndex)>,
    /// The dataset's roads, unchanged.
    pub roads: Vec<LineRecord>,
    /// The dataset's areas, unchanged.
    pub areas: Vec<AreaRecord>,
    /// Share of grids in range, compactness per grid and why each grid out of range is.
    pub report: PlanReport,
}

/// Plans a city: fills missing levels, gives every community its cells, and cuts each
/// community into contiguous grids.
///
/// Boundaries are degrees (EPSG:4326, lon/lat order); cells are H3 at `res`.
///
/// - Missing levels: no district → district `000000` named after the dataset; no street →
///   street `<district>001` per district (its boundary the district's, if any); a street or
///   community without a parent gets the only region one level up, else the one containing
///   its interior point.
/// - Community cells: centre containment in its boundary (overlaps go to the lowest code).
///   A street's cells outside every community go to the community they touch (flood fill);
///   a building whose centroid cell is in no community goes to the nearest community cell,
///   with the cells on the H3 line between them, so the community stays contiguous.
/// - A street with no communities: its cells (its boundary, or for the one street with no
///   boundary the bounding box of its buildings padded by one cell, plus every building
///   cell) are cut into communities of `community_min..community_max` households, coded
///   `<street>001…` in reading order and named `Community 1…`.
/// - Grids: [`crate::partition_cells_with_barriers`] per community, with the dataset's major
///   roads, railways and water as the preferred grid edges; codes `<community>001…` in reading order
///   (north to south in rows about one grid tall, west to east within a row); out-of-range
///   grids carry a [`GridFlag`].
pub fn plan_city(
    dataset: &Dataset,
    res: Resolution,
    rules: &PartitionRules,
) -> Result<CityPlan, PlanError> {
    let (buildings, loads) = locate_buildings(dataset, res)?;
    let mut tree = hierarchy::resolve(dataset)?;
    let barriers = Barriers::new(&dataset.roads, &dataset.areas);
    let territory = territory::assign(&tree, &buildings, res)?;

    // Communities: the given ones with their cells, then those formed inside open streets.
    let mut community_cells: Vec<Community> = Vec::new();
    for (community, cells) in tree.communities.drain(..).zip(territory.community_cells) {
        community_cells.push((community, cells));
    }
    community_cells.extend(form_communities(
        &tree.streets,
        territory.street_cells,
        &loads,
        rules,
        res,
    )?);
    community_cells.sort_by(|a, b| a.0.code.cmp(&b.0.code));

    // Communities are cut independently; results are collected in community order, so the
    // plan does not depend on how the work was spread over threads.
    let per_community: Vec<Result<Vec<(PlannedGrid, f64)>, PlanError>> = community_cells
        .par_iter()
        .map(|(community, cells)| {
            let pieces = partition_range(
                cells,
                &loads,
                rules.min_households,
                rules.max_households,
                Some(&barriers),
                true,
            );
            let ordered = numbering::reading_order(pieces, res);
            if ordered.len() > 999 {
                return Err(PlanError::TooManyChildren {
                    code: community.code.clone(),
                    count: ordered.len(),
                });
            }
            Ok((1_usize..)
                .zip(ordered)
                .map(|(n, group)| {
                    let compactness = group.polsby_popper.unwrap_or_default();
                    let grid = numbering::grid(&community.code, n, group.cells, &loads, rules);
                    (grid, compactness)
                })
                .collect())
        })
        .collect();
    let mut grids = Vec::new();
    let mut compactness = Vec::new();
    for community_grids in per_community {
        let (community_grids, measured): (Vec<PlannedGrid>, Vec<f64>) =
            community_grids?.into_iter().unzip();
        grids.extend(community_grids);
        compactness.extend(measured);
    }

    // Each grid's Polsby–Popper was measured on its community's cell graph while cutting.
    let report = report::report_measured(
        community_cells
            .iter()
            .map(|(community, cells)| (community.code.as_str(), cells.as_slice())),
        &grids,
        &compactness,
        &loads,
        rules,
    );
    let regions = finish_regions(tree, community_cells);
    Ok(CityPlan {
        resolution: res,
        regions,
        grids,
        buildings,
        roads: dataset.roads.clone(),
        areas: dataset.areas.clone(),
        report,
    })
}

/// A community with its cells.
type Community = (RegionRecord, Vec<CellIndex>);
/// Every building with its cell, and the load of each cell.
type Located = (
    Vec<(BuildingRecord, CellIndex)>,
    FxHashMap<CellIndex, CellLoad>,
);

/// Every building with its centroid cell, and the load of every cell holding one. The
/// centroids and the copies of the buildings are independent per building: done in parallel.
fn locate_buildings(dataset: &Dataset, res: Resolution) -> Result<Located, PlanError> {
    let centroid_cells: Vec<Option<CellIndex>> = dataset
        .buildings
        .par_iter()
        .map(|building| centroid_cell(&building.footprint, res))
        .collect();
    let mut loads: FxHashMap<CellIndex, CellLoad> = FxHashMap::default();
    let mut cells_of_buildings = Vec::with_capacity(centroid_cells.len());
    for (index, (building, cell)) in dataset.buildings.iter().zip(centroid_cells).enumerate() {
        let cell = cell.ok_or_else(|| PlanError::BuildingWithoutCell {
            index,
            source_id: building.source_id.clone(),
        })?;
        loads
            .entry(cell)
            .or_default()
            .add_building(building.households);
        cells_of_buildings.push(cell);
    }
    let buildings = dataset
        .buildings
        .par_iter()
        .cloned()
        .zip(cells_of_buildings)
        .collect();
    Ok((buildings, loads))
}

/// Cuts the cells of each street without communities (`street_cells`, aligned with
/// `streets`) into communities, coded in reading order; streets in parallel, results in
/// street order.
fn form_communities(
    streets: &[RegionRecord],
    street_cells: Vec<Vec<CellIndex>>,
    loads: &FxHashMap<CellIndex, CellLoad>,
    rules: &PartitionRules,
    res: Resolution,
) -> Result<Vec<Community>, PlanError> {
    let formed: Vec<Result<Vec<Community>, PlanError>> = street_cells
        .into_par_iter()
        .enumerate()
        .filter(|(_, cells)| !cells.is_empty())
        .map(|(street_index, cells)| {
            let street = &streets[street_index];
            let pieces = partition_range(
                &cells,
                loads,
                rules.community_min_households,
                rules.community_max_households,
                None,
                false,
            );
            let ordered = numbering::reading_order(pieces, res);
            if ordered.len() > 999 {
                return Err(PlanError::TooManyChildren {
                    code: street.code.clone(),
                    count: ordered.len(),
                });
            }
            Ok((1_usize..)
                .zip(ordered)
                .map(|(n, group)| {
                    let cells = group.cells;
                    let record = RegionRecord {
                        level: Level::Community,
                        code: format!("{}{n:03}", street.code),
                        name: format!("Community {n}"),
                        parent_code: Some(street.code.clone()),
                        boundary: Some(cells::outline(&cells)),
                    };
                    (record, cells)
                })
                .collect())
        })
        .collect();
    let mut out = Vec::new();
    for communities in formed {
        out.extend(communities?);
    }
    Ok(out)
}

/// The report of `grids` cut from `communities` (each a community code with its cells), for a plan
/// made outside [`plan_city`] — a planner's redraw of one community. See [`PlanReport`].
#[must_use]
#[expect(
    clippy::implicit_hasher,
    reason = "the report's own signature takes the std hasher"
)]
pub fn plan_report<'a>(
    communities: impl IntoIterator<Item = (&'a str, &'a [CellIndex])>,
    grids: &[PlannedGrid],
    loads: &HashMap<CellIndex, CellLoad>,
    rules: &PartitionRules,
) -> PlanReport {
    report::report(communities, grids, loads, rules)
}

/// Gives every district and street a boundary (the outline of its communities' cells when
/// none was given) and lays the regions out district, street, community, each by code.
/// Cells are gathered only for regions that need an outline: a district of a hundred
/// streets has millions.
fn finish_regions(tree: hierarchy::Tree, communities: Vec<Community>) -> Vec<PlannedRegion> {
    let mut street_communities: HashMap<&str, Vec<&[CellIndex]>> = HashMap::new();
    for (community, cells) in &communities {
        if let Some(parent) = community.parent_code.as_deref() {
            street_communities
                .entry(parent)
                .or_default()
                .push(cells.as_slice());
        }
    }
    let gather = |pieces: &[&[CellIndex]]| -> Vec<CellIndex> { pieces.concat() };
    let mut district_streets: HashMap<&str, Vec<&str>> = HashMap::new();
    for street in &tree.streets {
        if let Some(parent) = street.parent_code.as_deref() {
            district_streets
                .entry(parent)
                .or_default()
                .push(street.code.as_str());
        }
    }
    let district_boundaries: Vec<Option<MultiPolygon<f64>>> = tree
        .districts
        .iter()
        .map(|district| {
            if district.boundary.is_some() {
                return None;
            }
            let pieces: Vec<&[CellIndex]> = district_streets
                .get(district.code.as_str())
                .into_iter()
                .flatten()
                .filter_map(|code| street_communities.get(code))
                .flatten()
                .copied()
                .collect();
            Some(cells::outline(&gather(&pieces)))
        })
        .collect();
    let street_boundaries: Vec<Option<MultiPolygon<f64>>> = tree
        .streets
        .iter()
        .map(|street| {
            if street.boundary.is_some() {
                return None;
            }
            let pieces = street_communities
                .get(street.code.as_str())
                .map_or(&[][..], Vec::as_slice);
            Some(cells::outline(&gather(pieces)))
        })
        .collect();

    let mut regions = Vec::new();
    for (mut district, outline) in tree.districts.into_iter().zip(district_boundaries) {
        if outline.is_some() {
            district.boundary = outline;
        }
        regions.push(PlannedRegion {
            record: district,
            cells: Vec::new(),
        });
    }
    for (mut street, outline) in tree.streets.into_iter().zip(street_boundaries) {
        if outline.is_some() {
            street.boundary = outline;
        }
        regions.push(PlannedRegion {
            record: street,
            cells: Vec::new(),
        });
    }
    regions.extend(
        communities
            .into_iter()
            .map(|(record, cells)| PlannedRegion { record, cells }),
    );
    regions
}

#[cfg(test)]
mod tests;
