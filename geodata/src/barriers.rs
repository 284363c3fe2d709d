//! Barriers: the major roads, railways and water of a base map, as the H3 cell adjacencies
//! they separate, so the partitioner can prefer them as grid edges.
//!
//! Owns the rules for which lines and areas are barriers ([`BarrierClass::of_line`],
//! [`BarrierClass::of_area`]) and the test that puts an adjacency on a barrier: two
//! neighbouring cells are separated by a line when the segment between their centres crosses
//! it, and by water when either centre lies in a water area. Geometry is degrees (EPSG:4326,
//! lon/lat order) in, cells out; segment crossing is affine-invariant, so it is decided on
//! whichever plane the caller's points are in. It must not cut cells into grids.

use crate::cells::{CellGraph, cell_center};
use crate::model::{AreaRecord, LineRecord};
use geo::{BoundingRect as _, Contains as _, MultiPolygon, Point, Rect};
use h3o::CellIndex;
use rustc_hash::FxHashMap;

/// How strongly a line or area separates the cells on either side of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BarrierClass {
    /// A residential street or lane: a weak preference.
    Minor,
    /// A major road (motorway to tertiary), a railway, a river or canal, or water.
    Major,
}

impl BarrierClass {
    /// The class of a [`LineRecord::kind`] (the OSM `highway` / `railway` / `waterway`
    /// value), `None` for lines that are no barrier (footways, service roads, trams and
    /// subways, which run on or under other ways, streams).
    #[must_use]
    pub fn of_line(kind: &str) -> Option<Self> {
        match kind {
            "motorway" | "motorway_link" | "trunk" | "trunk_link" | "primary" | "primary_link"
            | "secondary" | "secondary_link" | "tertiary" | "tertiary_link" | "rail"
            | "light_rail" | "narrow_gauge" | "river" | "canal" => Some(Self::Major),
            "residential" | "unclassified" | "living_street" => Some(Self::Minor),
            _ => None,
        }
    }

    /// The class of an [`AreaRecord::kind`]: water is a major barrier, other areas none.
    #[must_use]
    pub fn of_area(kind: &str) -> Option<Self> {
        (kind == "water").then_some(Self::Major)
    }

    /// What cutting an adjacency of this class costs the partitioner, against
    /// [`PLAIN_CUT_COST`] for one on no barrier.
    pub(crate) const fn cut_cost(self) -> u8 {
        match self {
            Self::Minor => 2,
            Self::Major => 1,
        }
    }
}

/// What cutting an adjacency on no barrier costs the partitioner.
pub(crate) const PLAIN_CUT_COST: u8 = 4;

/// Side of the square buckets of the segment index, degrees (about 550 m of latitude).
const BUCKET_DEG: f64 = 0.005;

/// One straight piece of a barrier line, degrees (lon, lat).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Segment {
    a: (f64, f64),
    b: (f64, f64),
    class: BarrierClass,
}

/// The barrier lines and water areas of a base map, indexed for cell-adjacency tests.
/// Degrees (EPSG:4326, lon/lat order).
#[derive(Debug, Clone, Default)]
pub struct Barriers {
    segments: Vec<Segment>,
    /// Segment ids by bucket (`floor(lon / BUCKET_DEG)`, `floor(lat / BUCKET_DEG)`) of every
    /// bucket their bounding box touches.
    buckets: FxHashMap<(i64, i64), Vec<u32>>,
    water: Vec<(MultiPolygon<f64>, Rect<f64>, BarrierClass)>,
}

#[expect(
    clippy::cast_possible_truncation,
    reason = "bucket numbers of valid degrees are small"
)]
fn bucket(v: f64) -> i64 {
    (v / BUCKET_DEG).floor() as i64
}

impl Barriers {
    /// The barriers among `lines` and `areas` (see [`BarrierClass::of_line`] and
    /// [`BarrierClass::of_area`]); the others are left out.
    #[must_use]
    pub fn new(lines: &[LineRecord], areas: &[AreaRecord]) -> Self {
        let mut out = Self::default();
        for line in lines {
            let Some(class) = BarrierClass::of_line(&line.kind) else {
                continue;
            };
            for piece in line.geometry.lines() {
                let segment = Segment {
                    a: (piece.start.x, piece.start.y),
                    b: (piece.end.x, piece.end.y),
                    class,
                };
                let finite = [segment.a.0, segment.a.1, segment.b.0, segment.b.1]
                    .iter()
                    .all(|v| v.is_finite());
                if !finite {
                    continue;
                }
                let id = u32::try_from(out.segments.len()).unwrap_or(u32::MAX);
                let (x0, x1) = (segment.a.0.min(segment.b.0), segment.a.0.max(segment.b.0));
                let (y0, y1) = (segment.a.1.min(segment.b.1), segment.a.1.max(segment.b.1));
                for bx in bucket(x0)..=bucket(x1) {
                    for by in bucket(y0)..=bucket(y1) {
                        out.buckets.entry((bx, by)).or_default().push(id);
                    }
                }
                out.segments.push(segment);
            }
        }
        for area in areas {
            let Some(class) = BarrierClass::of_area(&area.kind) else {
                continue;
            };
            if let Some(rect) = area.geometry.bounding_rect() {
                out.water.push((area.geometry.clone(), rect, class));
            }
        }
        out
    }

    /// Whether there is no barrier at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty() && self.water.is_empty()
    }

    /// The strongest barrier between two neighbouring cells: a barrier line crossing the
    /// segment between their centres, or water under either centre. `None` when nothing
    /// separates them.
    #[must_use]
    pub fn between(&self, a: CellIndex, b: CellIndex) -> Option<BarrierClass> {
        let (pa, pb) = (cell_center(a), cell_center(b));
        let mut best = self.water_at(pa).max(self.water_at(pb));
        let mut ids: Vec<u32> = [pa, pb]
            .iter()
            .filter_map(|p| self.buckets.get(&(bucket(p.0), bucket(p.1))))
            .flatten()
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            let segment = &self.segments[id as usize];
            if crosses(pa, pb, segment.a, segment.b) {
                best = best.max(Some(segment.class));
            }
        }
        best
    }

    fn water_at(&self, (lon, lat): (f64, f64)) -> Option<BarrierClass> {
        let point = Point::new(lon, lat);
        self.water
            .iter()
            .filter(|(_, rect, _)| {
                rect.min().x <= lon
                    && lon <= rect.max().x
                    && rect.min().y <= lat
                    && lat <= rect.max().y
            })
            .filter(|(shape, _, _)| shape.contains(&point))
            .map(|(_, _, class)| *class)
            .max()
    }

    /// The barrier class of every adjacency of `graph`, aligned with its neighbour lists,
    /// and the directions (unit normals in the graph's metric plane) of the barrier lines
    /// that separate some of its cells, the most used first.
    pub(crate) fn classify(&self, graph: &CellGraph) -> GraphBarriers {
        let n = graph.len();
        let mut classes: Vec<Option<BarrierClass>> = vec![None; graph.adjacency_len()];
        if n == 0 || self.is_empty() {
            return GraphBarriers {
                classes,
                normals: Vec::new(),
            };
        }
        let lonlat: Vec<(f64, f64)> = (0_u32..).take(n).map(|i| graph.lonlat(i)).collect();
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for &(lon, lat) in &lonlat {
            x0 = x0.min(lon);
            y0 = y0.min(lat);
            x1 = x1.max(lon);
            y1 = y1.max(lat);
        }
        // Water under a cell's centre separates it from all its neighbours.
        let mut water: Vec<Option<BarrierClass>> = vec![None; n];
        let near_water = self.water.iter().any(|(_, rect, _)| {
            rect.min().x <= x1 && x0 <= rect.max().x && rect.min().y <= y1 && y0 <= rect.max().y
        });
        if near_water {
            for (slot, &p) in water.iter_mut().zip(&lonlat) {
                *slot = self.water_at(p);
            }
        }
        for i in (0_u32..).take(n) {
            for (k, &j) in graph.neighbours(i).iter().enumerate() {
                let class = water[i as usize].max(water[j as usize]);
                classes[graph.slot(i, k)] = class;
            }
        }

        // Lines: the segments in the buckets over the cells' extent, each tested against the
        // adjacencies of the cells near it.
        let mut ids: Vec<u32> = Vec::new();
        for bx in bucket(x0)..=bucket(x1) {
            for by in bucket(y0)..=bucket(y1) {
                if let Some(found) = self.buckets.get(&(bx, by)) {
                    ids.extend_from_slice(found);
                }
            }
        }
        ids.sort_unstable();
        ids.dedup();
        // A crossing adjacency has both centres within one centre spacing of the line.
        let mut spacing_m: f64 = 0.0;
        for i in (0_u32..).take(n) {
            let p = graph.xy[i as usize];
            for &j in graph.neighbours(i) {
                let q = graph.xy[j as usize];
                spacing_m = spacing_m.max((q.0 - p.0).hypot(q.1 - p.1));
            }
        }
        // The cells by y, so each segment visits only the band of cells beside it (the
        // classes and counts below do not depend on the order cells are visited in).
        let mut by_y: Vec<(f64, u32)> = (0_u32..)
            .zip(&graph.xy)
            .map(|(i, &(_, y))| (y, i))
            .collect();
        by_y.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut normals: Vec<((f64, f64), usize)> = Vec::new();
        for id in ids {
            let segment = self.segments[id as usize];
            let (a, b) = (graph.project(segment.a), graph.project(segment.b));
            let (sx0, sx1) = (a.0.min(b.0) - spacing_m, a.0.max(b.0) + spacing_m);
            let (sy0, sy1) = (a.1.min(b.1) - spacing_m, a.1.max(b.1) + spacing_m);
            let band =
                by_y.partition_point(|&(y, _)| y < sy0)..by_y.partition_point(|&(y, _)| y <= sy1);
            let mut crossings = 0;
            for &(_, i) in by_y.get(band).unwrap_or_default() {
                let p = graph.xy[i as usize];
                if p.0 < sx0 || p.0 > sx1 {
                    continue;
                }
                for (k, &j) in graph.neighbours(i).iter().enumerate() {
                    if crosses(p, graph.xy[j as usize], a, b) {
                        let slot = graph.slot(i, k);
                        classes[slot] = classes[slot].max(Some(segment.class));
                        crossings += 1;
                    }
                }
            }
            let length = (b.0 - a.0).hypot(b.1 - a.1);
            if crossings > 0 && length > 0.0 {
                // The normal, pointing into the half-plane x > 0 (or y > 0 when vertical).
                let (mut nx, mut ny) = (-(b.1 - a.1) / length, (b.0 - a.0) / length);
                if nx < 0.0 || (nx == 0.0 && ny < 0.0) {
                    (nx, ny) = (-nx, -ny);
                }
                normals.push(((nx, ny), crossings));
            }
        }
        GraphBarriers {
            classes,
            normals: merge_directions(normals),
        }
    }
}

/// How much of the borders between groups of cells lies on barriers (see
/// [`Barriers::border_share`]). Counted in H3 edges: edges of one resolution have nearly the
/// same length, so the shares are shares of border length too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BorderShare {
    /// Edges between two cells of different groups.
    pub edges: usize,
    /// Of those, edges on a major barrier.
    pub on_major: usize,
    /// Of those, edges on a minor barrier only.
    pub on_minor: usize,
}

impl BorderShare {
    /// Adds another count to this one.
    pub fn add(&mut self, other: Self) {
        self.edges += other.edges;
        self.on_major += other.on_major;
        self.on_minor += other.on_minor;
    }

    /// Share of the border edges on a major barrier (0 without borders).
    #[must_use]
    #[expect(clippy::cast_precision_loss, reason = "edge counts are far below 2^52")]
    pub fn major_share(&self) -> f64 {
        if self.edges == 0 {
            0.0
        } else {
            self.on_major as f64 / self.edges as f64
        }
    }

    /// Share of the border edges on any barrier (0 without borders).
    #[must_use]
    #[expect(clippy::cast_precision_loss, reason = "edge counts are far below 2^52")]
    pub fn any_share(&self) -> f64 {
        if self.edges == 0 {
            0.0
        } else {
            (self.on_major + self.on_minor) as f64 / self.edges as f64
        }
    }
}

impl Barriers {
    /// Counts the edges between cells of different `groups` (e.g. one community's grids: the
    /// borders the partitioner drew, not the community's own) and how many lie on barriers.
    #[must_use]
    pub fn border_share(&self, groups: &[&[CellIndex]]) -> BorderShare {
        let mut owner: FxHashMap<CellIndex, usize> = FxHashMap::default();
        for (g, cells) in groups.iter().enumerate() {
            for &cell in *cells {
                owner.insert(cell, g);
            }
        }
        let mut share = BorderShare::default();
        for (g, cells) in groups.iter().enumerate() {
            for &cell in *cells {
                for next in crate::cells::neighbours(cell) {
                    // Each border edge once: from the cell with the lower index.
                    let other = owner.get(&next).copied();
                    if next < cell || other.is_none_or(|o| o == g) {
                        continue;
                    }
                    share.edges += 1;
                    match self.between(cell, next) {
                        Some(BarrierClass::Major) => share.on_major += 1,
                        Some(BarrierClass::Minor) => share.on_minor += 1,
                        None => {}
                    }
                }
            }
        }
        share
    }
}

/// Barriers of one cell graph (see [`Barriers::classify`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct GraphBarriers {
    /// The class of each adjacency, aligned with the graph's neighbour lists.
    pub classes: Vec<Option<BarrierClass>>,
    /// Unit normals of the barrier lines, most crossings first; near-parallel lines merged.
    pub normals: Vec<(f64, f64)>,
}

/// Directions within this of each other (radians, about 6°) count as one.
const SAME_DIRECTION_RAD: f64 = 0.1;
/// At most this many barrier directions are tried per cut.
pub(crate) const MAX_DIRECTIONS: usize = 4;

/// Merges near-parallel normals, weighting by crossings; the most crossed first (ties by
/// angle, so the order is deterministic).
fn merge_directions(normals: Vec<((f64, f64), usize)>) -> Vec<(f64, f64)> {
    let mut merged: Vec<(f64, usize)> = Vec::new();
    for ((nx, ny), count) in normals {
        // Angle of the line's normal modulo π, in [0, π).
        let angle = ny.atan2(nx).rem_euclid(std::f64::consts::PI);
        let near = merged.iter_mut().find(|(a, _)| {
            let d = (*a - angle).abs();
            d.min(std::f64::consts::PI - d) < SAME_DIRECTION_RAD
        });
        match near {
            Some((_, c)) => *c += count,
            None => merged.push((angle, count)),
        }
    }
    merged.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.total_cmp(&b.0)));
    merged
        .into_iter()
        .take(MAX_DIRECTIONS)
        .map(|(angle, _)| (angle.cos(), angle.sin()))
        .collect()
}

/// Whether segment `p`–`q` crosses segment `a`–`b` (touching counts).
fn crosses(p: (f64, f64), q: (f64, f64), a: (f64, f64), b: (f64, f64)) -> bool {
    let orient = |o: (f64, f64), u: (f64, f64), v: (f64, f64)| {
        (u.0 - o.0) * (v.1 - o.1) - (u.1 - o.1) * (v.0 - o.0)
    };
    let (d1, d2) = (orient(a, b, p), orient(a, b, q));
    let (d3, d4) = (orient(p, q, a), orient(p, q, b));
    let straddles = |x: f64, y: f64| (x <= 0.0 && y >= 0.0) || (x >= 0.0 && y <= 0.0);
    // Collinear overlap is left out: a line along the centres separates nothing.
    !(d1 == 0.0 && d2 == 0.0) && straddles(d1, d2) && straddles(d3, d4)
}

#[cfg(test)]
mod tests;
