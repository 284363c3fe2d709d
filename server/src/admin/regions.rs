//! Regions (districts, streets, communities): creating one, with the rules a region must keep — a code
//! of the level's length that extends its parent's, a parent of the level above, a code used once.

use crate::core::Core;
use crate::domain::{AccessError, Principal, Region, RegionId, RegionLevel, Subject};
use crate::store::{NewRegion, StoreError};
use crate::world::{Visibility, World};

/// The longest region name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// Why a region was not created; nothing was.
#[derive(Debug, thiserror::Error)]
pub enum RegionError {
    /// A code that is not the level's number of digits.
    #[error("a {} code has {} digits, got {code:?}", .level.as_str(), .level.code_len())]
    BadCode { level: RegionLevel, code: String },
    #[error("name must have 1 to {MAX_NAME_CHARS} characters")]
    BadName,
    #[error("region code {0} is taken")]
    CodeTaken(String),
    #[error("a district has no parent")]
    DistrictWithParent,
    /// A street or community named without its parent (of level `parent`).
    #[error("a {} needs a parent {}", .level.as_str(), .parent.as_str())]
    NoParent {
        level: RegionLevel,
        parent: RegionLevel,
    },
    /// The parent exists but is not of the level above.
    #[error("the parent of a {} must be a {}", .level.as_str(), .parent.as_str())]
    WrongParentLevel {
        level: RegionLevel,
        parent: RegionLevel,
    },
    #[error("code {code} must extend its parent's code {parent_code}")]
    CodeOutsideParent { code: String, parent_code: String },
    /// The parent region does not exist.
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates a region under `parent` after checking it against the world.
pub async fn create(
    core: &Core,
    principal: &Principal,
    new: NewRegion,
    parent: Option<RegionId>,
) -> Result<Region, RegionError> {
    let principal = principal.clone();
    core.write(move |w| async move {
        {
            let world = w.world();
            // A scoped planner creates regions only under a region of its own scope.
            let allowed = match parent {
                Some(parent) => {
                    world.region(parent).is_none() || world.region_in_scope(&principal, parent)
                }
                None => matches!(world.visibility(&principal), Visibility::All),
            };
            if !allowed {
                let subject = parent.map_or(Subject::TopLevelRegion, Subject::ParentRegion);
                return Err(AccessError::OutOfScope(subject).into());
            }
            check(&world, &new, parent)?;
        }
        let (region, event) = w.store().insert_region(&new, parent).await?;
        let applied = region.clone();
        w.stored(event, |world| world.apply_region(applied));
        Ok(region)
    })
    .await
}

fn check(world: &World, new: &NewRegion, parent: Option<RegionId>) -> Result<(), RegionError> {
    let level = new.level;
    if new.code.len() != level.code_len() || !new.code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RegionError::BadCode {
            level,
            code: new.code.clone(),
        });
    }
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(RegionError::BadName);
    }
    if world.region_by_code(&new.code).is_some() {
        return Err(RegionError::CodeTaken(new.code.clone()));
    }
    match (level.parent(), parent) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(RegionError::DistrictWithParent),
        (Some(parent), None) => Err(RegionError::NoParent { level, parent }),
        (Some(want), Some(parent_id)) => {
            let parent = world
                .region(parent_id)
                .ok_or(AccessError::NotFound(Subject::ParentRegion(parent_id)))?;
            if parent.level != want {
                return Err(RegionError::WrongParentLevel {
                    level,
                    parent: want,
                });
            }
            if !new.code.starts_with(&parent.code) {
                return Err(RegionError::CodeOutsideParent {
                    code: new.code.clone(),
                    parent_code: parent.code.clone(),
                });
            }
            Ok(())
        }
    }
}
