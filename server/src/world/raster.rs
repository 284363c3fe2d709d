//! A bucket raster of the grids' hexagons: the fast path of `lat/lon → cell`.
//!
//! h3o's `LatLng::to_cell` costs about 450 ns a point on this project's reference machine (see
//! BENCHMARKS.md), most of `locate`. Inside the covered area the raster answers first: the point's
//! bucket lists the few hexagons that overlap it, and a hexagon is taken only when the point lies at
//! least `MARGIN_M` inside every edge. H3 cell edges are great-circle arcs; in the local plane they
//! deviate from the straight chord by micrometres at these sizes, so a millimetre margin makes the
//! answer certain. Anything else — a point near an edge, outside the raster, or in a cell that is not a
//! clean hexagon — falls back to h3o, so the result always equals h3o's.

use h3o::{CellIndex, LatLng};

use super::locate::Plane;

/// How far inside every edge a point must be for the raster to answer, meters.
const MARGIN_M: f64 = 1e-3;
/// Largest raster built (16 MiB of offsets); a larger area goes without, and every point then takes
/// the h3o path. Tiling a large city into several rasters is the next step if one needs it.
const MAX_BUCKETS: usize = 4 * 1024 * 1024;

/// One hexagon as six inward edge lines `a·x + b·y + c ≥ 0`, `(a, b)` unit length so the value is the
/// distance in meters.
#[derive(Debug, Clone)]
struct Hexagon {
    cell: CellIndex,
    link: u32,
    edges: [[f64; 3]; 6],
}

impl Hexagon {
    /// The hexagon of `cell` in `plane`, or `None` if it is not a clean convex hexagon (pentagons and
    /// cells cut by an icosahedron edge have other shapes; they keep the h3o path).
    fn new(plane: &Plane, cell: CellIndex, link: u32) -> Option<Self> {
        let ring: Vec<[f64; 2]> = cell
            .boundary()
            .iter()
            .map(|&ll| plane.project(ll))
            .collect();
        if ring.len() != 6 {
            return None;
        }
        let centre = plane.project(LatLng::from(cell));
        let mut edges = [[0.0; 3]; 6];
        for (i, edge) in edges.iter_mut().enumerate() {
            let (from, to) = (ring[i], ring[(i + 1) % 6]);
            let (dx, dy) = (to[0] - from[0], to[1] - from[1]);
            let length = dx.hypot(dy);
            if length == 0.0 {
                return None;
            }
            let (nx, ny) = (-dy / length, dx / length);
            let offset = -(nx * from[0] + ny * from[1]);
            // Orient each line so the centre is on its positive side.
            let sign = if nx * centre[0] + ny * centre[1] + offset >= 0.0 {
                1.0
            } else {
                -1.0
            };
            *edge = [nx * sign, ny * sign, offset * sign];
        }
        Some(Self { cell, link, edges })
    }

    fn surely_contains(&self, x: f64, y: f64) -> bool {
        self.edges
            .iter()
            .all(|[a, b, c]| a * x + b * y + c > MARGIN_M)
    }

    fn bounds(&self, plane: &Plane) -> [f64; 4] {
        let (mut min_x, mut min_y, mut max_x, mut max_y) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for ll in self.cell.boundary().iter() {
            let [x, y] = plane.project(*ll);
            min_x = min_x.min(x);
            min_y = min_y.min(y);
            max_x = max_x.max(x);
            max_y = max_y.max(y);
        }
        [min_x, min_y, max_x, max_y]
    }
}

/// Square buckets over the covered area, each listing the hexagons that overlap it.
#[derive(Debug, Clone)]
pub(super) struct CellRaster {
    plane: Plane,
    origin: [f64; 2],
    bucket_m: f64,
    cols: usize,
    rows: usize,
    /// `offsets[b]..offsets[b + 1]` indexes `entries` for bucket `b`.
    offsets: Vec<u32>,
    entries: Vec<u32>,
    hexagons: Vec<Hexagon>,
}

impl CellRaster {
    /// Builds the raster of `cells` (each with its index into the world's grid links), or `None` when
    /// there is nothing to index or the area would need more than `MAX_BUCKETS` buckets.
    pub(super) fn build(
        plane: Plane,
        cells: impl Iterator<Item = (CellIndex, u32)>,
    ) -> Option<Self> {
        let hexagons: Vec<Hexagon> = cells
            .filter_map(|(cell, link)| Hexagon::new(&plane, cell, link))
            .collect();
        let bounds: Vec<[f64; 4]> = hexagons.iter().map(|h| h.bounds(&plane)).collect();
        let first = bounds.first()?;
        let mut extent = *first;
        let mut widest: f64 = 0.0;
        for b in &bounds {
            extent = [
                extent[0].min(b[0]),
                extent[1].min(b[1]),
                extent[2].max(b[2]),
                extent[3].max(b[3]),
            ];
            widest = widest.max(b[2] - b[0]).max(b[3] - b[1]);
        }
        // About one hexagon across per bucket: each bucket then lists three or four hexagons.
        let bucket_m = widest.max(1e-3);
        let cols = bucket_count(extent[2] - extent[0], bucket_m)?;
        let rows = bucket_count(extent[3] - extent[1], bucket_m)?;
        if cols.checked_mul(rows)? > MAX_BUCKETS {
            return None;
        }
        let mut raster = Self {
            plane,
            origin: [extent[0], extent[1]],
            bucket_m,
            cols,
            rows,
            offsets: Vec::new(),
            entries: Vec::new(),
            hexagons: Vec::new(),
        };
        // Two passes (count, then fill) build the bucket lists as one flat array.
        let spans: Vec<(usize, usize, usize, usize)> = bounds
            .iter()
            .map(|b| {
                let (c0, r0) = raster.bucket_of(b[0], b[1]);
                let (c1, r1) = raster.bucket_of(b[2], b[3]);
                (c0, r0, c1, r1)
            })
            .collect();
        let mut counts = vec![0_u32; cols * rows + 1];
        for &(c0, r0, c1, r1) in &spans {
            for r in r0..=r1 {
                for c in c0..=c1 {
                    counts[r * cols + c + 1] += 1;
                }
            }
        }
        for b in 1..counts.len() {
            counts[b] += counts[b - 1];
        }
        let mut next = counts.clone();
        raster.entries = vec![0; counts[cols * rows] as usize];
        for (i, &(c0, r0, c1, r1)) in spans.iter().enumerate() {
            for r in r0..=r1 {
                for c in c0..=c1 {
                    let slot = &mut next[r * cols + c];
                    raster.entries[*slot as usize] = u32::try_from(i).ok()?;
                    *slot += 1;
                }
            }
        }
        raster.offsets = counts;
        raster.hexagons = hexagons;
        Some(raster)
    }

    /// The bucket holding a plane point, clamped to the raster.
    fn bucket_of(&self, x: f64, y: f64) -> (usize, usize) {
        let clamp = |v: f64, n: usize| {
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let i = v.max(0.0).min((n - 1) as f64) as usize;
            i
        };
        (
            clamp(((x - self.origin[0]) / self.bucket_m).floor(), self.cols),
            clamp(((y - self.origin[1]) / self.bucket_m).floor(), self.rows),
        )
    }

    /// The cell and grid-link index of a point in degrees, when the raster is certain.
    pub(super) fn find(&self, lat: f64, lon: f64) -> Option<(CellIndex, u32)> {
        let [x, y] = self.plane.project_deg(lat, lon);
        let (fx, fy) = (
            (x - self.origin[0]) / self.bucket_m,
            (y - self.origin[1]) / self.bucket_m,
        );
        #[allow(clippy::cast_precision_loss)]
        if !(0.0..self.cols as f64).contains(&fx) || !(0.0..self.rows as f64).contains(&fy) {
            return None;
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let bucket = fy as usize * self.cols + fx as usize;
        let (start, end) = (
            self.offsets[bucket] as usize,
            self.offsets[bucket + 1] as usize,
        );
        self.entries[start..end]
            .iter()
            .map(|&i| &self.hexagons[i as usize])
            .find(|h| h.surely_contains(x, y))
            .map(|h| (h.cell, h.link))
    }
}

fn bucket_count(span_m: f64, bucket_m: f64) -> Option<usize> {
    let n = (span_m / bucket_m).floor() + 1.0;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    (1.0..1e9).contains(&n).then_some(n as usize)
}

#[cfg(test)]
mod tests {
    use gridwatch_geodata::{PartitionRules, Preset, plan_city, synthetic_city};
    use h3o::{LatLng, Resolution};
    use rand::{Rng, SeedableRng};

    use crate::city::{snapshot_of, to_new_city};
    use crate::world::World;

    fn dongjie() -> World {
        let dataset = synthetic_city(Preset::Dongjie, 1);
        let plan = plan_city(&dataset, Resolution::Twelve, &PartitionRules::default()).unwrap();
        World::from_snapshot(snapshot_of(&to_new_city(&dataset, &plan)))
    }

    #[test]
    fn raster_answers_agree_with_h3o_and_cover_almost_every_point() {
        let world = dongjie();
        let raster = world.raster.as_ref().expect("dongjie gets a raster");
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let (mut answered, mut inside) = (0, 0);
        for _ in 0..300_000 {
            let (lat, lon) = (
                rng.random_range(36.15..36.23),
                rng.random_range(113.07..113.15),
            );
            let h3 = LatLng::new(lat, lon).unwrap().to_cell(Resolution::Twelve);
            inside += usize::from(world.grid_of_cell(h3).is_some());
            if let Some((cell, link)) = raster.find(lat, lon) {
                assert_eq!(cell, h3, "({lat}, {lon})");
                assert_eq!(
                    Some(world.links[link as usize].grid),
                    world.grid_of_cell(h3)
                );
                answered += 1;
            }
        }
        assert!(inside > 10_000, "the sample must hit the city");
        assert!(
            answered * 1000 >= inside * 995,
            "raster answered {answered} of {inside} inside points"
        );
    }

    #[test]
    fn points_on_and_near_cell_edges_match_h3o_or_fall_back() {
        let world = dongjie();
        let raster = world.raster.as_ref().unwrap();
        let cells: Vec<_> = world
            .grids()
            .flat_map(|g| g.cells.iter().copied())
            .step_by(97)
            .collect();
        for cell in cells {
            let centre = LatLng::from(cell);
            for vertex in cell.boundary().iter() {
                // On the vertex, on the way to it, and a hair past it.
                for t in [1.0, 0.999_999_9, 0.999_99, 0.5, 1.000_000_1] {
                    let lat = centre.lat() + (vertex.lat() - centre.lat()) * t;
                    let lon = centre.lng() + (vertex.lng() - centre.lng()) * t;
                    if let Some((found, _)) = raster.find(lat, lon) {
                        assert_eq!(
                            found,
                            LatLng::new(lat, lon).unwrap().to_cell(Resolution::Twelve),
                            "{cell} t={t}"
                        );
                    }
                }
            }
        }
    }
}
