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
}

impl World {
    /// What `principal` may see. An unscoped token sees everything, except a worker's, which sees only
    /// the grids it answers for; scopes narrow any role to the grids inside them.
    #[must_use]
    pub fn visibility(&self, principal: &Principal) -> Visibility {
        let own_grids = principal
            .worker
            .and_then(|id| self.workers.get(&id))
            .map(|w| w.grids.iter().map(|d| d.grid_id).collect::<Vec<_>>())
            .unwrap_or_default();
        if principal.scopes.is_empty() && principal.role != Role::Worker {
            return Visibility::All;
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
