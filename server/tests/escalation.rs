//! The escalation scheduler (督办) under paused tokio time: an overdue case climbs grid → community →
//! street at each deadline, counted in working hours on the default calendar; a closed case does not.
//!
//! The store runs on a runtime of its own with real time: only the server's clock and timers are paused,
//! so the pool's own timeouts never fire in virtual time while the database works.
//!
//! Every expected instant below is worked out by hand from the calendar (Beijing time, 08:30–17:30 with
//! lunch 12:00–13:30, weekends off) and the seeded `street_order` limit (8 working hours at `normal`).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use gridwatch::cases::{Report, SYSTEM, actions};
use gridwatch::clock::Clock;
use gridwatch::core::{Core, Options};
use gridwatch::domain::incident::{Action, Actor, EscalationLevel, Priority, Source, Status};
use gridwatch::domain::{IncidentId, Role};
use gridwatch::services::{self, Which};
use gridwatch::store::Store;

#[path = "escalation/remote.rs"]
mod remote;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().unwrap()
}

/// Lets the scheduler task and the store's worker thread finish what they started, without moving
/// tokio's paused clock, until `done` holds.
async fn settle(core: &Core, done: impl Fn(&Core) -> bool) {
    for _ in 0..5_000 {
        if done(core) {
            return;
        }
        tokio::task::yield_now().await;
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("the scheduler did not settle");
}

fn level(core: &Core, id: IncidentId) -> EscalationLevel {
    core.world().incident(id).unwrap().state.level
}

fn escalations(core: &Core, id: IncidentId) -> Vec<(DateTime<Utc>, serde_json::Value)> {
    let world = core.world();
    world
        .incident(id)
        .unwrap()
        .history
        .iter()
        .filter(|e| e.action == "escalate")
        .map(|e| (e.at, e.detail.clone().unwrap()))
        .collect()
}

/// Sleeps (in paused tokio time) until the core's clock reads `at`.
async fn sleep_until(core: &Core, at: DateTime<Utc>) {
    let wait = (at - core.now()).to_std().unwrap();
    tokio::time::sleep(wait).await;
}

#[test]
fn overdue_cases_escalate_one_level_at_each_deadline() {
    let database = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let store = database.block_on(async {
        let store: Arc<dyn Store> = gridwatch::store::open("sqlite::memory:").await.unwrap();
        let city = gridwatch_geodata::synthetic_city(gridwatch_geodata::Preset::Dongjie, 1);
        gridwatch::city::import(&store, &city, h3o::Resolution::Twelve)
            .await
            .unwrap();
        gridwatch::city::seed_demo_workers(&store).await.unwrap();
        store
    });
    let store: Arc<dyn Store> = Arc::new(remote::Remote::new(store, database.handle().clone()));
    let server = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    server.block_on(escalate_twice(store));
}

#[allow(clippy::too_many_lines)] // one scenario read top to bottom
async fn escalate_twice(store: Arc<dyn Store>) {
    // Monday 2026-11-23, 09:00 in Beijing.
    let created = utc(2026, 11, 23, 1, 0);
    let options = Options {
        clock: Clock::tokio(created),
        ..Options::default()
    };
    let core = Core::load_with(store, options).await.unwrap();
    // Every service but the scheduler while the cases are set up: its timers would move the paused
    // clock while the store works.
    let (state, setup) = services::start(
        &core,
        Which {
            escalation: false,
            revocation_watch: false,
        },
    );
    let (lat, lon) = {
        let world = core.world();
        let grid = world.grids().next().unwrap();
        let centre = h3o::LatLng::from(grid.cells[0]);
        (centre.lat(), centre.lng())
    };
    let report = || Report {
        lat,
        lon,
        category: "street_order".into(),
        priority: Priority::Normal,
        description: "占道经营 street stall blocking the pavement".into(),
        source: Source::Patrol,
    };
    let late = state
        .intake()
        .register(SYSTEM, None, report())
        .await
        .unwrap();
    let done = state
        .intake()
        .register(SYSTEM, None, report())
        .await
        .unwrap();
    assert_eq!(late.created_at, created);

    // Mon 09:00 + 8 working hours: 3 h to lunch, 4 h after it, 1 h on Tuesday from 08:30 → Tue 09:30.
    let d1 = utc(2026, 11, 24, 1, 30);
    // Tue 09:30 + 8 h: 2.5 h + 4 h on Tuesday, 1.5 h on Wednesday → Wed 10:00.
    let d2 = utc(2026, 11, 25, 2, 0);
    // Wed 10:00 + 8 h: 2 h + 4 h on Wednesday, 2 h on Thursday → Thu 10:30.
    let d3 = utc(2026, 11, 26, 2, 30);
    assert_eq!(late.state.deadline, Some(d1));
    assert_eq!(late.escalate_at, Some(d1));

    // The second case is handled and closed in time.
    let handler = late.state.assignee.unwrap();
    let worker = Actor {
        worker: Some(handler),
        role: Role::Worker,
    };
    let commander = Actor {
        worker: None,
        role: Role::Commander,
    };
    for (actor, action) in [
        (worker, Action::Accept),
        (worker, Action::Start),
        (worker, Action::Resolve { note: None }),
        (commander, Action::Verify { passed: true }),
    ] {
        actions::act(
            &core,
            actor,
            None,
            done.id(),
            action,
            actions::Extra::default(),
        )
        .await
        .unwrap();
    }

    // Now every service, the scheduler too, on the same core.
    assert!(setup.stop().await.is_empty());
    let _running = services::start(
        &core,
        Which {
            escalation: true,
            revocation_watch: false,
        },
    );

    // A minute before the deadline nothing has happened.
    sleep_until(&core, d1 - chrono::Duration::minutes(1)).await;
    settle(&core, |_| true).await;
    assert_eq!(level(&core, late.id()), EscalationLevel::Grid);
    assert!(escalations(&core, late.id()).is_empty());

    // Past the deadline: one level up, with a supervision notice, and the next deadline set.
    sleep_until(&core, d1 + chrono::Duration::minutes(1)).await;
    settle(&core, |s| level(s, late.id()) == EscalationLevel::Community).await;
    let first = escalations(&core, late.id());
    assert_eq!(first.len(), 1);
    assert!(
        first[0].0 >= d1 && first[0].0 <= d1 + chrono::Duration::minutes(1),
        "escalated at {}",
        first[0].0
    );
    assert_eq!(first[0].1["automatic"], true);
    assert_eq!(first[0].1["notice"], true);
    assert_eq!(first[0].1["level"], "community");
    assert_eq!(
        core.world().incident(late.id()).unwrap().escalate_at,
        Some(d2)
    );

    // Past the next deadline: one more level, and only one.
    sleep_until(&core, d2 + chrono::Duration::minutes(1)).await;
    settle(&core, |s| level(s, late.id()) == EscalationLevel::Street).await;
    let both = escalations(&core, late.id());
    assert_eq!(both.len(), 2);
    assert!(
        both[1].0 >= d2 && both[1].0 <= d2 + chrono::Duration::minutes(1),
        "escalated at {}",
        both[1].0
    );
    assert_eq!(both[1].1["level"], "street");
    // Both notices say the case's deadline, not the time of the escalation before, and carry no prose
    // a page would show untranslated.
    let since = serde_json::json!(d1);
    assert_eq!(both[0].1["overdue_since"], since);
    assert_eq!(both[1].1["overdue_since"], since, "the original deadline");
    assert!(
        core.world()
            .incident(late.id())
            .unwrap()
            .history
            .iter()
            .filter(|e| e.action == "escalate")
            .all(|e| e.note.is_none()),
        "no stored note"
    );
    let case = core.world().incident(late.id()).unwrap().clone();
    assert_eq!(case.escalate_at, Some(d3));
    assert_eq!(
        case.state.status,
        Status::Dispatched,
        "escalation does not change the status"
    );
    assert_eq!(
        case.state.deadline,
        Some(d1),
        "nor the deadline the case is judged by"
    );

    // The closed case was never chased.
    let closed = core.world().incident(done.id()).unwrap().clone();
    assert_eq!(
        (closed.state.status, closed.state.level),
        (Status::Closed, EscalationLevel::Grid)
    );
    assert!(escalations(&core, done.id()).is_empty());
}
