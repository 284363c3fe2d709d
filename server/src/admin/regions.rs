//! Regions (districts, streets, communities): creating one, with the rules a region must keep — a code
//! of the level's length that extends its parent's, a parent of the level above, a code used once.

use crate::core::Core;
use crate::domain::{Region, RegionId};
use crate::error::ApiError;
use crate::store::NewRegion;
use crate::world::World;

/// Creates a region under `parent` after checking it against the world.
pub async fn create(
    core: &Core,
    new: NewRegion,
    parent: Option<RegionId>,
) -> Result<Region, ApiError> {
    core.write(move |w| async move {
        check(&w.world(), &new, parent)?;
        let (region, event) = w.store().insert_region(&new, parent).await?;
        let applied = region.clone();
        w.stored(event, |world| world.apply_region(applied));
        Ok(region)
    })
    .await
}

fn check(world: &World, new: &NewRegion, parent: Option<RegionId>) -> Result<(), ApiError> {
    let want = new.level.code_len();
    if new.code.len() != want || !new.code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid(format!(
            "a {} code has {want} digits, got {:?}",
            new.level.as_str(),
            new.code
        )));
    }
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::invalid("name must have 1 to 200 characters"));
    }
    if world.region_by_code(&new.code).is_some() {
        return Err(ApiError::conflict(format!(
            "region code {} is taken",
            new.code
        )));
    }
    match (new.level.parent(), parent) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(ApiError::invalid("a district has no parent")),
        (Some(level), None) => Err(ApiError::invalid(format!(
            "a {} needs a parent {}",
            new.level.as_str(),
            level.as_str()
        ))),
        (Some(level), Some(parent_id)) => {
            let parent = world
                .region(parent_id)
                .ok_or_else(|| ApiError::not_found(format!("parent region {parent_id}")))?;
            if parent.level != level {
                return Err(ApiError::invalid(format!(
                    "the parent of a {} must be a {}",
                    new.level.as_str(),
                    level.as_str()
                )));
            }
            if !new.code.starts_with(&parent.code) {
                return Err(ApiError::invalid(format!(
                    "code {} must extend its parent's code {}",
                    new.code, parent.code
                )));
            }
            Ok(())
        }
    }
}
