//! The city planner: from a [`Dataset`] to a full grid plan (district → street → community →
//! grid), every household in exactly one grid.
//!
//! Owns the plan types ([`CityPlan`], [`PlannedRegion`], [`PlannedGrid`], [`GridFlag`],
//! [`PlanReport`]) and
//! the steps, each in its own file: [`hierarchy`] fills missing levels and parents,
//! [`territory`] gives every community its cells, [`numbering`] codes grids in reading
//! order, [`report`] measures the result. The cutting itself is the partitioner's ([`crate::partition_cells`]). Cells are
//! H3 at the requested resolution; boundaries are degrees (EPSG:4326, lon/lat order).
//! It must not read files or know about stores and servers.

mod hierarchy;
mod numbering;
mod report;
mod territory;

pub use report::{GridReport, OutOfRange, PlanReport};

use crate::cells::{self, centroid_cell};
use crate::model::{AreaRecord, BuildingRecord, Dataset, Level, LineRecord, RegionRecord};
use crate::partition::{CellLoad, PartitionRules, partition_cells, partition_range};
use h3o::{CellIndex, Resolution};
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
/// - Grids: [`partition_cells`] per community; codes `<community>001…` in reading order
///   (north to south in rows about one grid tall, west to east within a row); out-of-range
///   grids carry a [`GridFlag`].
pub fn plan_city(
    dataset: &Dataset,
    res: Resolution,
    rules: &PartitionRules,
) -> Result<CityPlan, PlanError> {
    let mut buildings = Vec::with_capacity(dataset.buildings.len());
    let mut loads: HashMap<CellIndex, CellLoad> = HashMap::new();
    for (index, building) in dataset.buildings.iter().enumerate() {
        let cell = centroid_cell(&building.footprint, res).ok_or_else(|| {
            PlanError::BuildingWithoutCell {
                index,
                source_id: building.source_id.clone(),
            }
        })?;
        loads
            .entry(cell)
            .or_default()
            .add_building(building.households);
        buildings.push((building.clone(), cell));
    }

    let mut tree = hierarchy::resolve(dataset)?;
    let territory = territory::assign(&tree, &buildings, res)?;

    // Communities: the given ones with their cells, then those formed inside open streets.
    let mut community_cells: Vec<(RegionRecord, Vec<CellIndex>)> = Vec::new();
    for (community, cells) in tree.communities.drain(..).zip(territory.community_cells) {
        community_cells.push((community, cells));
    }
    for (street_index, cells) in territory.street_cells.into_iter().enumerate() {
        if cells.is_empty() {
            continue;
        }
        let street = &tree.streets[street_index];
        let pieces = partition_range(
            &cells,
            &loads,
            rules.community_min_households,
            rules.community_max_households,
        );
        let ordered = numbering::reading_order(pieces, res);
        if ordered.len() > 999 {
            return Err(PlanError::TooManyChildren {
                code: street.code.clone(),
                count: ordered.len(),
            });
        }
        for (n, cells) in (1_usize..).zip(ordered) {
            let record = RegionRecord {
                level: Level::Community,
                code: format!("{}{n:03}", street.code),
                name: format!("Community {n}"),
                parent_code: Some(street.code.clone()),
                boundary: Some(cells::outline(&cells)),
            };
            community_cells.push((record, cells));
        }
    }
    community_cells.sort_by(|a, b| a.0.code.cmp(&b.0.code));

    let mut grids = Vec::new();
    for (community, cells) in &community_cells {
        let pieces = partition_cells(cells, &loads, rules);
        let ordered = numbering::reading_order(pieces, res);
        if ordered.len() > 999 {
            return Err(PlanError::TooManyChildren {
                code: community.code.clone(),
                count: ordered.len(),
            });
        }
        for (n, cells) in (1_usize..).zip(ordered) {
            grids.push(numbering::grid(&community.code, n, cells, &loads, rules));
        }
    }

    let report = report::report(
        community_cells
            .iter()
            .map(|(community, cells)| (community.code.as_str(), cells.as_slice())),
        &grids,
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

/// Gives every district and street a boundary (the outline of its communities' cells when
/// none was given) and lays the regions out district, street, community, each by code.
/// The report of `grids` cut from `communities` (each a community code with its cells), for a plan
/// made outside [`plan_city`] — a planner's redraw of one community. See [`PlanReport`].
#[must_use]
#[expect(clippy::implicit_hasher, reason = "the report's own signature takes the std hasher")]
pub fn plan_report<'a>(
    communities: impl IntoIterator<Item = (&'a str, &'a [CellIndex])>,
    grids: &[PlannedGrid],
    loads: &HashMap<CellIndex, CellLoad>,
    rules: &PartitionRules,
) -> PlanReport {
    report::report(communities, grids, loads, rules)
}

fn finish_regions(
    tree: hierarchy::Tree,
    communities: Vec<(RegionRecord, Vec<CellIndex>)>,
) -> Vec<PlannedRegion> {
    let mut street_cells: HashMap<&str, Vec<CellIndex>> = HashMap::new();
    for (community, cells) in &communities {
        if let Some(parent) = community.parent_code.as_deref() {
            street_cells
                .entry(parent)
                .or_default()
                .extend_from_slice(cells);
        }
    }
    let mut district_cells: HashMap<String, Vec<CellIndex>> = HashMap::new();
    let mut regions = Vec::new();
    let mut streets = Vec::new();
    for mut street in tree.streets {
        let cells = street_cells
            .remove(street.code.as_str())
            .unwrap_or_default();
        if let Some(parent) = &street.parent_code {
            district_cells
                .entry(parent.clone())
                .or_default()
                .extend_from_slice(&cells);
        }
        if street.boundary.is_none() {
            street.boundary = Some(cells::outline(&cells));
        }
        streets.push(PlannedRegion {
            record: street,
            cells: Vec::new(),
        });
    }
    for mut district in tree.districts {
        if district.boundary.is_none() {
            let cells = district_cells.remove(&district.code).unwrap_or_default();
            district.boundary = Some(cells::outline(&cells));
        }
        regions.push(PlannedRegion {
            record: district,
            cells: Vec::new(),
        });
    }
    regions.extend(streets);
    regions.extend(
        communities
            .into_iter()
            .map(|(record, cells)| PlannedRegion { record, cells }),
    );
    regions
}

#[cfg(test)]
mod tests;
