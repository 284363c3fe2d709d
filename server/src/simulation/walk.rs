//! Where the simulation's people are and how they move: a patroller or a grid worker on the street
//! walks from cell to cell of their grid; a handler rides to the case. Pure: each step takes the
//! seconds since the last and an RNG, and gives the next fix's place, speed and heading.
//!
//! Positions are degrees (EPSG:4326); distances meters (haversine, `crate::geodesy`); speeds m/s,
//! well under the jump judge's limit (`domain::fix`), so no fix is flagged.
//!
//! Must not: report the fixes (the caller does, through `tracking`), read the world or a clock.

use std::sync::Arc;

use rand::Rng;
use rand::rngs::StdRng;

use crate::geodesy::{M_PER_DEG, haversine_m, offset_deg};

/// Walking along a grid's lanes, m/s.
pub const WALK_MPS: f64 = 1.4;
/// An electric bicycle on the way to a case (grid workers ride them), m/s.
pub const RIDE_MPS: f64 = 4.5;
/// The nearest cell a walker heads for next, meters: short hops look like dithering.
const MIN_LEG_M: f64 = 30.0;

/// What a mover is doing.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Walking the grid whose cell centres (`(lat, lon)`) these are, towards `to`.
    Roam {
        cells: Arc<[(f64, f64)]>,
        to: (f64, f64),
    },
    /// Riding to a case; stays there once arrived.
    GoTo { to: (f64, f64) },
}

/// One person on the move.
#[derive(Debug, Clone)]
pub struct Mover {
    /// Degrees (EPSG:4326).
    pub lat: f64,
    /// Degrees (EPSG:4326).
    pub lon: f64,
    pub mode: Mode,
}

/// A step's outcome: the fix to send, if the mover moved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Degrees (EPSG:4326).
    pub lat: f64,
    /// Degrees (EPSG:4326).
    pub lon: f64,
    /// m/s over the step.
    pub speed_mps: f64,
    /// Degrees clockwise from north, [0, 360).
    pub heading_deg: f64,
}

impl Mover {
    /// A walker of the grid with cell centres `cells`, starting at `(lat, lon)`.
    #[must_use]
    pub fn roaming(lat: f64, lon: f64, cells: Arc<[(f64, f64)]>) -> Self {
        Self {
            lat,
            lon,
            mode: Mode::Roam {
                cells,
                to: (lat, lon),
            },
        }
    }

    /// Rides to `to` from where the mover is.
    pub fn go_to(&mut self, to: (f64, f64)) {
        self.mode = Mode::GoTo { to };
    }

    /// Walks the grid of `cells` again from where the mover is.
    pub fn roam(&mut self, cells: Arc<[(f64, f64)]>) {
        self.mode = Mode::Roam {
            cells,
            to: (self.lat, self.lon),
        };
    }

    /// Whether the mover is somewhere it means to stay (a case it rode to).
    #[cfg(test)]
    #[must_use]
    pub fn arrived(&self) -> bool {
        matches!(self.mode, Mode::GoTo { to } if (self.lat, self.lon) == to)
    }

    /// Moves for `dt_s` seconds; `None` when the mover stays where it is.
    pub fn step(&mut self, dt_s: f64, rng: &mut StdRng) -> Option<Step> {
        let (to, speed_mps) = match &mut self.mode {
            Mode::GoTo { to } => (*to, RIDE_MPS),
            Mode::Roam { cells, to } => {
                if (self.lat, self.lon) == *to {
                    *to = next_leg((self.lat, self.lon), cells, rng)?;
                }
                (*to, WALK_MPS)
            }
        };
        if (self.lat, self.lon) == to {
            return None;
        }
        let heading_deg = bearing_deg((self.lat, self.lon), to);
        let left_m = haversine_m(self.lat, self.lon, to.0, to.1);
        let go_m = speed_mps * dt_s;
        (self.lat, self.lon) = if left_m <= go_m {
            to
        } else {
            offset_deg(self.lat, self.lon, heading_deg, go_m)
        };
        Some(Step {
            lat: self.lat,
            lon: self.lon,
            speed_mps,
            heading_deg,
        })
    }
}

/// A cell centre of the grid at least [`MIN_LEG_M`] away, if the grid has one within a few draws.
fn next_leg(from: (f64, f64), cells: &[(f64, f64)], rng: &mut StdRng) -> Option<(f64, f64)> {
    if cells.is_empty() {
        return None;
    }
    let mut pick = cells[rng.random_range(0..cells.len())];
    for _ in 0..5 {
        if haversine_m(from.0, from.1, pick.0, pick.1) >= MIN_LEG_M {
            break;
        }
        pick = cells[rng.random_range(0..cells.len())];
    }
    (pick != from).then_some(pick)
}

/// The bearing from `a` to `b` (`(lat, lon)` degrees) in a local plane at `a`'s latitude, degrees
/// clockwise from north in [0, 360).
fn bearing_deg(a: (f64, f64), b: (f64, f64)) -> f64 {
    let north_m = (b.0 - a.0) * M_PER_DEG;
    let east_m = (b.1 - a.1) * M_PER_DEG * a.0.to_radians().cos();
    let deg = east_m.atan2(north_m).to_degrees().rem_euclid(360.0);
    // rem_euclid of a tiny negative number may round to 360.0 itself.
    if deg >= 360.0 { 0.0 } else { deg }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    /// A 5 × 5 block of points 20 m apart at Changzhi's latitude.
    fn block() -> Arc<[(f64, f64)]> {
        let (lat, lon) = (36.19, 113.11);
        (0..25)
            .map(|i| {
                let (north, east) = (f64::from(i / 5) * 20.0, f64::from(i % 5) * 20.0);
                let (la, _) = offset_deg(lat, lon, 0.0, north);
                offset_deg(la, lon, 90.0, east)
            })
            .collect()
    }

    #[test]
    fn a_walker_keeps_moving_at_walking_pace_within_its_grid() {
        let cells = block();
        let mut rng = StdRng::seed_from_u64(1);
        let mut mover = Mover::roaming(cells[0].0, cells[0].1, Arc::clone(&cells));
        let (min_lat, max_lat) = (cells[0].0, cells[24].0);
        let mut steps = 0;
        for _ in 0..200 {
            let before = (mover.lat, mover.lon);
            if let Some(step) = mover.step(3.0, &mut rng) {
                steps += 1;
                let m = haversine_m(before.0, before.1, step.lat, step.lon);
                assert!(m <= WALK_MPS * 3.0 + 1e-6, "{m} m in 3 s");
                assert!((0.0..360.0).contains(&step.heading_deg));
                assert!((min_lat - 1e-9..=max_lat + 1e-9).contains(&step.lat));
            }
        }
        assert!(steps > 150, "moved {steps} times of 200");
    }

    #[test]
    fn a_rider_reaches_the_case_and_stays() {
        let mut rng = StdRng::seed_from_u64(2);
        let mut mover = Mover::roaming(36.19, 113.11, block());
        let case = offset_deg(36.19, 113.11, 45.0, 100.0);
        mover.go_to(case);
        let mut steps = 0;
        while mover.step(3.0, &mut rng).is_some() {
            steps += 1;
            assert!(steps < 20, "never arrived");
        }
        assert!(mover.arrived());
        // 100 m at 4.5 m/s in steps of 3 s: 8 steps.
        assert_eq!(steps, 8);
        assert!(mover.step(3.0, &mut rng).is_none());
    }

    #[test]
    fn bearings_point_the_right_way() {
        let at = (36.19, 113.11);
        for bearing in [0.0, 45.0, 90.0, 180.0, 270.0] {
            let to = offset_deg(at.0, at.1, bearing, 50.0);
            let got = bearing_deg(at, to);
            let diff = (got - bearing).abs().min(360.0 - (got - bearing).abs());
            assert!(diff < 1e-6, "{bearing}: {got}");
        }
    }
}
