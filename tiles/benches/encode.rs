//! Encoding throughput on deterministic data: a zoom-15 tile with 100 grid polygons of ~30
//! vertices each, and one with 1,000 points. Run with `cargo bench -p gridwatch-tiles`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use geo::{Coord, Geometry, LineString, Point, Polygon};
use gridwatch_tiles::{TileBuilder, TileId, Value};

fn tile() -> TileId {
    TileId::from_lon_lat(113.1, 36.18, 15).expect("a valid tile")
}

/// 10 × 10 grid polygons over the tile (and a little past its edges), each a wobbly ring of
/// 30 vertices in degrees (EPSG:4326).
fn grid_polygons() -> Vec<Polygon<f64>> {
    let bounds = tile().bounds_deg();
    let (west, south) = (bounds.min().x, bounds.min().y);
    let (dx, dy) = (
        (bounds.max().x - west) / 9.0,
        (bounds.max().y - south) / 9.0,
    );
    let mut polys = Vec::new();
    for row in 0..10_u32 {
        for col in 0..10_u32 {
            let cx = west + f64::from(col) * dx;
            let cy = south + f64::from(row) * dy;
            let ring: Vec<Coord<f64>> = (0..30_u32)
                .map(|i| {
                    let angle = f64::from(i) / 30.0 * std::f64::consts::TAU;
                    let r = 0.45 + 0.05 * f64::from((i * 7 + row + col) % 5) / 4.0;
                    Coord {
                        x: cx + r * dx * angle.cos(),
                        y: cy + r * dy * angle.sin(),
                    }
                })
                .collect();
            polys.push(Polygon::new(LineString::new(ring), vec![]));
        }
    }
    polys
}

/// 1,000 points on a deterministic scatter over the tile, in degrees (EPSG:4326).
fn points() -> Vec<Point<f64>> {
    let b = tile().bounds_deg();
    let (w, s) = (b.min().x, b.min().y);
    let (width, height) = (b.max().x - w, b.max().y - s);
    (0..1000_u32)
        .map(|i| {
            // Weyl sequences: spread evenly, no RNG needed.
            let fx = (f64::from(i) * 0.618_033_988_749_895).fract();
            let fy = (f64::from(i) * 0.754_877_666_246_692_7).fract();
            Point::new(w + fx * width, s + fy * height)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let polys = grid_polygons();
    c.bench_function("encode 100 grid polygons (30 vertices)", |b| {
        b.iter(|| {
            let mut builder = TileBuilder::new(tile());
            let layer = builder.layer("grids").expect("new layer");
            for (i, p) in polys.iter().enumerate() {
                let props = [
                    ("code", Value::from(format!("G{i:03}"))),
                    ("households", Value::from(120_u32)),
                ];
                layer
                    .add_feature(&Geometry::Polygon(p.clone()), &props)
                    .expect("valid");
            }
            black_box(builder.encode())
        });
    });
    let pts = points();
    c.bench_function("encode 1000 points", |b| {
        b.iter(|| {
            let mut builder = TileBuilder::new(tile());
            let layer = builder.layer("incidents").expect("new layer");
            for (i, p) in pts.iter().enumerate() {
                let props = [(
                    "priority",
                    Value::from(u32::try_from(i % 4).expect("small")),
                )];
                layer
                    .add_feature(&Geometry::Point(*p), &props)
                    .expect("valid");
            }
            black_box(builder.encode())
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
