//! Douglas–Peucker simplification sized to the tile grid: at zoom `z` a vertex closer than about
//! one tile unit (1/extent of a tile) to its simplified line cannot be seen, so it goes.
//!
//! Works in tile units (a planar, web-mercator-proportional frame) so that the tolerance means
//! the same on screen at every latitude. A ring is never collapsed: when simplifying would leave
//! fewer than three distinct vertices, no area, or the opposite winding, the original ring is kept.

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPolygon, Polygon};

use crate::tms::{world_units, world_units_to_lon_lat};

/// Simplifies an open polyline given in tile units with tolerance `tolerance` (tile units).
#[must_use]
pub fn simplify_line_units(line: &[Coord<f64>], tolerance: f64) -> Vec<Coord<f64>> {
    if tolerance <= 0.0 || line.len() < 3 {
        return line.to_vec();
    }
    douglas_peucker(line, tolerance)
}

/// Simplifies a ring given in tile units (closed or open) with tolerance `tolerance` (tile
/// units); returns the input unchanged if the result would be degenerate or change winding.
#[must_use]
pub fn simplify_ring_units(ring: &[Coord<f64>], tolerance: f64) -> Vec<Coord<f64>> {
    let mut out = Vec::new();
    simplify_ring_into(ring, tolerance, &mut Scratch::default(), &mut out);
    out
}

/// Buffers Douglas–Peucker reuses from ring to ring, so drawing a tile allocates nothing per ring.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    keep: Vec<bool>,
    spans: Vec<(usize, usize)>,
    closed: Vec<Coord<f64>>,
}

/// [`simplify_ring_units`] into `out` (cleared first), with reused buffers.
pub(crate) fn simplify_ring_into(
    ring: &[Coord<f64>],
    tolerance: f64,
    scratch: &mut Scratch,
    out: &mut Vec<Coord<f64>>,
) {
    out.clear();
    if tolerance <= 0.0 || ring.len() < 5 {
        out.extend_from_slice(ring);
        return;
    }
    let Scratch {
        keep,
        spans,
        closed,
    } = scratch;
    let closed: &[Coord<f64>] = if ring.first() == ring.last() {
        ring
    } else {
        closed.clear();
        closed.extend_from_slice(ring);
        closed.push(ring[0]);
        closed
    };
    douglas_peucker_into(closed, tolerance, keep, spans, out);
    let before = signed_area2(closed);
    let after = signed_area2(out);
    if out.len() < 4 || after == 0.0 || before.signum() != after.signum() {
        out.clear();
        out.extend_from_slice(ring);
    }
}

/// Douglas–Peucker in tile units, as `geo::Simplify` (a vertex stays when it lies farther than
/// `tolerance` from the segment between the kept ends, first and last always kept), without its
/// allocations and square roots: it runs for every ring of every tile drawn, and `geo`'s recursive
/// version with `hypot` was the largest cost of drawing an uncached grids tile (BENCHMARKS.md).
fn douglas_peucker(points: &[Coord<f64>], tolerance: f64) -> Vec<Coord<f64>> {
    let mut out = Vec::new();
    douglas_peucker_into(
        points,
        tolerance,
        &mut Vec::new(),
        &mut Vec::new(),
        &mut out,
    );
    out
}

/// [`douglas_peucker`] into `out` (cleared first), with `keep` and `spans` as reused buffers.
fn douglas_peucker_into(
    points: &[Coord<f64>],
    tolerance: f64,
    keep: &mut Vec<bool>,
    spans: &mut Vec<(usize, usize)>,
    out: &mut Vec<Coord<f64>>,
) {
    out.clear();
    let n = points.len();
    if n < 3 {
        out.extend_from_slice(points);
        return;
    }
    let tolerance2 = tolerance * tolerance;
    keep.clear();
    keep.resize(n, false);
    keep[0] = true;
    keep[n - 1] = true;
    spans.clear();
    spans.push((0, n - 1));
    while let Some((a, b)) = spans.pop() {
        if b <= a + 1 {
            continue;
        }
        let (pa, pb) = (points[a], points[b]);
        let (dx, dy) = (pb.x - pa.x, pb.y - pa.y);
        let length2 = dx * dx + dy * dy;
        let (mut far, mut far2) = (a, 0.0);
        for (i, p) in points.iter().enumerate().take(b).skip(a + 1) {
            // Squared distance from p to the segment a–b (to a itself when a and b coincide).
            let t = if length2 > 0.0 {
                (((p.x - pa.x) * dx + (p.y - pa.y) * dy) / length2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (ex, ey) = (p.x - (pa.x + t * dx), p.y - (pa.y + t * dy));
            let d2 = ex * ex + ey * ey;
            if d2 > far2 {
                (far, far2) = (i, d2);
            }
        }
        if far2 > tolerance2 {
            keep[far] = true;
            spans.push((a, far));
            spans.push((far, b));
        }
    }
    out.extend(
        points
            .iter()
            .zip(keep.iter())
            .filter_map(|(p, &k)| k.then_some(*p)),
    );
}

/// Twice the signed shoelace area of a ring (closed or open), in squared input units.
pub(crate) fn signed_area2(ring: &[Coord<f64>]) -> f64 {
    // Pairs (i, i + 1) with the last wrapping to the first, summed in index order.
    ring.iter()
        .zip(ring.iter().cycle().skip(1))
        .map(|(a, b)| a.x * b.y - b.x * a.y)
        .sum()
}

/// Simplifies a geometry given in degrees (EPSG:4326, lon/lat) for display at zoom `z` with
/// tiles of `extent` units: the tolerance is one tile unit, measured in web-mercator. Points
/// pass through unchanged; polygon rings never collapse (see the module doc).
#[must_use]
pub fn simplify_for_zoom(geometry: &Geometry<f64>, z: u8, extent: u32) -> Geometry<f64> {
    let scale = f64::from(extent.max(1));
    let to_units = |c: &Coord<f64>| world_units(c.x, c.y, z) * scale;
    let to_deg = |c: Coord<f64>| world_units_to_lon_lat(c / scale, z);
    let line = |l: &LineString<f64>| {
        let units: Vec<_> = l.0.iter().map(to_units).collect();
        let simple = simplify_line_units(&units, 1.0);
        // Unchanged: keep the exact input rather than a projection round trip.
        if simple.len() == units.len() {
            return l.clone();
        }
        LineString::new(simple.into_iter().map(to_deg).collect())
    };
    let ring = |l: &LineString<f64>| {
        let units: Vec<_> = l.0.iter().map(to_units).collect();
        let simple = simplify_ring_units(&units, 1.0);
        if simple.len() == units.len() {
            return l.clone();
        }
        LineString::new(simple.into_iter().map(to_deg).collect())
    };
    let polygon = |p: &Polygon<f64>| {
        Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect())
    };
    match geometry {
        Geometry::LineString(l) => Geometry::LineString(line(l)),
        Geometry::MultiLineString(m) => {
            Geometry::MultiLineString(MultiLineString::new(m.0.iter().map(line).collect()))
        }
        Geometry::Polygon(p) => Geometry::Polygon(polygon(p)),
        Geometry::MultiPolygon(m) => {
            Geometry::MultiPolygon(MultiPolygon::new(m.0.iter().map(polygon).collect()))
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, coord, polygon};

    #[test]
    fn drops_sub_unit_wiggles() {
        let line: Vec<_> = (0..=100)
            .map(|i| coord! { x: f64::from(i), y: if i % 2 == 0 { 0.0 } else { 0.3 } })
            .collect();
        let simple = simplify_line_units(&line, 1.0);
        assert_eq!(simple.len(), 2);
        assert_eq!(simplify_line_units(&line, 0.0).len(), 101);
    }

    #[test]
    fn never_collapses_a_ring() {
        // A sliver three units long and a fraction of a unit wide would collapse to a line.
        let sliver = [
            coord! { x: 0.0, y: 0.0 },
            coord! { x: 1.0, y: 0.2 },
            coord! { x: 2.0, y: 0.1 },
            coord! { x: 3.0, y: 0.0 },
            coord! { x: 1.5, y: -0.1 },
            coord! { x: 0.0, y: 0.0 },
        ];
        assert_eq!(simplify_ring_units(&sliver, 1.0), sliver.to_vec());
        // A big ring with a tiny notch loses the notch only.
        let square = [
            coord! { x: 0.0, y: 0.0 },
            coord! { x: 50.0, y: 0.0 },
            coord! { x: 50.0, y: 0.2 },
            coord! { x: 50.1, y: 0.0 },
            coord! { x: 100.0, y: 0.0 },
            coord! { x: 100.0, y: 100.0 },
            coord! { x: 0.0, y: 100.0 },
            coord! { x: 0.0, y: 0.0 },
        ];
        assert_eq!(simplify_ring_units(&square, 1.0).len(), 5);
    }

    #[test]
    fn simplifies_degrees_by_zoom() {
        // A 0.01° square with 400 vertices on its sides: at zoom 10 it is four corners.
        let mut ring = Vec::new();
        for i in 0..100 {
            ring.push((113.0 + f64::from(i) * 1e-4, 36.0));
        }
        for i in 0..100 {
            ring.push((113.01, 36.0 + f64::from(i) * 1e-4));
        }
        for i in 0..100 {
            ring.push((113.01 - f64::from(i) * 1e-4, 36.01));
        }
        for i in 0..100 {
            ring.push((113.0, 36.01 - f64::from(i) * 1e-4));
        }
        let poly = Polygon::new(LineString::from(ring), vec![]);
        let Geometry::Polygon(simple) =
            simplify_for_zoom(&Geometry::Polygon(poly.clone()), 10, 4096)
        else {
            panic!("a polygon stays a polygon");
        };
        assert_eq!(simple.exterior().0.len(), 5);
        assert!((simple.unsigned_area() - poly.unsigned_area()).abs() < 1e-8);
        // A tiny triangle is kept whole at zoom 0.
        let tiny = polygon![(x: 113.0, y: 36.0), (x: 113.001, y: 36.0), (x: 113.0, y: 36.001)];
        let kept = simplify_for_zoom(&Geometry::Polygon(tiny.clone()), 0, 4096);
        assert_eq!(kept, Geometry::Polygon(tiny));
    }

    #[test]
    fn douglas_peucker_keeps_what_geo_simplify_keeps() {
        // geo's recursive Douglas–Peucker is the reference; a fixed pseudo-random walk (an LCG, so the
        // test needs no dependency) with some repeated points and a closed ring.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            f64::from(u32::try_from(state >> 40).expect("24 bits")) / f64::from(1u32 << 24) - 0.5
        };
        for case in 0..200 {
            let (mut x, mut y) = (0.0, 0.0);
            let mut line: Vec<Coord<f64>> = Vec::new();
            for _ in 0..(3 + case % 60) {
                x += next() * 8.0;
                y += next() * 8.0;
                line.push(coord! {x: x, y: y});
                if case % 7 == 0 {
                    line.push(coord! {x: x, y: y});
                }
            }
            if case % 3 == 0 {
                line.push(line[0]);
            }
            for tolerance in [0.5, 1.0, 3.0] {
                let ours = douglas_peucker(&line, tolerance);
                let reference =
                    geo::Simplify::simplify(&LineString::new(line.clone()), tolerance).0;
                assert_eq!(ours, reference, "case {case}, tolerance {tolerance}");
            }
        }
    }
}
