//! Routing tests: each step of the chain chosen and skipped, with distances against hand-computed
//! haversine values (the haversine itself is checked against `geo` in `geodesy`).

use super::*;

/// Incident at Changzhi (36.19° N, 113.12° E).
const LAT: f64 = 36.19;
const LON: f64 = 113.12;
/// 0.01° of latitude: 6,371,008.8 m × 0.01 × π / 180 = 1,111.9508 m.
const CENTIDEGREE_LAT_M: f64 = 1111.9508;

fn on(id: i64) -> Candidate {
    Candidate {
        worker: WorkerId(id),
        on_duty: true,
        position: None,
    }
}

fn off(id: i64) -> Candidate {
    Candidate {
        worker: WorkerId(id),
        on_duty: false,
        position: None,
    }
}

/// An on-duty worker `d_lat_deg` degrees north of the incident.
fn north(id: i64, d_lat_deg: f64) -> Candidate {
    Candidate {
        position: Some((LAT + d_lat_deg, LON)),
        ..on(id)
    }
}

fn input() -> RoutingInput {
    RoutingInput {
        category_department: None,
        primary: Some(on(1)),
        backups: vec![off(2), on(3)],
        community_workers: vec![north(4, 0.01), north(5, 0.005)],
        incident_lat: LAT,
        incident_lon: LON,
        radius_m: 1000.0,
    }
}

fn assert_close(actual: f64, expected: f64, tolerance: f64) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{actual} is not within {tolerance} of {expected}"
    );
}

#[test]
fn category_department_comes_first() {
    let mut input = input();
    input.category_department = Some(vec![off(10), on(11), on(12)]);
    assert_eq!(
        route(&input),
        Route {
            to: Target::Worker(WorkerId(11)),
            reason: RouteReason::CategoryDepartment
        }
    );
}

#[test]
fn category_department_prefers_nearest_member_when_positions_known() {
    let mut input = input();
    // 12 is farther than 13 but earlier in the list; 11 has no position; 14 is nearest but off duty.
    let far_off = Candidate {
        on_duty: false,
        ..north(14, 0.0001)
    };
    input.category_department = Some(vec![on(11), north(12, 0.5), north(13, 0.2), far_off]);
    assert_eq!(route(&input).to, Target::Worker(WorkerId(13)));
    assert_eq!(route(&input).reason, RouteReason::CategoryDepartment);
}

#[test]
fn department_with_no_one_on_duty_falls_through_to_the_grid() {
    let mut input = input();
    input.category_department = Some(vec![off(10)]);
    assert_eq!(
        route(&input),
        Route {
            to: Target::Worker(WorkerId(1)),
            reason: RouteReason::GridPrimary
        }
    );
    input.category_department = Some(vec![]);
    assert_eq!(route(&input).reason, RouteReason::GridPrimary);
}

#[test]
fn primary_off_duty_goes_to_first_on_duty_backup() {
    let mut input = input();
    input.primary = Some(off(1));
    assert_eq!(
        route(&input),
        Route {
            to: Target::Worker(WorkerId(3)),
            reason: RouteReason::GridBackup
        }
    );
    input.primary = None;
    assert_eq!(route(&input).to, Target::Worker(WorkerId(3)));
}

#[test]
fn all_grid_workers_off_goes_to_nearest_within_radius() {
    let mut input = input();
    input.primary = Some(off(1));
    input.backups = vec![off(2), off(3)];
    let route = route(&input);
    assert_eq!(route.to, Target::Worker(WorkerId(5)));
    let RouteReason::NearestOnDuty { distance_m } = route.reason else {
        panic!("{route:?}")
    };
    assert_close(distance_m, CENTIDEGREE_LAT_M / 2.0, 0.001);
}

#[test]
fn nearest_beyond_radius_goes_to_the_queue() {
    let mut input = input();
    input.primary = None;
    input.backups = vec![];
    input.radius_m = 555.0; // worker 5 is 555.98 m away
    assert_eq!(
        route(&input),
        Route {
            to: Target::CommunityQueue,
            reason: RouteReason::CommunityQueue {
                why: QUEUE_BEYOND_RADIUS
            }
        }
    );
    input.radius_m = 556.0;
    assert_eq!(route(&input).to, Target::Worker(WorkerId(5)));
}

#[test]
fn worker_without_position_is_ignored_for_nearest() {
    let mut input = input();
    input.primary = None;
    input.backups = vec![];
    input.community_workers = vec![
        on(6),
        north(7, 0.008),
        Candidate {
            on_duty: false,
            ..north(8, 0.001)
        },
    ];
    let route = route(&input);
    assert_eq!(route.to, Target::Worker(WorkerId(7)));
    let RouteReason::NearestOnDuty { distance_m } = route.reason else {
        panic!("{route:?}")
    };
    assert_close(distance_m, CENTIDEGREE_LAT_M * 0.8, 0.001);

    input.community_workers = vec![on(6)];
    assert_eq!(
        super::route(&input).reason,
        RouteReason::CommunityQueue {
            why: QUEUE_NO_POSITION
        }
    );
}

#[test]
fn nobody_on_duty_goes_to_the_queue() {
    let mut input = input();
    input.primary = Some(off(1));
    input.backups = vec![off(2)];
    input.community_workers = vec![Candidate {
        on_duty: false,
        ..north(4, 0.001)
    }];
    assert_eq!(
        route(&input).reason,
        RouteReason::CommunityQueue {
            why: QUEUE_NO_ONE_ON_DUTY
        }
    );
}

#[test]
fn incident_without_usable_position_skips_nearest() {
    let mut input = input();
    input.primary = None;
    input.backups = vec![];
    input.incident_lat = f64::NAN;
    assert_eq!(
        route(&input).reason,
        RouteReason::CommunityQueue {
            why: QUEUE_NO_INCIDENT_POSITION
        }
    );
    // A department still gets it, by list order.
    input.category_department = Some(vec![north(20, 0.3), north(21, 0.1)]);
    assert_eq!(route(&input).to, Target::Worker(WorkerId(20)));
}

#[test]
fn route_serialises_with_snake_case_tags() {
    let nearest = Route {
        to: Target::Worker(WorkerId(7)),
        reason: RouteReason::NearestOnDuty { distance_m: 12.5 },
    };
    assert_eq!(
        serde_json::to_value(nearest).unwrap(),
        serde_json::json!({"to": {"kind": "worker", "worker": 7}, "reason": {"kind": "nearest_on_duty", "distance_m": 12.5}})
    );
    let queue = Route {
        to: Target::CommunityQueue,
        reason: RouteReason::CommunityQueue {
            why: QUEUE_BEYOND_RADIUS,
        },
    };
    assert_eq!(
        serde_json::to_value(queue).unwrap(),
        serde_json::json!({"to": {"kind": "community_queue"}, "reason": {"kind": "community_queue", "why": QUEUE_BEYOND_RADIUS}})
    );
}
