//! The archive (issue 19, point 7): a snapshot with an archive line leaves out exactly the finished cases
//! last changed before it, and `Store::archived` finds exactly what plain filters over every case find,
//! newest first, with the right total — each filter alone, several together, and a scoped reader.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use gridwatch::domain::incident::{Actor, HistoryEntry, Source, Status};
use gridwatch::domain::{Case, GridId, IncidentId, Photo, Role, WorkerId};
use gridwatch::store::{ArchiveQuery, NewToken, Seer, Store};

use crate::{data, grid_ids, imported, new_worker, region_ids};

store_tests!(the_archive_finds_what_plain_filters_find);

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0)
        .single()
        .expect("valid time")
        + Duration::minutes(minute)
}

/// A deterministic pseudo-random sequence (a 64-bit LCG), so the cases are varied but the same each run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(self.0 >> 33).expect("31 bits") % n
    }

    fn pick<T: Clone>(&mut self, from: &[T]) -> T {
        from[self.below(from.len())].clone()
    }

    /// Whole minutes below `n`.
    fn minutes(&mut self, n: usize) -> i64 {
        i64::try_from(self.below(n)).expect("small")
    }

    /// Degrees within ±50 steps of 1e-4.
    fn offset(&mut self) -> f64 {
        f64::from(u32::try_from(self.below(100)).expect("small")) * 1e-4 - 50e-4
    }
}

/// Whether plain Rust, over the whole case, keeps it for `q` (the store's rule, written again here).
fn keeps(q: &ArchiveQuery, c: &Case) -> bool {
    let finished = matches!(
        c.state.status,
        Status::Closed | Status::Cancelled | Status::Merged
    );
    let seen = q.seen_by.as_ref().is_none_or(|s| {
        s.grids.contains(&c.place.grid)
            || (s.worker.is_some() && (c.state.assignee == s.worker || c.state.handler == s.worker))
            || (s.token.is_some() && c.reporter == s.token)
    });
    finished
        && c.updated_at < q.before
        && q.grid.is_none_or(|g| c.place.grid == g)
        && q.region.is_none_or(|r| {
            c.place.community == r || c.place.street == Some(r) || c.place.district == Some(r)
        })
        && (q.statuses.as_ref()).is_none_or(|s| s.contains(&c.state.status))
        && (q.categories.as_ref()).is_none_or(|k| k.contains(&c.category))
        && q.assignee.is_none_or(|w| c.state.assignee == Some(w))
        && q.bbox.is_none_or(|b| {
            b[0] <= c.place.lon && c.place.lon <= b[2] && b[1] <= c.place.lat && c.place.lat <= b[3]
        })
        && seen
        && q.created_from.is_none_or(|t| c.created_at >= t)
        && q.created_to.is_none_or(|t| c.created_at <= t)
        && q.active_since
            .is_none_or(|t| c.updated_at >= t || c.state.deadline.is_some_and(|d| d >= t))
        && (q.photo.as_ref()).is_none_or(|p| c.photos.iter().any(|f| &f.sha256 == p))
        && q.source.is_none_or(|s| c.source == s)
}

#[allow(clippy::too_many_lines)] // one scenario read top to bottom
async fn the_archive_finds_what_plain_filters_find(store: Arc<dyn Store>) {
    let snapshot = imported(&store).await;
    let grids = grid_ids(&snapshot);
    let regions = region_ids(&snapshot);
    let grid_list = [data::GRID_A, data::GRID_B, data::GRID_C].map(|g| grids[g]);
    let community = |g: GridId| {
        if g == grids[data::GRID_C] {
            regions[data::COMMUNITY_2]
        } else {
            regions[data::COMMUNITY_1]
        }
    };
    let (one, _) = store
        .insert_worker(&new_worker("甲", None, vec![]))
        .await
        .expect("worker");
    let (two, _) = store
        .insert_worker(&new_worker("乙", None, vec![]))
        .await
        .expect("worker");
    let workers = [None, Some(one.id), Some(two.id)];
    let (reporter, _) = store
        .insert_token(&NewToken {
            hash: "b".repeat(64),
            role: Role::Reporter,
            scopes: vec![],
            worker: None,
            label: None,
            prefix: String::new(),
            expires_at: Utc::now() + Duration::days(90),
            created_by: None,
        })
        .await
        .expect("token");
    let statuses = [
        Status::Closed,
        Status::Cancelled,
        Status::Merged,
        Status::Closed,
        Status::Registered,
        Status::Deferred,
        Status::InProgress,
    ];
    let centre = h3o::LatLng::from(data::centre());
    let mut random = Lcg(19);
    let photo = Photo {
        sha256: "cd".repeat(32),
        content_type: "image/png".into(),
        size: 4,
        at: at(1),
        by: Actor {
            worker: None,
            role: Role::Commander,
        },
    };
    for n in 0..60 {
        let grid = random.pick(&grid_list);
        let created = random.minutes(600);
        let updated = created + random.minutes(600);
        let status = random.pick(&statuses);
        let deadline = (random.below(3) > 0).then(|| at(created + random.minutes(900)));
        let mut case = crate::incidents::new_case(&store).await;
        case.state.status = status;
        case.state.assignee = random.pick(&workers);
        case.state.handler = random.pick(&workers);
        case.state.deadline = deadline;
        case.category = random.pick(&["street_order", "city_appearance"]).to_owned();
        case.source = random.pick(&[Source::Hotline, Source::Open311]);
        case.place.grid = grid;
        case.place.community = community(grid);
        case.place.lat = centre.lat() + random.offset();
        case.place.lon = centre.lng() + random.offset();
        case.reporter = (n % 5 == 0).then_some(reporter.id);
        case.created_at = at(created);
        case.updated_at = at(updated);
        case.history = vec![HistoryEntry {
            at: at(created),
            actor: Actor {
                worker: None,
                role: Role::Commander,
            },
            action: "register".into(),
            from: Status::Registered,
            to: Status::Registered,
            note: None,
            detail: None,
        }];
        let (stored, _) = store.insert_incident(&case).await.expect("insert");
        if n % 7 == 0 {
            store
                .add_photo(stored.id(), &photo, b"\x89PNG")
                .await
                .expect("photo");
        }
    }
    let every = store.snapshot(None).await.expect("snapshot").incidents;
    assert_eq!(every.len(), 60);
    let line = at(700);

    // The snapshot with a line holds every case but the archived ones, each whole.
    let held = store
        .snapshot(Some(line))
        .await
        .expect("snapshot")
        .incidents;
    let archive = ArchiveQuery::before(line);
    let expected_held: Vec<&Case> = every.iter().filter(|c| !keeps(&archive, c)).collect();
    assert_eq!(held.iter().collect::<Vec<_>>(), expected_held);
    let archived_count = every.iter().filter(|c| keeps(&archive, c)).count();
    assert!(
        (10..50).contains(&archived_count),
        "a fair split: {archived_count} of 60 archived"
    );

    // The queries: each filter alone, several at once, a scoped reader.
    let b = 20e-4;
    let queries = vec![
        archive.clone(),
        ArchiveQuery {
            grid: Some(grid_list[1]),
            ..archive.clone()
        },
        ArchiveQuery {
            region: Some(regions[data::COMMUNITY_2]),
            ..archive.clone()
        },
        ArchiveQuery {
            region: Some(regions[data::STREET]),
            ..archive.clone()
        },
        ArchiveQuery {
            statuses: Some(vec![Status::Cancelled, Status::Merged]),
            ..archive.clone()
        },
        ArchiveQuery {
            categories: Some(vec!["city_appearance".into()]),
            ..archive.clone()
        },
        ArchiveQuery {
            assignee: Some(one.id),
            ..archive.clone()
        },
        ArchiveQuery {
            bbox: Some([
                centre.lng() - b,
                centre.lat() - b,
                centre.lng() + b,
                centre.lat() + b,
            ]),
            ..archive.clone()
        },
        ArchiveQuery {
            seen_by: Some(Seer {
                grids: vec![grid_list[2]],
                worker: Some(two.id),
                token: None,
            }),
            ..archive.clone()
        },
        ArchiveQuery {
            seen_by: Some(Seer {
                grids: vec![],
                worker: None,
                token: Some(reporter.id),
            }),
            ..archive.clone()
        },
        ArchiveQuery {
            created_from: Some(at(200)),
            created_to: Some(at(400)),
            ..archive.clone()
        },
        ArchiveQuery {
            active_since: Some(at(500)),
            ..archive.clone()
        },
        ArchiveQuery {
            photo: Some(photo.sha256.clone()),
            ..archive.clone()
        },
        ArchiveQuery {
            source: Some(Source::Open311),
            ..archive.clone()
        },
        ArchiveQuery {
            grid: Some(grid_list[0]),
            statuses: Some(vec![Status::Closed]),
            assignee: Some(WorkerId(one.id.0)),
            ..ArchiveQuery::before(at(1000))
        },
        ArchiveQuery::before(at(0)),
    ];
    for (n, query) in queries.iter().enumerate() {
        let mut expected: Vec<IncidentId> = every
            .iter()
            .filter(|c| keeps(query, c))
            .map(Case::id)
            .collect();
        expected.reverse();
        let (total, ids) = store.archived(query, 1000).await.expect("archived");
        assert_eq!(
            (total, &ids),
            (expected.len() as u64, &expected),
            "query {n}: {query:?}"
        );
        // A page: the newest three, with the same total.
        let (total, ids) = store.archived(query, 3).await.expect("archived page");
        assert_eq!(total, expected.len() as u64, "query {n}, paged");
        assert_eq!(
            ids,
            expected.iter().copied().take(3).collect::<Vec<_>>(),
            "query {n}"
        );
    }
    let in_some: Vec<_> = every.iter().filter(|c| keeps(&queries[4], c)).collect();
    assert!(!in_some.is_empty(), "the status filter finds some");

    // The cases of some ids, each whole with its photos; an unknown id is left out.
    let wanted: Vec<IncidentId> = every.iter().step_by(4).map(Case::id).collect();
    let mut asked = wanted.clone();
    asked.push(IncidentId(999_999));
    asked.reverse();
    let read = store.incidents_in(&asked).await.expect("cases");
    let expected: Vec<Case> = every.iter().step_by(4).cloned().collect();
    assert_eq!(read, expected);
    assert!(
        read.iter().any(|c| !c.photos.is_empty()),
        "some carry the photo"
    );
    assert_eq!(store.incidents_in(&[]).await.expect("none"), vec![]);
}
