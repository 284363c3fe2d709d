//! Resolving a token's role and scopes into the set of grids it may see.

use rustc_hash::FxHashSet;

use super::World;
use crate::domain::{GridId, Principal, RegionId, Role, Scope};

/// The grids a caller may see, resolved once per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    All,
    Grids(FxHashSet<GridId>),
}

impl Visibility {
    #[must_use]
    pub fn grid(&self, id: GridId) -> bool {
        match self {
            Self::All => true,
            Self::Grids(set) => set.contains(&id),
        }
    }

    /// Whether any of `grids` is visible: a worker's record is visible when one of their grids is.
    #[must_use]
    pub fn any(&self, mut grids: impl Iterator<Item = GridId>) -> bool {
        match self {
            Self::All => true,
            Self::Grids(set) => grids.any(|g| set.contains(&g)),
        }
    }

    /// Whether every one of `grids` is visible, and there is at least one (or everything is visible):
    /// the rule for changing something that spans grids, such as a worker serving two communities.
    #[must_use]
    pub fn every(&self, grids: impl Iterator<Item = GridId>) -> bool {
        match self {
            Self::All => true,
            Self::Grids(set) => {
                let mut any = false;
                for g in grids {
                    if !set.contains(&g) {
                        return false;
                    }
                    any = true;
                }
                any
            }
        }
    }
}

impl World {
    /// What `principal` may see. An unscoped admin, planner or commander sees everything; a worker or
    /// device token sees the grids its worker answers for; scopes narrow any role to the grids inside
    /// them (and add to a worker's own). A reporter or auditor sees no grid: a reporter follows only the
    /// cases it reported (`cases::actions::can_see`).
    #[must_use]
    pub fn visibility(&self, principal: &Principal) -> Visibility {
        let own_grids = principal
            .worker
            .and_then(|id| self.workers.get(&id))
            .map(|w| w.grids.iter().map(|d| d.grid_id).collect::<Vec<_>>())
            .unwrap_or_default();
        match principal.role {
            Role::Reporter | Role::Auditor => return Visibility::Grids(FxHashSet::default()),
            Role::Admin | Role::Planner | Role::Commander if principal.scopes.is_empty() => {
                return Visibility::All;
            }
            _ => {}
        }
        let mut set: FxHashSet<GridId> = own_grids.into_iter().collect();
        for scope in &principal.scopes {
            match *scope {
                Scope::Grid(id) => {
                    set.insert(id);
                }
                Scope::Region(region) => set.extend(self.grids_under(region)),
            }
        }
        Visibility::Grids(set)
    }

    /// Whether `region` lies inside `principal`'s scopes (is one of its regions or below one): the rule
    /// for creating a region under it. An unscoped admin, planner or commander may use any region.
    #[must_use]
    pub fn region_in_scope(&self, principal: &Principal, region: RegionId) -> bool {
        if matches!(self.visibility(principal), Visibility::All) {
            return true;
        }
        let mut at = Some(region);
        let mut depth = 0;
        while let Some(id) = at {
            if principal.scopes.contains(&Scope::Region(id)) {
                return true;
            }
            // Regions nest three deep (district, street, community); the bound guards a corrupt cycle.
            depth += 1;
            if depth > 8 {
                return false;
            }
            at = self.region(id).and_then(|r| r.parent);
        }
        false
    }

    /// Whether a point (degrees, EPSG:4326) lies in a grid `visibility` covers: the scope of something
    /// placed by coordinates, such as a camera. A point in no grid is visible only to an unscoped caller.
    #[must_use]
    pub fn point_visible(&self, visibility: &Visibility, lat: f64, lon: f64) -> bool {
        if matches!(visibility, Visibility::All) {
            return true;
        }
        self.locate(lat, lon)
            .is_ok_and(|here| !here.outside && here.links.is_some_and(|l| visibility.grid(l.grid)))
    }

    /// Every grid inside a region, at any depth.
    pub fn grids_under(&self, region: RegionId) -> impl Iterator<Item = GridId> + '_ {
        self.links
            .iter()
            .filter(move |l| {
                l.community == region || l.street == Some(region) || l.district == Some(region)
            })
            .map(|l| l.grid)
    }
}
