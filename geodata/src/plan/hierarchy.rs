//! Fills the region hierarchy: checks codes, creates missing districts and streets, and
//! gives every street and community its parent. Boundaries are degrees (EPSG:4326,
//! lon/lat order); owns no cells.

use super::PlanError;
use crate::model::{Dataset, Level, RegionRecord, is_valid_region_code};
use geo::{Contains as _, InteriorPoint};
use std::collections::HashSet;

/// The regions by level, each sorted by code, every street and community with a parent.
#[derive(Debug, Clone)]
pub(super) struct Tree {
    pub districts: Vec<RegionRecord>,
    pub streets: Vec<RegionRecord>,
    pub communities: Vec<RegionRecord>,
    /// For each community, the index of its street in `streets`.
    pub community_street: Vec<usize>,
}

pub(super) fn resolve(dataset: &Dataset) -> Result<Tree, PlanError> {
    let mut seen = HashSet::new();
    for region in &dataset.regions {
        if !is_valid_region_code(region.level, &region.code) {
            return Err(PlanError::BadCode {
                code: region.code.clone(),
                level: region.level,
                expected: region.level.code_digits(),
            });
        }
        if !seen.insert(region.code.as_str()) {
            return Err(PlanError::DuplicateCode {
                code: region.code.clone(),
            });
        }
    }
    let at = |level: Level| {
        let mut regions: Vec<RegionRecord> = dataset
            .regions
            .iter()
            .filter(|r| r.level == level)
            .cloned()
            .collect();
        regions.sort_by(|a, b| a.code.cmp(&b.code));
        regions
    };
    let mut districts = at(Level::District);
    let mut streets = at(Level::Street);
    let mut communities = at(Level::Community);

    if districts.is_empty() {
        districts.push(RegionRecord {
            level: Level::District,
            code: "000000".to_owned(),
            name: dataset.name.clone(),
            parent_code: None,
            boundary: None,
        });
    }
    if streets.is_empty() {
        for district in &districts {
            streets.push(RegionRecord {
                level: Level::Street,
                code: format!("{}001", district.code),
                name: if districts.len() == 1 {
                    format!("{} street", dataset.name)
                } else {
                    format!("{} street", district.name)
                },
                parent_code: Some(district.code.clone()),
                boundary: district.boundary.clone(),
            });
        }
    }
    for street in &mut streets {
        street.parent_code = Some(parent_of(street, &districts)?);
    }
    let mut community_street = Vec::with_capacity(communities.len());
    for community in &mut communities {
        let parent = parent_of(community, &streets)?;
        community_street.push(streets.iter().position(|s| s.code == parent).unwrap_or(0));
        community.parent_code = Some(parent);
    }
    Ok(Tree {
        districts,
        streets,
        communities,
        community_street,
    })
}

/// The parent code of `child` among `parents` (the level above): the one it names, else
/// the only one, else the one containing the child's interior point.
fn parent_of(child: &RegionRecord, parents: &[RegionRecord]) -> Result<String, PlanError> {
    if let Some(code) = &child.parent_code {
        return match parents.iter().find(|p| &p.code == code) {
            Some(parent) => Ok(parent.code.clone()),
            None => Err(PlanError::BadParent {
                code: child.code.clone(),
                parent_code: code.clone(),
                reason: "does not exist one level up",
            }),
        };
    }
    if let [only] = parents {
        return Ok(only.code.clone());
    }
    let point = child
        .boundary
        .as_ref()
        .and_then(InteriorPoint::interior_point);
    parents
        .iter()
        .find(|p| point.is_some_and(|pt| p.boundary.as_ref().is_some_and(|b| b.contains(&pt))))
        .map(|p| p.code.clone())
        .ok_or(PlanError::OrphanRegion {
            code: child.code.clone(),
            candidates: parents.len(),
        })
}
