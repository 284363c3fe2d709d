//! What this node's subscribers watch, in the terms the relay (`crate::relay`) subscribes to positions
//! in: coarse H3 cells, workers, or everything.
//!
//! A fix reaches a subscription through one of the registry's indexes (see `Registry::each_candidate`),
//! so the interest is made of them:
//! - a subscription indexed under cells (a bbox or a circle) wants the fixes in those cells, taken up to
//!   [`ROUTING_RESOLUTION`];
//! - one indexed under grids wants the fixes of the workers responsible for those grids, wherever they
//!   are (a fix is routed by its worker's grids, not by the grid it falls in);
//! - one indexed under a worker wants that worker's fixes;
//! - one indexed everywhere wants every fix.

use h3o::CellIndex;
use rustc_hash::FxHashSet;

use super::{Hub, ROUTING_RESOLUTION};
use crate::domain::WorkerId;
use crate::world::World;

/// The positions this node's subscribers may want.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Interest {
    /// Some subscriber wants every fix: the cells and workers add nothing.
    pub everywhere: bool,
    /// Cells at [`ROUTING_RESOLUTION`]: every fix in them.
    pub cells: FxHashSet<CellIndex>,
    /// Every fix of these workers, wherever it is.
    pub workers: FxHashSet<WorkerId>,
}

impl Hub {
    /// What the subscriptions registered now watch; the grids they are indexed under are read as the
    /// workers of those grids in `world`.
    #[must_use]
    pub fn interest(&self, world: &World) -> Interest {
        let mut interest = Interest::default();
        let grids: FxHashSet<_> = {
            let registry = self
                .registry
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if !registry.everywhere.is_empty() {
                interest.everywhere = true;
                return interest;
            }
            interest.cells = registry
                .by_cell
                .keys()
                .filter_map(|cell| cell.parent(ROUTING_RESOLUTION))
                .collect();
            interest.workers = registry.by_worker.keys().copied().collect();
            registry.by_grid.keys().copied().collect()
        };
        if !grids.is_empty() {
            interest.workers.extend(
                world
                    .workers()
                    .filter(|w| w.grids.iter().any(|d| grids.contains(&d.grid_id)))
                    .map(|w| w.id),
            );
        }
        interest
    }

    /// Resolves when a subscription has come or gone since the last call (at once if one has).
    pub async fn watched_changed(&self) {
        self.watched.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use h3o::LatLng;

    use super::*;
    use crate::domain::{Credential, Principal, Role, TokenId};
    use crate::live::filter::{Filter, FilterRequest};
    use crate::world::Visibility;

    fn principal(worker: Option<WorkerId>) -> Principal {
        Principal {
            credential: Credential::Token(TokenId(1)),
            role: Role::Commander,
            scopes: Vec::new(),
            worker,
            expires_at: None,
        }
    }

    fn filter(request: FilterRequest) -> Filter {
        Filter::check(
            request,
            |_| true,
            |_| None::<std::iter::Empty<crate::domain::GridId>>,
            None,
        )
        .expect("a valid filter")
    }

    #[test]
    fn a_box_is_watched_through_its_coarse_cells_and_everything_wins() {
        let hub = Arc::new(Hub::default());
        let world = World::default();
        assert_eq!(hub.interest(&world), Interest::default(), "nobody watches");

        // About 1.1 km × 0.9 km around Changzhi, inside one or two coarse cells.
        let bbox = [113.10, 36.19, 113.11, 36.20];
        let sub = hub.subscribe(
            principal(None),
            Visibility::All,
            filter(FilterRequest {
                bbox: Some(bbox),
                ..Default::default()
            }),
            0,
        );
        let interest = hub.interest(&world);
        assert!(!interest.everywhere);
        assert!(interest.workers.is_empty(), "{interest:?}");
        let corner = |lat, lon| {
            LatLng::new(lat, lon)
                .expect("a valid point")
                .to_cell(ROUTING_RESOLUTION)
        };
        let corners: FxHashSet<CellIndex> = [
            corner(36.19, 113.10),
            corner(36.20, 113.11),
            corner(36.19, 113.11),
            corner(36.20, 113.10),
        ]
        .into_iter()
        .collect();
        assert!(
            corners.is_subset(&interest.cells) && interest.cells.len() <= 4,
            "the box's corners {corners:?} in {:?}",
            interest.cells
        );
        assert!(
            !interest.cells.contains(&corner(36.30, 113.30)),
            "a point 20 km away is not watched"
        );

        // An unfiltered commander watches everything; once gone, the box is all that is left.
        let all = hub.subscribe(
            principal(None),
            Visibility::All,
            filter(FilterRequest::default()),
            0,
        );
        assert!(hub.interest(&world).everywhere);
        hub.unsubscribe(&all);
        assert_eq!(hub.interest(&world).cells, interest.cells);
        hub.unsubscribe(&sub);
        assert_eq!(hub.interest(&world), Interest::default());
    }

    #[test]
    fn a_worker_watching_their_own_is_watched_by_worker() {
        let hub = Arc::new(Hub::default());
        let me = WorkerId(7);
        let _sub = hub.subscribe(
            principal(Some(me)),
            Visibility::Grids(FxHashSet::default()),
            filter(FilterRequest::default()),
            0,
        );
        let interest = hub.interest(&World::default());
        assert!(!interest.everywhere);
        assert!(interest.cells.is_empty());
        assert_eq!(interest.workers, [me].into_iter().collect());
    }

    #[tokio::test]
    async fn a_new_subscription_wakes_the_watcher() {
        let hub = Arc::new(Hub::default());
        let sub = hub.subscribe(
            principal(None),
            Visibility::All,
            filter(FilterRequest::default()),
            0,
        );
        tokio::time::timeout(std::time::Duration::from_secs(5), hub.watched_changed())
            .await
            .expect("woken by the subscription");
        hub.unsubscribe(&sub);
        tokio::time::timeout(std::time::Duration::from_secs(5), hub.watched_changed())
            .await
            .expect("woken by its end");
    }
}
