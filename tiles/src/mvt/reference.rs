//! The polygon pipeline as it was before its fast paths (every ring projected vertex by vertex
//! from degrees with [`world_units`], simplified, related, clipped and rounded into fresh
//! vectors), kept as the reference the encoder is checked against: on seeded random polygons
//! and tiles, the encoder's commands (from degrees and from [`ProjectedPolygons`]) must equal
//! these exactly. A fast path that changed one vertex of one tile fails here.

use geo::{Coord, Geometry, LineString, MultiPolygon, Polygon};

use super::clip::{ClipBox, Relation};
use super::geometry::{Commands, prepare_ring};
use super::{ProjectedPolygons, TileBuilder, TileOptions};
use crate::simplify::simplify_ring_units;
use crate::tms::{TileId, world_units};

/// The commands the plain pipeline writes for `polygons` (degrees) in `tile`, `None` if nothing
/// is left in the tile.
fn reference_commands(
    tile: TileId,
    options: TileOptions,
    polygons: &[Polygon<f64>],
) -> Option<Vec<u32>> {
    let scale = f64::from(options.extent);
    let project = |c: &Coord<f64>| {
        let w = world_units(c.x, c.y, tile.z());
        Coord {
            x: (w.x - f64::from(tile.x())) * scale,
            y: (w.y - f64::from(tile.y())) * scale,
        }
    };
    let clip = ClipBox {
        lo: -f64::from(options.buffer),
        hi: f64::from(options.extent) + f64::from(options.buffer),
    };
    let ring = |line: &LineString<f64>| {
        let projected: Vec<Coord<f64>> = line.0.iter().map(project).collect();
        simplify_ring_units(&projected, options.simplify_tolerance)
    };
    let mut commands = Commands::default();
    let mut write = |exterior: &[Coord<f64>], interiors: &[Vec<Coord<f64>>]| {
        let Some(exterior) = prepare_ring(exterior, true) else {
            return false;
        };
        commands.ring(&exterior);
        for interior in interiors {
            if let Some(interior) = prepare_ring(interior, false) {
                commands.ring(&interior);
            }
        }
        true
    };
    let mut any = false;
    for polygon in polygons {
        let exterior = ring(polygon.exterior());
        if clip.relate(&exterior) == Relation::Apart {
            continue;
        }
        let interiors: Vec<_> = polygon.interiors().iter().map(ring).collect();
        if interiors.iter().any(|r| clip.relate(r) == Relation::Across) {
            let projected = Polygon::new(
                LineString::new(exterior),
                interiors.into_iter().map(LineString::new).collect(),
            );
            for part in clip.clip_polygon(&projected) {
                let holes: Vec<Vec<Coord<f64>>> =
                    part.interiors().iter().map(|r| r.0.clone()).collect();
                any |= write(&part.exterior().0, &holes);
            }
        } else {
            let exterior = clip.clip_ring(&exterior);
            let interiors: Vec<_> = interiors
                .into_iter()
                .filter(|r| clip.relate(r) == Relation::Inside)
                .collect();
            any |= write(&exterior, &interiors);
        }
    }
    any.then_some(commands.out)
}

/// A seeded LCG (no dependency): uniform in `0..1`.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        f64::from(u32::try_from(self.0 >> 40).expect("24 bits")) / f64::from(1u32 << 24)
    }

    /// Uniform in `0..k`, from the high bits (an LCG's low bits cycle quickly).
    fn below(&mut self, k: u32) -> u32 {
        u32::try_from(self.0 >> 40).expect("24 bits") % k
    }
}

/// A wobbly ring around `centre` (degrees) with radii `r` (degrees), `n` vertices, closed,
/// counter-clockwise or clockwise; wobble of `wobble` × radius per vertex.
fn blob(
    rng: &mut Lcg,
    centre: Coord<f64>,
    r: Coord<f64>,
    n: usize,
    wobble: f64,
    clockwise: bool,
) -> LineString<f64> {
    let mut coords: Vec<Coord<f64>> = (0..n)
        .map(|i| {
            let step = f64::from(u32::try_from(i).expect("small"))
                / f64::from(u32::try_from(n).expect("small"));
            let angle = step * std::f64::consts::TAU * if clockwise { -1.0 } else { 1.0 };
            let k = 1.0 + wobble * (rng.next() - 0.5);
            Coord {
                x: centre.x + r.x * k * angle.cos(),
                y: centre.y + r.y * k * angle.sin(),
            }
        })
        .collect();
    coords.push(coords[0]);
    LineString::new(coords)
}

/// Random polygons about a tile: inside it, across its edges and buffer, far away, around it,
/// tiny (below a tile unit), with holes inside, across the edge and outside the tile.
fn random_polygons(rng: &mut Lcg, tile: TileId) -> Vec<Polygon<f64>> {
    let bounds = tile.bounds_deg();
    let (width, height) = (bounds.width(), bounds.height());
    let mut polygons = Vec::new();
    for _ in 0..=rng.below(4) {
        // Centre anywhere from two tiles west/north to two tiles east/south.
        let centre = Coord {
            x: bounds.min().x + (rng.next() * 5.0 - 2.0) * width,
            y: bounds.min().y + (rng.next() * 5.0 - 2.0) * height,
        };
        let size = match rng.below(5) {
            0 => 0.000_05,
            1 => 0.05,
            2 => 0.3,
            3 => 1.0,
            _ => 3.0,
        } * (0.5 + rng.next());
        let r = Coord {
            x: width * size,
            y: height * size,
        };
        let n = 4 + rng.below(200) as usize;
        let clockwise = rng.below(2) == 0;
        let exterior = blob(rng, centre, r, n, 0.2, clockwise);
        let mut holes = Vec::new();
        for _ in 0..rng.below(3) {
            let offset = Coord {
                x: centre.x + r.x * (rng.next() - 0.5),
                y: centre.y + r.y * (rng.next() - 0.5),
            };
            let hole_r = Coord {
                x: r.x * 0.2,
                y: r.y * 0.2,
            };
            let (n, clockwise) = (5 + rng.below(40) as usize, rng.below(3) == 0);
            holes.push(blob(rng, offset, hole_r, n, 0.1, clockwise));
        }
        polygons.push(Polygon::new(exterior, holes));
    }
    polygons
}

#[test]
fn polygon_fast_paths_write_what_the_plain_pipeline_writes() {
    let mut rng = Lcg(0x5EED_0000_0000_0001);
    let options = [
        TileOptions::default(),
        TileOptions {
            simplify_tolerance: 0.0,
            ..TileOptions::default()
        },
        TileOptions {
            extent: 512,
            buffer: 8,
            simplify_tolerance: 2.5,
        },
    ];
    let (mut drawn, mut culled) = (0, 0);
    for case in 0..600_u32 {
        let z = 10 + u8::try_from(case % 9).expect("small");
        let tile = TileId::from_lon_lat(113.1 + rng.next() * 0.05, 36.18 + rng.next() * 0.05, z)
            .expect("a valid tile");
        let polygons = random_polygons(&mut rng, tile);
        let opts = options[usize::try_from(case % 3).expect("small")];
        let expected = reference_commands(tile, opts, &polygons);
        let shape = MultiPolygon::new(polygons);
        let projected = ProjectedPolygons::from_degrees(&shape).expect("finite");
        let mut builder = TileBuilder::with_options(tile, opts).expect("valid options");
        let from_degrees = builder.layer("degrees").expect("new layer");
        let kept = from_degrees
            .add_feature(&Geometry::MultiPolygon(shape.clone()), &[])
            .expect("valid");
        assert_eq!(
            kept.then(|| from_degrees.last_geometry().to_vec()),
            expected,
            "case {case}: from degrees in {tile}"
        );
        let from_world = builder.layer("projected").expect("new layer");
        let kept = from_world
            .add_projected(Some(1), &projected, &[])
            .expect("valid");
        assert_eq!(
            kept.then(|| from_world.last_geometry().to_vec()),
            expected,
            "case {case}: projected in {tile}"
        );
        if expected.is_some() {
            drawn += 1;
        } else {
            culled += 1;
        }
    }
    // The cases exercise both outcomes, not just one.
    assert!(drawn > 150 && culled > 50, "drawn {drawn}, culled {culled}");
}

#[test]
fn projected_vertices_have_the_bits_of_world_units() {
    let mut rng = Lcg(42);
    for _ in 0..10_000 {
        let (lon, lat) = (rng.next() * 360.0 - 180.0, rng.next() * 170.0 - 85.0);
        let w0 = world_units(lon, lat, 0);
        for z in [0, 5, 12, 16, 20, 22] {
            let wz = world_units(lon, lat, z);
            let n = f64::from(1u32 << z);
            assert_eq!(
                (w0.x * n).to_bits(),
                wz.x.to_bits(),
                "x of ({lon}, {lat}) at {z}"
            );
            assert_eq!(
                (w0.y * n).to_bits(),
                wz.y.to_bits(),
                "y of ({lon}, {lat}) at {z}"
            );
        }
    }
}
