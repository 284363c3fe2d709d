//! Clipping in tile coordinates (units of the layer extent, `y` down, before rounding) against
//! the buffered tile square: points are kept or dropped, lines are cut into the pieces that lie
//! inside (Liang–Barsky per segment), rings are clipped as polygons (Sutherland–Hodgman against
//! each side of the square). A polygon whose hole crosses the square's edge is clipped with
//! `geo`'s boolean operations instead, since the hole then opens onto the outside and must
//! become part of the exterior ring. Owns no projection and no rounding.

use geo::{BooleanOps, Coord, MultiPolygon, Polygon, Rect};

/// The axis-aligned clip square in tile units, `lo ≤ x, y ≤ hi`.
#[derive(Debug, Clone, Copy)]
pub struct ClipBox {
    pub lo: f64,
    pub hi: f64,
}

impl ClipBox {
    /// Whether `c` lies inside or on the square.
    pub fn contains(self, c: Coord<f64>) -> bool {
        (self.lo..=self.hi).contains(&c.x) && (self.lo..=self.hi).contains(&c.y)
    }

    /// Whether a ring (or line) lies wholly inside, wholly apart from, or across the square's
    /// edge; "across" also covers a ring that surrounds the square.
    pub fn relate(self, ring: &[Coord<f64>]) -> Relation {
        if ring.iter().all(|&c| self.contains(c)) {
            return Relation::Inside;
        }
        let (mut min, mut max) = (
            Coord {
                x: f64::INFINITY,
                y: f64::INFINITY,
            },
            Coord {
                x: f64::NEG_INFINITY,
                y: f64::NEG_INFINITY,
            },
        );
        for c in ring {
            min.x = min.x.min(c.x);
            min.y = min.y.min(c.y);
            max.x = max.x.max(c.x);
            max.y = max.y.max(c.y);
        }
        if self.apart(min, max) {
            Relation::Apart
        } else {
            Relation::Across
        }
    }

    /// The exact intersection of a polygon with the square (`geo` boolean operations).
    pub fn clip_polygon(self, polygon: &Polygon<f64>) -> MultiPolygon<f64> {
        let square = Rect::new(
            Coord {
                x: self.lo,
                y: self.lo,
            },
            Coord {
                x: self.hi,
                y: self.hi,
            },
        );
        polygon.intersection(&square.to_polygon())
    }

    /// Cuts a polyline into the pieces inside the square; pieces have at least two points.
    pub fn clip_line(self, line: &[Coord<f64>]) -> Vec<Vec<Coord<f64>>> {
        let mut pieces = Vec::new();
        let mut current: Vec<Coord<f64>> = Vec::new();
        let mut flush = |current: &mut Vec<Coord<f64>>| {
            if current.len() >= 2 {
                pieces.push(std::mem::take(current));
            }
            current.clear();
        };
        for pair in line.windows(2) {
            let Some((a, b)) = self.clip_segment(pair[0], pair[1]) else {
                flush(&mut current);
                continue;
            };
            if current.last() != Some(&a) {
                flush(&mut current);
                current.push(a);
            }
            current.push(b);
            // The segment left the square: the piece ends here.
            if b != pair[1] {
                flush(&mut current);
            }
        }
        flush(&mut current);
        pieces
    }

    /// Liang–Barsky: the part of segment `a → b` inside the square, if any.
    fn clip_segment(self, a: Coord<f64>, b: Coord<f64>) -> Option<(Coord<f64>, Coord<f64>)> {
        let d = b - a;
        let (mut t0, mut t1) = (0.0_f64, 1.0_f64);
        for (p, q) in [
            (-d.x, a.x - self.lo),
            (d.x, self.hi - a.x),
            (-d.y, a.y - self.lo),
            (d.y, self.hi - a.y),
        ] {
            if p == 0.0 {
                if q < 0.0 {
                    return None;
                }
            } else {
                let r = q / p;
                if p < 0.0 {
                    t0 = t0.max(r);
                } else {
                    t1 = t1.min(r);
                }
            }
        }
        if t0 > t1 {
            return None;
        }
        let start = if t0 > 0.0 { a + d * t0 } else { a };
        let end = if t1 < 1.0 { a + d * t1 } else { b };
        Some((start, end))
    }

    /// Sutherland–Hodgman: the ring clipped to the square, open (no repeated closing point).
    /// A ring that crosses the square several times may come back with edges running along
    /// the square's sides; that is valid in MVT and disappears once the tile is rendered.
    #[cfg(test)]
    pub fn clip_ring(self, ring: &[Coord<f64>]) -> Vec<Coord<f64>> {
        let mut out = Vec::new();
        self.clip_ring_into(ring, &mut out, &mut Vec::new());
        out
    }

    /// [`Self::clip_ring`] into `out` (cleared first), with `spare` as a reused second buffer.
    pub fn clip_ring_into(
        self,
        ring: &[Coord<f64>],
        out: &mut Vec<Coord<f64>>,
        spare: &mut Vec<Coord<f64>>,
    ) {
        out.clear();
        out.extend_from_slice(ring);
        if out.len() > 1 && out.first() == out.last() {
            out.pop();
        }
        // Quick accept: nothing to cut.
        if out.iter().all(|&c| self.contains(c)) {
            return;
        }
        for side in 0..4 {
            if out.is_empty() {
                break;
            }
            let inside = |c: Coord<f64>| match side {
                0 => c.x >= self.lo,
                1 => c.x <= self.hi,
                2 => c.y >= self.lo,
                _ => c.y <= self.hi,
            };
            let cross = |a: Coord<f64>, b: Coord<f64>| {
                let edge = match side {
                    0 | 2 => self.lo,
                    _ => self.hi,
                };
                if side < 2 {
                    let t = (edge - a.x) / (b.x - a.x);
                    Coord {
                        x: edge,
                        y: a.y + (b.y - a.y) * t,
                    }
                } else {
                    let t = (edge - a.y) / (b.y - a.y);
                    Coord {
                        x: a.x + (b.x - a.x) * t,
                        y: edge,
                    }
                }
            };
            std::mem::swap(out, spare);
            out.clear();
            let input: &[Coord<f64>] = spare;
            let mut prev = input[input.len() - 1];
            for &cur in input {
                match (inside(prev), inside(cur)) {
                    (true, true) => out.push(cur),
                    (true, false) => out.push(cross(prev, cur)),
                    (false, true) => {
                        out.push(cross(prev, cur));
                        out.push(cur);
                    }
                    (false, false) => {}
                }
                prev = cur;
            }
        }
    }

    /// Whether a box (`min`, `max` corners, tile units) lies wholly apart from the square, as
    /// [`Self::relate`] decides `Apart` for a ring with that bounding box.
    pub fn apart(self, min: Coord<f64>, max: Coord<f64>) -> bool {
        max.x < self.lo || max.y < self.lo || min.x > self.hi || min.y > self.hi
    }
}

/// How a ring sits against the clip square; see [`ClipBox::relate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Inside,
    Apart,
    Across,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    const BOX: ClipBox = ClipBox { lo: 0.0, hi: 10.0 };

    #[test]
    fn lines_are_cut_into_pieces() {
        // In, out, back in: two pieces.
        let pieces = BOX.clip_line(&[c(5.0, 5.0), c(15.0, 5.0), c(15.0, 8.0), c(5.0, 8.0)]);
        assert_eq!(
            pieces,
            vec![
                vec![c(5.0, 5.0), c(10.0, 5.0)],
                vec![c(10.0, 8.0), c(5.0, 8.0)]
            ]
        );
        // Straight through.
        assert_eq!(
            BOX.clip_line(&[c(-5.0, 5.0), c(15.0, 5.0)]),
            vec![vec![c(0.0, 5.0), c(10.0, 5.0)]]
        );
        // Wholly outside.
        assert!(BOX.clip_line(&[c(-5.0, -5.0), c(-1.0, 20.0)]).is_empty());
        // Inside stays whole.
        let inside = vec![c(1.0, 1.0), c(2.0, 2.0), c(3.0, 1.0)];
        assert_eq!(BOX.clip_line(&inside), vec![inside]);
    }

    #[test]
    fn rings_are_clipped_as_polygons() {
        let ring = [
            c(5.0, 5.0),
            c(15.0, 5.0),
            c(15.0, 15.0),
            c(5.0, 15.0),
            c(5.0, 5.0),
        ];
        let clipped = BOX.clip_ring(&ring);
        assert_eq!(clipped.len(), 4);
        for p in [c(5.0, 5.0), c(10.0, 5.0), c(10.0, 10.0), c(5.0, 10.0)] {
            assert!(clipped.contains(&p), "{p:?} in {clipped:?}");
        }
        // A ring around the whole box becomes the box.
        let around = [c(-1.0, -1.0), c(11.0, -1.0), c(11.0, 11.0), c(-1.0, 11.0)];
        assert_eq!(BOX.clip_ring(&around).len(), 4);
        assert_eq!(BOX.relate(&ring), Relation::Across);
        assert_eq!(BOX.relate(&around), Relation::Across);
        assert_eq!(
            BOX.relate(&[c(1.0, 1.0), c(2.0, 1.0), c(2.0, 2.0)]),
            Relation::Inside
        );
        assert_eq!(
            BOX.relate(&[c(20.0, 20.0), c(30.0, 20.0), c(30.0, 30.0)]),
            Relation::Apart
        );
        // A ring wholly outside disappears.
        assert!(
            BOX.clip_ring(&[c(20.0, 20.0), c(30.0, 20.0), c(30.0, 30.0)])
                .is_empty()
        );
    }
}
