//! Reading cases the world has archived: a finished case (closed, cancelled, merged) leaves the world
//! a while after its last change (`World::archive`, `Core::archive_now`), so memory follows open work,
//! not history. The store keeps it; a reader of history asks the store for what lies past the world's
//! archive line and merges by id.
//!
//! The world's cases and the archived ones split the store's cases exactly: a case is archived when it is
//! finished and was last changed before the line, and the world drops every such case in the same
//! step that moves the line. A reader takes the line together with the world's matches (one read
//! guard), then asks the store with that line, so a case is counted once even if the line moves in
//! between.

use rustc_hash::FxHashMap;

use crate::core::Core;
use crate::domain::incident::Status;
use crate::domain::{Case, IncidentId, Principal};
use crate::store::{ArchiveQuery, Seer, StoreError};
use crate::world::{Visibility, World};

/// A case from the world, or from the store once archived; `None` when there is no such case.
pub async fn find(core: &Core, id: IncidentId) -> Result<Option<Case>, StoreError> {
    {
        let world = core.world();
        if let Some(case) = world.incident(id) {
            return Ok(Some(case.clone()));
        }
        if !world.may_be_archived(id) {
            return Ok(None);
        }
    }
    // Only a finished case is archived; any other the store has and the world not yet (a write
    // between its commit and its apply) is not there yet for a reader either.
    Ok(core
        .store()
        .incident(id)
        .await?
        .filter(|c| c.state.status.is_finished()))
}

/// Whom an archive query must let see a case: `None` for a reader who sees every grid.
#[must_use]
pub fn seer(world: &World, principal: &Principal) -> Option<Seer> {
    match world.visibility(principal) {
        Visibility::All => None,
        Visibility::Grids(grids) => {
            let mut grids: Vec<_> = grids.into_iter().collect();
            grids.sort_unstable();
            Some(Seer {
                grids,
                worker: principal.worker,
                token: principal.token(),
            })
        }
    }
}

/// An archive query over the world's archive line, or `None` when nothing is archived or `statuses`
/// leaves out every finished status. A status filter keeps only its finished statuses.
#[must_use]
pub fn query(world: &World, statuses: Option<&[Status]>) -> Option<ArchiveQuery> {
    let line = world.archive_line()?;
    let statuses = match statuses {
        None => None,
        Some(statuses) => {
            let finished: Vec<Status> = statuses
                .iter()
                .copied()
                .filter(|s| s.is_finished())
                .collect();
            if finished.is_empty() {
                return None;
            }
            Some(finished)
        }
    };
    Some(ArchiveQuery {
        statuses,
        ..ArchiveQuery::before(line)
    })
}

/// One page of a list, newest (highest id) first, over the world's matching cases (`held`, highest
/// id first) and the archived ones matching `archived`: how many match in all, and the page's cases.
pub async fn page(
    core: &Core,
    held: Vec<IncidentId>,
    archived: Option<ArchiveQuery>,
    offset: usize,
    limit: usize,
) -> Result<(usize, Vec<Case>), StoreError> {
    let end = offset.saturating_add(limit);
    let (total, ids) = match archived {
        None => (held.len(), held),
        Some(query) => {
            let want = u64::try_from(end).unwrap_or(u64::MAX);
            let (archived_total, older) = core.store().archived(&query, want).await?;
            let archived_total = usize::try_from(archived_total).unwrap_or(usize::MAX);
            (
                held.len().saturating_add(archived_total),
                merge_newest_first(held, older),
            )
        }
    };
    let page: Vec<IncidentId> = ids.into_iter().skip(offset).take(limit).collect();
    Ok((total, cases(core, &page).await?))
}

/// The cases with these ids in this order: the world's copy of each it holds, the store's of the rest.
pub async fn cases(core: &Core, ids: &[IncidentId]) -> Result<Vec<Case>, StoreError> {
    let mut found: Vec<Option<Case>> = {
        let world = core.world();
        ids.iter().map(|&id| world.incident(id).cloned()).collect()
    };
    let missing: Vec<IncidentId> = ids
        .iter()
        .zip(&found)
        .filter(|(_, case)| case.is_none())
        .map(|(&id, _)| id)
        .collect();
    if !missing.is_empty() {
        let mut stored: FxHashMap<IncidentId, Case> = (core.store().incidents_in(&missing).await?)
            .into_iter()
            .map(|case| (case.id(), case))
            .collect();
        for (slot, id) in found.iter_mut().zip(ids) {
            if slot.is_none() {
                *slot = stored.remove(id);
            }
        }
    }
    Ok(found.into_iter().flatten().collect())
}

/// Two lists of ids, each highest first, as one highest first (an id in both once).
fn merge_newest_first(a: Vec<IncidentId>, b: Vec<IncidentId>) -> Vec<IncidentId> {
    let mut merged = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x == y => {
                b.next();
                a.next()
            }
            (Some(x), Some(y)) if x > y => a.next(),
            (Some(_) | None, Some(_)) => b.next(),
            (Some(_), None) => a.next(),
            (None, None) => break,
        };
        merged.extend(next);
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[i64]) -> Vec<IncidentId> {
        list.iter().copied().map(IncidentId).collect()
    }

    #[test]
    fn merging_keeps_the_newest_first_and_each_id_once() {
        assert_eq!(
            merge_newest_first(ids(&[9, 5, 2]), ids(&[8, 5, 3, 1])),
            ids(&[9, 8, 5, 3, 2, 1])
        );
        assert_eq!(merge_newest_first(ids(&[]), ids(&[4, 1])), ids(&[4, 1]));
        assert_eq!(merge_newest_first(ids(&[7]), ids(&[])), ids(&[7]));
    }
}
