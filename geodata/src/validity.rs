//! Validity of polygons sent as input (areas, footprints, boundaries) in degrees (EPSG:4326, lon/lat
//! order), checked against a deadline so that one input cannot hold a thread for long.
//!
//! The rules, the order they are looked at and the first problem reported are those of geo's
//! `Validation` for a `MultiPolygon` (`validation_errors().first()`): every ring has at least three
//! distinct points and does not cross or touch itself, every hole lies in its shell, rings touch at
//! most at points, parts neither overlap nor touch on a line. They are found faster: geo tests every
//! pair of a ring's segments (a 10,000-vertex ring is 10⁸ tests) and relates every pair of holes and
//! of parts; here a ring's segments are swept in order of their smallest longitude, and only segments,
//! holes and parts whose bounding boxes meet are tested — a pair whose boxes are apart cannot
//! intersect, so the answer is the same. The caller caps vertices and parts ([`check`] is linear in
//! neither in the worst case) and gives the deadline.
//!
//! Owns nothing else: no parsing, no limits, no HTTP.

use std::time::Instant;

use geo::algorithm::validation::{GeometryIndex, InvalidMultiPolygon, InvalidPolygon, RingRole};
use geo::coordinate_position::CoordPos;
use geo::dimensions::Dimensions;
use geo::{
    BoundingRect, Intersects, Line, LineString, MultiPolygon, Polygon, PreparedGeometry, Rect,
    Relate, RemoveRepeatedPoints,
};

/// Why a shape was not accepted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValidityError {
    /// The first problem geo's `Validation` reports for the shape.
    #[error("invalid polygon: {0}")]
    Invalid(InvalidMultiPolygon),
    /// The deadline passed before the check was done: the shape is too intricate to check.
    #[error("the polygon could not be checked in time")]
    OutOfTime,
}

/// Tests between deadline checks: reading the clock costs about as much as a few segment tests.
const TESTS_PER_CLOCK_READ: u32 = 1024;

/// Counts work and reads the clock every [`TESTS_PER_CLOCK_READ`] tests.
struct Clock {
    deadline: Instant,
    left: u32,
}

impl Clock {
    fn tick(&mut self) -> Result<(), ValidityError> {
        if self.left == 0 {
            if Instant::now() >= self.deadline {
                return Err(ValidityError::OutOfTime);
            }
            self.left = TESTS_PER_CLOCK_READ;
        }
        self.left -= 1;
        Ok(())
    }

    /// For a test that costs as much as many segment tests (a `relate`).
    fn check_now(&mut self) -> Result<(), ValidityError> {
        self.left = 0;
        self.tick()
    }
}

/// Checks `shape` (degrees) as geo's `Validation` does; `Ok` when it is valid. Gives up with
/// [`ValidityError::OutOfTime`] once `deadline` has passed.
///
/// # Examples
/// ```
/// use geo::{MultiPolygon, polygon};
/// use gridwatch_geodata::validity::{ValidityError, check};
/// use std::time::{Duration, Instant};
///
/// let deadline = Instant::now() + Duration::from_secs(1);
/// let square = polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 1.)];
/// assert_eq!(check(&MultiPolygon(vec![square.clone()]), deadline), Ok(()));
/// let twice = MultiPolygon(vec![square.clone(), square]);
/// let Err(ValidityError::Invalid(problem)) = check(&twice, deadline) else { panic!() };
/// assert_eq!(problem.to_string(), "polygons at indices 0 and 1 overlap");
/// ```
pub fn check(shape: &MultiPolygon<f64>, deadline: Instant) -> Result<(), ValidityError> {
    let mut clock = Clock { deadline, left: 0 };
    clock.check_now()?;
    let boxes: Vec<Option<Rect<f64>>> = shape.0.iter().map(BoundingRect::bounding_rect).collect();
    for (i, polygon) in shape.0.iter().enumerate() {
        if let Some(problem) = polygon_problem(polygon, &mut clock)? {
            return Err(invalid(InvalidMultiPolygon::InvalidPolygon(
                GeometryIndex(i),
                problem,
            )));
        }
        let mut prepared = None;
        for (j, other) in shape.0.iter().enumerate().skip(i + 1) {
            if !boxes_meet(boxes[i], boxes[j]) {
                continue;
            }
            clock.check_now()?;
            let prepared = prepared.get_or_insert_with(|| PreparedGeometry::from(polygon));
            let matrix = prepared.relate(other);
            if matrix.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                return Err(invalid(InvalidMultiPolygon::ElementsOverlaps(
                    GeometryIndex(i),
                    GeometryIndex(j),
                )));
            }
            if matrix.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional
            {
                return Err(invalid(InvalidMultiPolygon::ElementsTouchOnALine(
                    GeometryIndex(i),
                    GeometryIndex(j),
                )));
            }
        }
    }
    Ok(())
}

fn invalid(problem: InvalidMultiPolygon) -> ValidityError {
    ValidityError::Invalid(problem)
}

/// Whether two optional boxes share at least a point (an empty shape has no box and meets nothing).
fn boxes_meet(a: Option<Rect<f64>>, b: Option<Rect<f64>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            a.min().x <= b.max().x
                && b.min().x <= a.max().x
                && a.min().y <= b.max().y
                && b.min().y <= a.max().y
        }
        _ => false,
    }
}

/// The first problem of one polygon, in geo's order: each ring's own problems (shell first), then
/// each hole against the shell and against the holes after it.
fn polygon_problem(
    polygon: &Polygon<f64>,
    clock: &mut Clock,
) -> Result<Option<InvalidPolygon>, ValidityError> {
    let rings = std::iter::once(polygon.exterior()).chain(polygon.interiors());
    for (index, ring) in rings.enumerate() {
        if ring.0.is_empty() {
            continue;
        }
        let role = if index == 0 {
            RingRole::Exterior
        } else {
            RingRole::Interior(index - 1)
        };
        if ring.remove_repeated_points().0.len() < 4 {
            return Ok(Some(InvalidPolygon::TooFewPointsInRing(role)));
        }
        if crosses_itself(ring, clock)? {
            return Ok(Some(InvalidPolygon::SelfIntersection(role)));
        }
        if let Some(at) = ring
            .0
            .iter()
            .position(|c| !(c.x.is_finite() && c.y.is_finite()))
        {
            return Ok(Some(InvalidPolygon::NonFiniteCoord(
                role,
                geo::algorithm::validation::CoordIndex(at),
            )));
        }
    }
    let holes: Vec<(usize, &LineString<f64>)> = polygon
        .interiors()
        .iter()
        .enumerate()
        .filter(|(_, ring)| !ring.0.is_empty())
        .collect();
    if holes.is_empty() {
        return Ok(None);
    }
    let shell = Polygon::new(polygon.exterior().clone(), Vec::new());
    let shell = PreparedGeometry::from(&shell);
    let boxes: Vec<Option<Rect<f64>>> = holes.iter().map(|(_, r)| r.bounding_rect()).collect();
    for (k, &(a, ring)) in holes.iter().enumerate() {
        let role = RingRole::Interior(a);
        let hole = Polygon::new(ring.clone(), Vec::new());
        let hole = PreparedGeometry::from(&hole);
        clock.check_now()?;
        let matrix = shell.relate(&hole);
        if !matrix.is_contains() {
            return Ok(Some(
                InvalidPolygon::InteriorRingNotContainedInExteriorRing(role),
            ));
        }
        if matrix.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
            return Ok(Some(InvalidPolygon::IntersectingRingsOnALine(
                RingRole::Exterior,
                role,
            )));
        }
        for (m, &(b, other)) in holes.iter().enumerate().skip(k + 1) {
            if !boxes_meet(boxes[k], boxes[m]) {
                continue;
            }
            clock.check_now()?;
            let matrix = hole.relate(&Polygon::new(other.clone(), Vec::new()));
            let other_role = RingRole::Interior(b);
            if matrix.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                return Ok(Some(InvalidPolygon::IntersectingRingsOnAnArea(
                    role, other_role,
                )));
            }
            if matrix.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional
            {
                return Ok(Some(InvalidPolygon::IntersectingRingsOnALine(
                    role, other_role,
                )));
            }
        }
    }
    Ok(None)
}

/// A segment with its bounding box, degrees.
struct Segment {
    line: Line<f64>,
    min_x: f64,
    max_x: f64,
    min_y: f64,
    max_y: f64,
}

/// Whether a ring crosses or touches itself, with geo's rule: two different segments that intersect,
/// unless one starts where the other ends. Segments are swept by their smallest longitude, so only
/// pairs whose longitudes overlap are looked at, and of those only pairs whose latitudes overlap are
/// tested.
fn crosses_itself(ring: &LineString<f64>, clock: &mut Clock) -> Result<bool, ValidityError> {
    let mut segments: Vec<Segment> = ring
        .lines()
        .map(|line| Segment {
            line,
            min_x: line.start.x.min(line.end.x),
            max_x: line.start.x.max(line.end.x),
            min_y: line.start.y.min(line.end.y),
            max_y: line.start.y.max(line.end.y),
        })
        .collect();
    segments.sort_unstable_by(|a, b| a.min_x.total_cmp(&b.min_x));
    for (k, a) in segments.iter().enumerate() {
        for b in &segments[k + 1..] {
            if b.min_x > a.max_x {
                break;
            }
            clock.tick()?;
            if b.min_y > a.max_y || a.min_y > b.max_y {
                continue;
            }
            if a.line.intersects(&b.line)
                && a.line.start != b.line.end
                && a.line.end != b.line.start
            {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use geo::{Coord, MultiPolygon, Polygon, Validation, polygon};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn later() -> Instant {
        Instant::now() + Duration::from_mins(1)
    }

    /// geo's own answer: the first of every problem.
    fn geos_first(shape: &MultiPolygon<f64>) -> Option<String> {
        shape.validation_errors().first().map(ToString::to_string)
    }

    fn ours(shape: &MultiPolygon<f64>) -> Option<String> {
        match check(shape, later()) {
            Ok(()) => None,
            Err(ValidityError::Invalid(problem)) => Some(problem.to_string()),
            Err(ValidityError::OutOfTime) => panic!("a minute is enough"),
        }
    }

    fn ring(points: &[(f64, f64)]) -> LineString<f64> {
        LineString(points.iter().map(|&(x, y)| Coord { x, y }).collect())
    }

    #[test]
    fn the_first_problem_is_geos_on_hand_made_shapes() {
        let square = polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 0., y: 4.)];
        let far = polygon![(x: 10., y: 0.), (x: 11., y: 0.), (x: 11., y: 1.), (x: 10., y: 1.)];
        let beside = polygon![(x: 4., y: 0.), (x: 6., y: 0.), (x: 6., y: 4.), (x: 4., y: 4.)];
        let corner = polygon![(x: 4., y: 4.), (x: 6., y: 4.), (x: 6., y: 6.), (x: 4., y: 6.)];
        let bowtie = Polygon::new(
            ring(&[(0., 0.), (1., 1.), (1., 0.), (0., 1.), (0., 0.)]),
            vec![],
        );
        let spike = Polygon::new(
            ring(&[
                (0., 0.),
                (2., 0.),
                (2., 2.),
                (2., 3.),
                (2., 2.),
                (0., 2.),
                (0., 0.),
            ]),
            vec![],
        );
        let flat = Polygon::new(ring(&[(0., 0.), (1., 0.), (1., 0.), (0., 0.)]), vec![]);
        let holed = |holes: Vec<LineString<f64>>| Polygon::new(square.exterior().clone(), holes);
        let hole_a = ring(&[(1., 1.), (2., 1.), (2., 2.), (1., 2.), (1., 1.)]);
        let hole_b = ring(&[(1.5, 1.5), (3., 1.5), (3., 3.), (1.5, 3.), (1.5, 1.5)]);
        let hole_edge = ring(&[(0., 1.), (1., 1.), (1., 2.), (0., 2.), (0., 1.)]);
        let hole_out = ring(&[(5., 5.), (6., 5.), (6., 6.), (5., 6.), (5., 5.)]);
        let hole_touch = ring(&[(2., 1.), (3., 1.), (3., 2.), (2., 2.), (2., 1.)]);
        let cases: Vec<(&str, MultiPolygon<f64>)> = vec![
            ("one square", MultiPolygon(vec![square.clone()])),
            ("apart", MultiPolygon(vec![square.clone(), far.clone()])),
            ("twice", MultiPolygon(vec![square.clone(), square.clone()])),
            ("side by side", MultiPolygon(vec![square.clone(), beside])),
            (
                "corner to corner",
                MultiPolygon(vec![square.clone(), corner]),
            ),
            ("bowtie", MultiPolygon(vec![far.clone(), bowtie])),
            ("spike", MultiPolygon(vec![spike])),
            ("flat", MultiPolygon(vec![flat])),
            ("one hole", MultiPolygon(vec![holed(vec![hole_a.clone()])])),
            (
                "overlapping holes",
                MultiPolygon(vec![holed(vec![hole_a.clone(), hole_b])]),
            ),
            (
                "hole on the shell",
                MultiPolygon(vec![holed(vec![hole_edge])]),
            ),
            ("hole outside", MultiPolygon(vec![holed(vec![hole_out])])),
            (
                "holes side by side",
                MultiPolygon(vec![holed(vec![hole_a, hole_touch])]),
            ),
        ];
        for (name, shape) in cases {
            assert_eq!(ours(&shape), geos_first(&shape), "{name}");
        }
    }

    /// Random rings (stars: valid; shuffled: mostly crossing) and random sets of them: the answer is
    /// geo's every time.
    #[test]
    fn the_first_problem_is_geos_on_random_shapes() {
        let mut rng = ChaCha8Rng::seed_from_u64(18);
        let mut invalid = 0;
        for _ in 0..300 {
            let parts = rng.random_range(1..5);
            let mut polygons = Vec::new();
            for _ in 0..parts {
                let (cx, cy) = (rng.random_range(0.0..6.0), rng.random_range(0.0..6.0));
                let n = rng.random_range(3..12);
                let mut points: Vec<(f64, f64)> = (0..n)
                    .map(|i| {
                        let angle = std::f64::consts::TAU * f64::from(i) / f64::from(n);
                        let r = rng.random_range(0.5..2.0);
                        (cx + r * angle.cos(), cy + r * angle.sin())
                    })
                    .collect();
                if rng.random_bool(0.3) {
                    let (a, b) = (
                        rng.random_range(0..points.len()),
                        rng.random_range(0..points.len()),
                    );
                    points.swap(a, b);
                }
                points.push(points[0]);
                polygons.push(Polygon::new(ring(&points), vec![]));
            }
            let shape = MultiPolygon(polygons);
            let expected = geos_first(&shape);
            invalid += usize::from(expected.is_some());
            assert_eq!(ours(&shape), expected, "{shape:?}");
        }
        assert!(invalid > 50 && invalid < 290, "{invalid} invalid of 300");
    }

    #[test]
    fn a_passed_deadline_stops_the_check() {
        let square = polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 1.)];
        let past = Instant::now()
            .checked_sub(Duration::from_millis(1))
            .expect("a moment ago");
        assert_eq!(
            check(&MultiPolygon(vec![square]), past),
            Err(ValidityError::OutOfTime)
        );
    }

    /// A thousand identical triangles: geo relates all 499,500 pairs; the first overlap ends this.
    #[test]
    fn many_identical_parts_stop_at_the_first_overlap() {
        let triangle = polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 0., y: 1.)];
        let shape = MultiPolygon(vec![triangle; 1000]);
        assert_eq!(
            ours(&shape).as_deref(),
            Some("polygons at indices 0 and 1 overlap")
        );
    }
}
