//! MVT geometry commands: rounding tile coordinates to integers without repeated points,
//! ring validity and winding, and the `MoveTo` / `LineTo` / `ClosePath` command stream with
//! zigzag-encoded deltas (MVT 2.1, section 4.3).
//!
//! Input is already projected and clipped, in tile units with `y` down; owns no projection.

use geo::Coord;

use super::wire::zigzag32;

const MOVE_TO: u32 = 1;
const LINE_TO: u32 = 2;
const CLOSE_PATH: u32 = 7;

/// A vertex in integer tile coordinates (`y` down).
pub type Point = (i32, i32);

/// The MVT `GeomType` of a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeomType {
    Point = 1,
    LineString = 2,
    Polygon = 3,
}

/// Rounds to the nearest integer tile coordinate; the caller has clipped `c` to a few times
/// the extent, far inside `i32`.
#[allow(clippy::cast_possible_truncation)]
pub fn round(c: Coord<f64>) -> Point {
    (c.x.round() as i32, c.y.round() as i32)
}

/// Rounds a path and drops consecutive repeated points, so no `LineTo` has zero length.
pub fn round_path(coords: &[Coord<f64>]) -> Vec<Point> {
    let mut out: Vec<Point> = Vec::with_capacity(coords.len());
    for &c in coords {
        let p = round(c);
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
    out
}

/// Twice the signed area of an open ring by the MVT spec's shoelace sum (positive = clockwise
/// on screen, with `y` down).
pub fn area2(ring: &[Point]) -> i64 {
    ring.iter()
        .zip(ring.iter().cycle().skip(1))
        .map(|(&a, &b)| i64::from(a.0) * i64::from(b.1) - i64::from(b.0) * i64::from(a.1))
        .sum()
}

/// Rounds a ring (closed or open) and returns it open, with the winding MVT wants: positive
/// area for an exterior ring, negative for an interior one. `None` if the rounded ring has
/// fewer than three distinct vertices or no area. The encoder uses [`prepare_ring_into`]; this
/// allocating form serves the tests and the reference pipeline.
#[cfg(test)]
pub fn prepare_ring(coords: &[Coord<f64>], exterior: bool) -> Option<Vec<Point>> {
    let mut ring = Vec::new();
    prepare_ring_into(coords, exterior, &mut ring).then_some(ring)
}

/// [`prepare_ring`] into `ring` (cleared first); `false` where that gives `None`.
pub fn prepare_ring_into(coords: &[Coord<f64>], exterior: bool, ring: &mut Vec<Point>) -> bool {
    ring.clear();
    for &c in coords {
        let p = round(c);
        if ring.last() != Some(&p) {
            ring.push(p);
        }
    }
    while ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    if ring.len() < 3 {
        return false;
    }
    let area = area2(ring);
    if area == 0 {
        return false;
    }
    if (area > 0) != exterior {
        ring.reverse();
    }
    true
}

/// Builds one feature's command stream; the cursor carries over between parts as the spec says.
#[derive(Debug, Default)]
pub struct Commands {
    pub out: Vec<u32>,
    cursor: Point,
}

impl Commands {
    /// Starts a new stream, reusing `out`'s allocation.
    pub fn reset(&mut self) {
        self.out.clear();
        self.cursor = (0, 0);
    }

    fn command(&mut self, id: u32, count: usize) {
        let count = u32::try_from(count).unwrap_or(u32::MAX >> 3);
        self.out.push((id & 0x7) | (count << 3));
    }

    fn vertex(&mut self, p: Point) {
        self.out.push(zigzag32(p.0.wrapping_sub(self.cursor.0)));
        self.out.push(zigzag32(p.1.wrapping_sub(self.cursor.1)));
        self.cursor = p;
    }

    /// `MoveTo` with one parameter pair per point.
    pub fn points(&mut self, points: &[Point]) {
        if points.is_empty() {
            return;
        }
        self.command(MOVE_TO, points.len());
        for &p in points {
            self.vertex(p);
        }
    }

    /// One line: `MoveTo` the first vertex, `LineTo` the rest (at least two distinct vertices).
    pub fn line(&mut self, line: &[Point]) {
        debug_assert!(line.len() >= 2);
        self.command(MOVE_TO, 1);
        self.vertex(line[0]);
        self.command(LINE_TO, line.len() - 1);
        for &p in &line[1..] {
            self.vertex(p);
        }
    }

    /// One open ring: as a line, then `ClosePath`.
    pub fn ring(&mut self, ring: &[Point]) {
        self.line(ring);
        self.command(CLOSE_PATH, 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::coord;

    #[test]
    fn spec_examples() {
        // MVT 2.1 section 4.3.5, examples 1, 3 and 5 (with exterior winding already right).
        let mut cmd = Commands::default();
        cmd.points(&[(25, 17)]);
        assert_eq!(cmd.out, [9, 50, 34]);
        cmd.reset();
        cmd.line(&[(2, 2), (2, 10), (10, 10)]);
        assert_eq!(cmd.out, [9, 4, 4, 18, 0, 16, 16, 0]);
        cmd.reset();
        cmd.ring(&[(3, 6), (8, 12), (20, 34)]);
        assert_eq!(cmd.out, [9, 6, 12, 18, 10, 12, 24, 44, 15]);
        // Multi point: the cursor carries over.
        cmd.reset();
        cmd.points(&[(5, 7), (3, 2)]);
        assert_eq!(cmd.out, [17, 10, 14, 3, 9]);
    }

    #[test]
    fn rounding_drops_repeats() {
        let path = [
            coord! { x: 0.2, y: 0.1 },
            coord! { x: 0.4, y: -0.3 },
            coord! { x: 1.6, y: 0.0 },
            coord! { x: 2.4, y: 0.0 },
        ];
        assert_eq!(round_path(&path), [(0, 0), (2, 0)]);
    }

    #[test]
    fn rings_get_the_spec_winding() {
        // Counter-clockwise on screen (y down): negative area; an exterior ring is reversed.
        let ccw = [
            coord! { x: 0.0, y: 0.0 },
            coord! { x: 0.0, y: 10.0 },
            coord! { x: 10.0, y: 10.0 },
            coord! { x: 10.0, y: 0.0 },
            coord! { x: 0.0, y: 0.0 },
        ];
        let ext = prepare_ring(&ccw, true).unwrap();
        assert_eq!(ext.len(), 4);
        assert!(area2(&ext) > 0);
        let int = prepare_ring(&ccw, false).unwrap();
        assert!(area2(&int) < 0);
        // Collapses to a line once rounded.
        let thin = [
            coord! { x: 0.0, y: 0.0 },
            coord! { x: 10.0, y: 0.1 },
            coord! { x: 20.0, y: 0.0 },
        ];
        assert_eq!(prepare_ring(&thin, true), None);
    }
}
