//! Drafting against a world built in memory: two grids of res-12 cells in one community, four workers,
//! three categories. Deadlines are worked out by hand on the default calendar (08:30–17:30 Beijing time,
//! lunch 12:00–13:30, weekends off).

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use h3o::{CellIndex, LatLng, Resolution};
use serde_json::json;

use super::*;
use crate::cases::intake::route_of;
use crate::domain::category::{CategoryClass, CategoryClock, TimeLimits};
use crate::domain::incident::{CaseKind, Priority, Source};
use crate::domain::{Department, GridDuty, Region, RegionLevel, Role, WorkerId, WorkerKind};
use crate::error::ApiError;
use crate::store::Snapshot;
use crate::world::Position;

const A: GridId = GridId(1);
const B: GridId = GridId(2);
const COMMUNITY: RegionId = RegionId(3);
const PRIMARY_A: WorkerId = WorkerId(1);
const BACKUP_A: WorkerId = WorkerId(2);
const PRIMARY_B: WorkerId = WorkerId(3);
const POWER: WorkerId = WorkerId(9);

const CLERK: Actor = Actor {
    worker: None,
    role: Role::Commander,
};

/// Monday 2026-11-23, 09:00 in Beijing.
fn monday_nine() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap()
}

fn centre_cell() -> CellIndex {
    LatLng::new(36.19, 113.11)
        .unwrap()
        .to_cell(Resolution::Twelve)
}

fn latlng(cell: CellIndex) -> (f64, f64) {
    let c = LatLng::from(cell);
    (c.lat(), c.lng())
}

fn grid(id: GridId, centre: CellIndex) -> crate::domain::Grid {
    let mut cells: Vec<CellIndex> = centre.grid_disk(2);
    cells.sort_unstable();
    crate::domain::Grid {
        id,
        code: format!("14040200100100{}", id.0),
        name: format!("grid {}", id.0),
        community: COMMUNITY,
        boundary: gridwatch_geodata::cells::outline(&cells),
        cells,
        households: 120,
        building_count: 10,
        flag: None,
    }
}

fn region(id: i64, level: RegionLevel, code: &str, parent: Option<i64>) -> Region {
    Region {
        id: RegionId(id),
        level,
        code: code.into(),
        name: code.into(),
        parent: parent.map(RegionId),
        boundary: geo::MultiPolygon(Vec::new()),
    }
}

fn worker(id: WorkerId, kind: WorkerKind, grids: Vec<GridDuty>) -> Worker {
    Worker {
        id,
        name: format!("worker {}", id.0),
        kind,
        duty: DutyStatus::OnDuty,
        phone: None,
        device_hash: None,
        grids,
    }
}

fn duty(grid_id: GridId, responsibility: Responsibility) -> GridDuty {
    GridDuty {
        grid_id,
        responsibility,
    }
}

fn category(code: &str, department: Option<&str>, active: bool) -> Category {
    Category {
        code: code.into(),
        name: code.into(),
        class: CategoryClass::CityManagement,
        department: department.map(Into::into),
        limits: TimeLimits {
            low_h: 16.0,
            normal_h: 8.0,
            high_h: 4.0,
            urgent_h: 1.0,
        },
        kind: CaseKind::Promised,
        active,
        name_zh: None,
        clock: CategoryClock::Office,
    }
}

/// Grid A around the centre cell, grid B about 300 m north of it (each 19 cells, about 40 m across).
fn world() -> World {
    let north = LatLng::new(36.1927, 113.11)
        .unwrap()
        .to_cell(Resolution::Twelve);
    let mut world = World::from_snapshot(Snapshot {
        resolution: Some(Resolution::Twelve),
        regions: vec![
            region(1, RegionLevel::District, "140402", None),
            region(2, RegionLevel::Street, "140402001", Some(1)),
            region(3, RegionLevel::Community, "140402001001", Some(2)),
        ],
        grids: vec![grid(A, centre_cell()), grid(B, north)],
        workers: vec![
            worker(
                PRIMARY_A,
                WorkerKind::GridWorker,
                vec![duty(A, Responsibility::Primary)],
            ),
            worker(
                BACKUP_A,
                WorkerKind::GridWorker,
                vec![duty(A, Responsibility::Backup)],
            ),
            worker(
                PRIMARY_B,
                WorkerKind::GridWorker,
                vec![duty(B, Responsibility::Primary)],
            ),
            worker(POWER, WorkerKind::DepartmentStaff, Vec::new()),
        ],
        categories: vec![
            category("street_order", None, true),
            category("street_light", Some("power"), true),
            category("retired", None, false),
        ],
        departments: vec![Department {
            code: "power".into(),
            name: "power".into(),
            members: vec![POWER],
        }],
        ..Snapshot::default()
    });
    let (lat, lon) = latlng(centre_cell());
    world.set_position(
        POWER,
        Position {
            lat,
            lon,
            at: monday_nine(),
        },
    );
    world
}

fn report(category: &str, (lat, lon): (f64, f64)) -> Report {
    Report {
        lat,
        lon,
        category: category.into(),
        priority: Priority::Normal,
        description: "占道经营 street stall".into(),
        source: Source::Hotline,
    }
}

fn drafted(world: &World, category: &str, at: (f64, f64)) -> Result<Case, IntakeError> {
    draft(
        world,
        &DispatchConfig::default(),
        &report(category, at),
        CLERK,
        Some(TokenId(5)),
        monday_nine(),
    )
}

fn off_duty(world: &mut World, id: WorkerId) {
    let mut w = world.worker(id).unwrap().clone();
    w.duty = DutyStatus::OffDuty;
    world.apply_worker(w);
}

#[test]
fn a_report_in_a_grid_goes_to_its_primary_worker_with_a_working_hours_deadline() {
    let world = world();
    let case = drafted(&world, "street_order", latlng(centre_cell())).unwrap();
    assert_eq!(
        (case.place.grid, case.place.community, case.place.cell),
        (A, COMMUNITY, centre_cell())
    );
    assert_eq!(case.place.outside_m, None);
    // Mon 09:00 + 8 working hours: 3 h to lunch, 4 h after it, 1 h on Tuesday from 08:30 → Tue 09:30.
    let deadline = Utc.with_ymd_and_hms(2026, 11, 24, 1, 30, 0).unwrap();
    assert_eq!(case.state.deadline, Some(deadline));
    assert_eq!(case.escalate_at, Some(deadline));
    assert_eq!(case.state.status, Status::Dispatched);
    assert_eq!(case.state.assignee, Some(PRIMARY_A));
    assert_eq!(case.state.level, EscalationLevel::Grid);
    assert_eq!(
        (case.reporter, case.created_at),
        (Some(TokenId(5)), monday_nine())
    );
    let actions: Vec<&str> = case.history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(actions, ["register", "dispatch"]);
    let register = case.history[0].detail.as_ref().unwrap();
    assert_eq!(
        register["route"],
        json!({"kind": "grid_primary", "worker": 1})
    );
    assert_eq!(register["category"], "street_order");
    assert_eq!(register.get("duplicate_of"), None);
    assert_eq!(case.history[1].detail.as_ref().unwrap()["automatic"], true);
    assert_eq!(case.history[1].actor, SYSTEM);
    assert_eq!(case.description, "占道经营 street stall");
}

#[test]
fn routing_follows_the_chain_department_backup_then_the_community_queue() {
    let mut world = world();
    let at = latlng(centre_cell());
    let lamp = drafted(&world, "street_light", at).unwrap();
    assert_eq!(lamp.state.assignee, Some(POWER));
    assert_eq!(route_of(&lamp).unwrap()["kind"], "category_department");

    off_duty(&mut world, PRIMARY_A);
    let backup = drafted(&world, "street_order", at).unwrap();
    assert_eq!(backup.state.assignee, Some(BACKUP_A));
    assert_eq!(route_of(&backup).unwrap()["kind"], "grid_backup");

    off_duty(&mut world, BACKUP_A);
    off_duty(&mut world, PRIMARY_B);
    let queued = drafted(&world, "street_order", at).unwrap();
    assert_eq!(queued.state.assignee, None);
    assert_eq!(queued.state.status, Status::Registered);
    assert_eq!(queued.state.level, EscalationLevel::Community, "属地兜底");
    assert_eq!(queued.history.len(), 1, "no dispatch entry");
    assert_eq!(route_of(&queued).unwrap()["worker"], json!(null));
}

#[test]
#[allow(clippy::float_cmp)] // the refused values are passed through, not computed
fn a_point_just_outside_goes_to_the_nearest_grid_and_a_far_one_is_refused() {
    let world = world();
    let (lat, lon) = latlng(centre_cell());
    // Grid A reaches about 40 m from its centre cell: 90 m south is some 50 m outside it.
    let near = crate::geodesy::offset_deg(lat, lon, 180.0, 90.0);
    let case = drafted(&world, "street_order", near).unwrap();
    assert_eq!(case.place.grid, A);
    let outside_m = case.place.outside_m.expect("outside every grid");
    assert!((20.0..90.0).contains(&outside_m), "{outside_m} m");
    assert_eq!(
        case.history[0].detail.as_ref().unwrap()["outside_m"],
        json!(outside_m)
    );

    let far = crate::geodesy::offset_deg(lat, lon, 180.0, 2_000.0);
    let refused = drafted(&world, "street_order", far).unwrap_err();
    let IntakeError::OutsideManagedArea {
        lat: at_lat,
        distance_m,
        max_m,
        ..
    } = refused
    else {
        panic!("expected outside-managed-area, got {refused:?}");
    };
    assert_eq!(at_lat, far.0);
    assert!((1_900.0..2_100.0).contains(&distance_m), "{distance_m} m");
    assert_eq!(max_m, DispatchConfig::default().outside_grid_max_m);
    let refused = ApiError::from(refused);
    assert_eq!(
        (refused.status.as_u16(), refused.slug),
        (422, "outside-managed-area")
    );
}

#[test]
fn unknown_and_retired_categories_are_refused() {
    let world = world();
    let at = latlng(centre_cell());
    for (code, says) in [
        ("potholes", "unknown category"),
        ("retired", "no longer in use"),
    ] {
        let e = drafted(&world, code, at).unwrap_err();
        assert!(
            matches!(
                &e,
                IntakeError::UnknownCategory(c) | IntakeError::RetiredCategory(c) if c == code
            ),
            "{e:?}"
        );
        let e = ApiError::from(e);
        assert_eq!(
            (e.status.as_u16(), e.slug),
            (422, "invalid-input"),
            "{code}"
        );
        assert!(e.detail.contains(says), "{code}: {}", e.detail);
        assert_eq!(e.extra["field"], "category");
    }
}

#[test]
fn an_open_case_of_the_same_category_nearby_and_recent_is_linked_as_the_duplicate() {
    let mut world = world();
    let at = latlng(centre_cell());
    let mut first = drafted(&world, "street_order", at).unwrap();
    first.state.id = IncidentId(41);
    world.apply_incident(first.clone());

    let again = drafted(&world, "street_order", at).unwrap();
    assert_eq!(again.duplicate_of, Some(IncidentId(41)));
    assert_eq!(
        again.history[0].detail.as_ref().unwrap()["duplicate_of"],
        41
    );
    // 30 m away is within the 50 m radius; 80 m is not.
    let near = crate::geodesy::offset_deg(at.0, at.1, 90.0, 30.0);
    assert_eq!(
        drafted(&world, "street_order", near).unwrap().duplicate_of,
        Some(IncidentId(41))
    );
    let apart = crate::geodesy::offset_deg(at.0, at.1, 90.0, 80.0);
    assert_eq!(
        drafted(&world, "street_order", apart).unwrap().duplicate_of,
        None
    );
    assert_eq!(
        drafted(&world, "street_light", at).unwrap().duplicate_of,
        None
    );

    // Reported 25 h ago: outside the 24 h window.
    first.created_at = monday_nine() - TimeDelta::hours(25);
    world.apply_incident(first);
    assert_eq!(
        drafted(&world, "street_order", at).unwrap().duplicate_of,
        None
    );
}

#[test]
fn drafts_of_one_group_that_could_be_duplicates_are_recognised() {
    let world = world();
    let config = DispatchConfig::default();
    let at = latlng(centre_cell());
    let one = drafted(&world, "street_order", at).unwrap();
    let near = crate::geodesy::offset_deg(at.0, at.1, 0.0, 30.0);
    let apart = crate::geodesy::offset_deg(at.0, at.1, 0.0, 80.0);
    assert!(could_duplicate(
        &config,
        &one,
        &drafted(&world, "street_order", near).unwrap()
    ));
    assert!(!could_duplicate(
        &config,
        &one,
        &drafted(&world, "street_order", apart).unwrap()
    ));
    assert!(!could_duplicate(
        &config,
        &one,
        &drafted(&world, "street_light", at).unwrap()
    ));
}

/// An urgent emergency on the 24/7 clock registered at 21:00 on a Sunday (Beijing time) is due at 21:30
/// that night; a normal people's request on the office clock registered at the same moment is due on the
/// working calendar (24 working hours from Monday 08:30: Mon, Tue, Wed full days, then 1.5 h on Thursday).
#[test]
fn an_emergency_on_the_always_clock_is_due_the_same_night_and_an_office_category_on_working_days() {
    let mut world = world();
    let mut emergency = category("emergency", None, true);
    emergency.clock = CategoryClock::Always;
    emergency.limits.urgent_h = 0.5;
    world.apply_category(emergency);
    let mut livelihood = category("livelihood", None, true);
    livelihood.limits.normal_h = 24.0;
    world.apply_category(livelihood);
    // 2026-11-22 is a Sunday; 21:00 +08:00 is 13:00 UTC.
    let sunday_night = Utc.with_ymd_and_hms(2026, 11, 22, 13, 0, 0).unwrap();
    let registered = |code: &str, priority| {
        let mut r = report(code, latlng(centre_cell()));
        r.priority = priority;
        draft(
            &world,
            &DispatchConfig::default(),
            &r,
            CLERK,
            None,
            sunday_night,
        )
        .unwrap()
    };
    let urgent = registered("emergency", Priority::Urgent);
    let due = Utc.with_ymd_and_hms(2026, 11, 22, 13, 30, 0).unwrap();
    assert_eq!(
        urgent.state.deadline,
        Some(due),
        "Sunday 21:30 Beijing time"
    );
    assert_eq!(urgent.escalate_at, Some(due));
    let normal = registered("livelihood", Priority::Normal);
    assert_eq!(
        normal.state.deadline,
        Some(Utc.with_ymd_and_hms(2026, 11, 26, 2, 0, 0).unwrap()),
        "Thursday 10:00 Beijing time"
    );
}
