//! Buildings of the synthetic Dongjie: two towers, a few non-residential buildings, then
//! residential slabs and small houses on a jittered lattice until the household target is
//! met exactly. Local meters (x east, y north); owns only placement and sizes.

use super::layout::{HEIGHT_M, Layout, WIDTH_M};
use geo::{Contains as _, Coord, Distance as _, Euclidean, Polygon, Rect, coord};
use rand::Rng as _;
use rand::seq::SliceRandom as _;
use rand_chacha::ChaCha8Rng;

/// Lattice spacing east–west and north–south, meters: wider than the largest slab.
const SLOT_DX_M: f64 = 72.0;
const SLOT_DY_M: f64 = 38.0;
/// Clearances, meters, from a footprint to: its community's edge (a road), a lane, the
/// park, and a tower or non-residential building.
const EDGE_CLEARANCE_M: f64 = 16.0;
const LANE_CLEARANCE_M: f64 = 9.0;
const PARK_CLEARANCE_M: f64 = 12.0;
const LANDMARK_CLEARANCE_M: f64 = 30.0;

/// One building in local meters.
pub(super) struct Placed {
    pub footprint: Polygon<f64>,
    pub kind: &'static str,
    pub levels: u32,
    pub households: u32,
}

/// An axis-aligned rectangle of `width_m` (east–west) × `depth_m` around `centre`.
fn rect(centre: Coord<f64>, width_m: f64, depth_m: f64) -> Polygon<f64> {
    Rect::new(
        coord! { x: centre.x - width_m / 2.0, y: centre.y - depth_m / 2.0 },
        coord! { x: centre.x + width_m / 2.0, y: centre.y + depth_m / 2.0 },
    )
    .to_polygon()
}

/// Whether `footprint` fits: inside one community, clear of its edge, the lanes, the park
/// and the landmarks placed so far.
fn fits(layout: &Layout, landmarks: &[Polygon<f64>], footprint: &Polygon<f64>) -> bool {
    let Some(community) = layout.communities.iter().find(|c| c.contains(footprint)) else {
        return false;
    };
    Euclidean.distance(community.exterior(), footprint) >= EDGE_CLEARANCE_M
        && layout
            .lanes
            .iter()
            .all(|lane| Euclidean.distance(lane, footprint) >= LANE_CLEARANCE_M)
        && Euclidean.distance(&layout.park, footprint) >= PARK_CLEARANCE_M
        && landmarks
            .iter()
            .all(|l| Euclidean.distance(l, footprint) >= LANDMARK_CLEARANCE_M)
}

/// The centre of one quarter of community `i` (quarter 0 = south-west … 3 = north-east),
/// between its lanes: clear of every road.
fn quarter_centre(layout: &Layout, i: usize, quarter: usize) -> Coord<f64> {
    let (lane_ew, lane_ns) = (&layout.lanes[2 * i], &layout.lanes[2 * i + 1]);
    let (x_west, x_east) = (lane_ew.0[0].x, lane_ew.0[1].x);
    let (y_south, y_north) = (lane_ns.0[0].y, lane_ns.0[1].y);
    let (xc, yc) = (lane_ns.0[0].x, lane_ew.0[0].y);
    let x = if quarter.is_multiple_of(2) {
        f64::midpoint(x_west, xc)
    } else {
        f64::midpoint(xc, x_east)
    };
    let y = if quarter < 2 {
        f64::midpoint(y_south, yc)
    } else {
        f64::midpoint(yc, y_north)
    };
    coord! { x: x, y: y }
}

pub(super) fn place(layout: &Layout, rng: &mut ChaCha8Rng, target_households: u32) -> Vec<Placed> {
    let mut placed = Vec::new();
    let mut landmarks: Vec<Polygon<f64>> = Vec::new();

    // Exactly two towers: each alone in its cell, each over a grid's maximum.
    for (community, quarter) in [(1, 3), (6, 0)] {
        let footprint = rect(quarter_centre(layout, community, quarter), 26.0, 26.0);
        let households: u32 = rng.random_range(160..=220);
        landmarks.push(footprint.clone());
        placed.push(Placed {
            footprint,
            kind: "apartments",
            levels: households.div_ceil(6),
            households,
        });
    }
    // Non-residential buildings: no households.
    // (community, quarter, kind, width m, depth m, storeys)
    let civic: [(usize, usize, &'static str, f64, f64, u32); 8] = [
        (0, 2, "school", 90.0, 60.0, 4),
        (1, 0, "office", 50.0, 20.0, 8),
        (2, 1, "kindergarten", 40.0, 30.0, 3),
        (3, 2, "commercial", 60.0, 40.0, 2),
        (4, 3, "school", 90.0, 60.0, 4),
        (5, 3, "hospital", 70.0, 50.0, 6),
        (6, 2, "commercial", 60.0, 40.0, 2),
        (3, 1, "public", 40.0, 25.0, 3),
    ];
    for (community, quarter, kind, width_m, depth_m, levels) in civic {
        let footprint = rect(quarter_centre(layout, community, quarter), width_m, depth_m);
        if fits(layout, &landmarks, &footprint) {
            landmarks.push(footprint.clone());
            placed.push(Placed {
                footprint,
                kind,
                levels,
                households: 0,
            });
        }
    }

    // Candidate slots for housing, shuffled.
    let mut slots: Vec<Coord<f64>> = Vec::new();
    let mut y = SLOT_DY_M / 2.0;
    while y < HEIGHT_M {
        let mut x = SLOT_DX_M / 2.0;
        while x < WIDTH_M {
            slots.push(
                coord! { x: x + rng.random_range(-4.0..4.0), y: y + rng.random_range(-3.0..3.0) },
            );
            x += SLOT_DX_M;
        }
        y += SLOT_DY_M;
    }
    slots.shuffle(rng);

    let mut total: u32 = placed.iter().map(|p| p.households).sum();
    for centre in slots {
        let remaining = target_households.saturating_sub(total);
        if remaining == 0 {
            break;
        }
        let house = remaining < 6 || rng.random_bool(0.1);
        let building = if house {
            Placed {
                footprint: rect(centre, 12.0, 10.0),
                kind: "house",
                levels: 2,
                households: rng.random_range(1..=2_u32).min(remaining),
            }
        } else {
            // Units (stairwells) of 15 m, two flats per floor per unit.
            let units: u32 = rng.random_range(1..=3);
            let floors: u32 = rng.random_range(3..=6);
            let length_m = 15.0 * f64::from(units) + rng.random_range(0.0..4.0);
            Placed {
                footprint: rect(centre, length_m, rng.random_range(12.0..14.0)),
                kind: if rng.random_bool(0.7) {
                    "residential"
                } else {
                    "apartments"
                },
                levels: floors,
                households: (2 * units * floors).min(remaining),
            }
        };
        if building.households > 0 && fits(layout, &landmarks, &building.footprint) {
            total += building.households;
            placed.push(building);
        }
    }
    placed
}
