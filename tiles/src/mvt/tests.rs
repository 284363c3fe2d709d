//! Encoder tests through a minimal reader of the bytes it writes. The independent check (a
//! reference decoder and shapely) is `tiles/tests/reference_decoder.rs`.

use geo::{Geometry, LineString, MultiPoint, Point as GeoPoint, Polygon, coord, point};

use super::geometry::area2;
use super::*;
use crate::tms::{TileId, world_units_to_lon_lat};

/// A decoded feature: id, tags, type, and command stream decoded to parts of absolute points.
#[derive(Debug, Default)]
struct Feature {
    id: Option<u64>,
    tags: Vec<u32>,
    kind: u64,
    parts: Vec<Vec<(i32, i32)>>,
}

#[derive(Debug, Default)]
struct DecodedLayer {
    version: u64,
    name: String,
    extent: u64,
    keys: Vec<String>,
    values: usize,
    features: Vec<Feature>,
}

fn varint(buf: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = buf[*pos];
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return v;
        }
        shift += 7;
    }
}

/// Iterates over (field, wire type, varint value or byte slice).
fn fields(buf: &[u8]) -> Vec<(u64, u64, u64, &[u8])> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < buf.len() {
        let key = varint(buf, &mut pos);
        let (field, wt) = (key >> 3, key & 7);
        match wt {
            0 => out.push((field, wt, varint(buf, &mut pos), &buf[0..0])),
            1 => {
                out.push((field, wt, 0, &buf[pos..pos + 8]));
                pos += 8;
            }
            5 => {
                out.push((field, wt, 0, &buf[pos..pos + 4]));
                pos += 4;
            }
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)).unwrap();
                out.push((field, wt, 0, &buf[pos..pos + len]));
                pos += len;
            }
            _ => panic!("wire type {wt}"),
        }
    }
    out
}

fn packed(buf: &[u8]) -> Vec<u32> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < buf.len() {
        out.push(u32::try_from(varint(buf, &mut pos)).unwrap());
    }
    out
}

fn unzig(v: u32) -> i32 {
    i32::try_from(v >> 1).unwrap() ^ -i32::try_from(v & 1).unwrap()
}

fn decode_geometry(cmds: &[u32]) -> Vec<Vec<(i32, i32)>> {
    let (mut i, mut cursor, mut parts) = (0, (0, 0), Vec::<Vec<(i32, i32)>>::new());
    while i < cmds.len() {
        let (id, count) = (cmds[i] & 7, cmds[i] >> 3);
        i += 1;
        match id {
            1 | 2 => {
                for _ in 0..count {
                    cursor = (cursor.0 + unzig(cmds[i]), cursor.1 + unzig(cmds[i + 1]));
                    i += 2;
                    if id == 1 {
                        parts.push(vec![cursor]);
                    } else {
                        let part = parts.last_mut().unwrap();
                        assert_ne!(*part.last().unwrap(), cursor, "zero-length LineTo");
                        part.push(cursor);
                    }
                }
            }
            7 => assert_eq!(count, 1),
            _ => panic!("command {id}"),
        }
    }
    parts
}

fn decode(bytes: &[u8]) -> Vec<DecodedLayer> {
    fields(bytes)
        .into_iter()
        .map(|(f, _, _, body)| {
            assert_eq!(f, 3);
            let mut layer = DecodedLayer::default();
            for (f, _, v, b) in fields(body) {
                match f {
                    15 => layer.version = v,
                    1 => layer.name = String::from_utf8(b.to_vec()).unwrap(),
                    5 => layer.extent = v,
                    3 => layer.keys.push(String::from_utf8(b.to_vec()).unwrap()),
                    4 => layer.values += 1,
                    2 => {
                        let mut feature = Feature::default();
                        for (f, _, v, b) in fields(b) {
                            match f {
                                1 => feature.id = Some(v),
                                2 => feature.tags = packed(b),
                                3 => feature.kind = v,
                                4 => feature.parts = decode_geometry(&packed(b)),
                                _ => panic!("feature field {f}"),
                            }
                        }
                        layer.features.push(feature);
                    }
                    _ => panic!("layer field {f}"),
                }
            }
            layer
        })
        .collect()
}

fn tile() -> TileId {
    TileId::new(10, 833, 398).unwrap()
}

/// A point in degrees at tile units (x, y) of `tile()` with the default extent.
fn at(x: f64, y: f64) -> geo::Coord<f64> {
    let t = tile();
    world_units_to_lon_lat(
        coord! { x: f64::from(t.x()) + x / 4096.0, y: f64::from(t.y()) + y / 4096.0 },
        t.z(),
    )
}

#[test]
fn layer_header_keys_and_values_are_shared() {
    let mut b = TileBuilder::new(tile());
    let layer = b.layer("pts").unwrap();
    for i in 0..3_u32 {
        let p = Geometry::Point(GeoPoint(at(100.0 * f64::from(i), 50.0)));
        let props = [("kind", Value::from("a")), ("n", Value::from(i % 2))];
        assert!(layer.add_feature_with_id(u64::from(i), &p, &props).unwrap());
    }
    let layers = decode(&b.encode());
    assert_eq!(layers.len(), 1);
    let l = &layers[0];
    assert_eq!((l.version, l.name.as_str(), l.extent), (2, "pts", 4096));
    assert_eq!(l.keys, ["kind", "n"]);
    assert_eq!(l.values, 3, "\"a\", 0 and 1");
    assert_eq!(l.features.len(), 3);
    assert_eq!(l.features[2].id, Some(2));
    assert_eq!(l.features[2].tags, [0, 0, 1, 1]);
    assert_eq!(l.features[1].parts, [vec![(100, 50)]]);
    assert_eq!(l.features[0].kind, 1);
}

#[test]
fn points_outside_the_buffer_are_dropped() {
    let mut b = TileBuilder::new(tile());
    let layer = b.layer("pts").unwrap();
    let inside_buffer = MultiPoint::new(vec![GeoPoint(at(-60.0, 10.0)), GeoPoint(at(-70.0, 10.0))]);
    assert!(
        layer
            .add_feature(&Geometry::MultiPoint(inside_buffer), &[])
            .unwrap()
    );
    assert!(
        !layer
            .add_feature(&Geometry::Point(GeoPoint(at(5000.0, 10.0))), &[])
            .unwrap()
    );
    let layers = decode(&b.encode());
    assert_eq!(layers[0].features.len(), 1);
    assert_eq!(layers[0].features[0].parts, [vec![(-60, 10)]]);
}

#[test]
fn lines_are_cut_at_the_buffer_without_repeats() {
    let mut b = TileBuilder::new(tile());
    let layer = b.layer("lines").unwrap();
    // Out of the east side and back: two pieces, ending on the buffer edge 4096 + 64.
    let line = LineString::new(vec![
        at(4000.0, 100.0),
        at(4000.2, 100.1),
        at(4500.0, 100.0),
        at(4500.0, 300.0),
        at(4000.0, 300.0),
    ]);
    assert!(layer.add_feature(&Geometry::LineString(line), &[]).unwrap());
    let layers = decode(&b.encode());
    let f = &layers[0].features[0];
    assert_eq!(f.kind, 2);
    assert_eq!(f.parts.len(), 2);
    assert_eq!(f.parts[0], [(4000, 100), (4160, 100)]);
    assert_eq!(f.parts[1], [(4160, 300), (4000, 300)]);
}

#[test]
fn polygons_are_clipped_and_wound() {
    let mut b = TileBuilder::new(tile());
    let layer = b.layer("polys").unwrap();
    // Counter-clockwise in lon/lat; its hole crosses the west edge too.
    let square = Polygon::new(
        LineString::new(vec![
            at(-500.0, 1000.0),
            at(1000.0, 1000.0),
            at(1000.0, 0.0),
            at(-500.0, 0.0),
        ]),
        vec![LineString::new(vec![
            at(-30.0, 200.0),
            at(-30.0, 800.0),
            at(500.0, 800.0),
            at(500.0, 200.0),
        ])],
    );
    assert!(layer.add_feature(&Geometry::Polygon(square), &[]).unwrap());
    let layers = decode(&b.encode());
    let f = &layers[0].features[0];
    assert_eq!(f.kind, 3);
    assert_eq!(f.parts.len(), 2);
    assert!(
        area2(&f.parts[0]) > 0,
        "exterior positive: {:?}",
        f.parts[0]
    );
    assert!(
        area2(&f.parts[1]) < 0,
        "interior negative: {:?}",
        f.parts[1]
    );
    assert!(f.parts.iter().flatten().all(|p| p.0 >= -64));
    // 1064 × 1000 and 530 × 600, doubled.
    assert_eq!(area2(&f.parts[0]), 2 * 1064 * 1000);
    assert_eq!(area2(&f.parts[1]), -2 * 530 * 600);
}

#[test]
fn degenerate_parts_are_dropped() {
    let mut b = TileBuilder::new(tile());
    let layer = b.layer("bits").unwrap();
    let tiny = LineString::new(vec![at(10.0, 10.0), at(10.2, 10.1)]);
    assert!(!layer.add_feature(&Geometry::LineString(tiny), &[]).unwrap());
    let sliver = Polygon::new(
        LineString::new(vec![at(10.0, 10.0), at(200.0, 10.1), at(400.0, 10.0)]),
        vec![],
    );
    assert!(!layer.add_feature(&Geometry::Polygon(sliver), &[]).unwrap());
    assert!(b.is_empty());
    assert!(b.encode().is_empty(), "an empty layer is left out");
}

#[test]
fn bad_input_is_refused() {
    let mut b = TileBuilder::new(tile());
    assert!(b.layer("a").is_ok());
    assert!(matches!(b.layer("a"), Err(MvtError::DuplicateLayer { .. })));
    let layer = b.layer("b").unwrap();
    let nan = Geometry::Point(point!(x: f64::NAN, y: 0.0));
    assert!(matches!(
        layer.add_feature(&nan, &[]),
        Err(MvtError::NonFiniteCoordinate { .. })
    ));
    let p = Geometry::Point(GeoPoint(at(1.0, 1.0)));
    let twice = [("k", Value::Int(1)), ("k", Value::Int(2))];
    assert!(matches!(
        layer.add_feature(&p, &twice),
        Err(MvtError::DuplicateProperty { .. })
    ));
    let gc = Geometry::GeometryCollection(geo::GeometryCollection::new_from(vec![p]));
    assert!(matches!(
        layer.add_feature(&gc, &[]),
        Err(MvtError::UnsupportedGeometry { .. })
    ));
    let bad = TileOptions {
        extent: 0,
        ..TileOptions::default()
    };
    assert!(TileBuilder::with_options(tile(), bad).is_err());
    let bad = TileOptions {
        buffer: 5000,
        ..TileOptions::default()
    };
    assert!(TileBuilder::with_options(tile(), bad).is_err());
}

#[test]
fn custom_extent() {
    let options = TileOptions {
        extent: 256,
        buffer: 8,
        simplify_tolerance: 0.0,
    };
    let mut b = TileBuilder::with_options(tile(), options).unwrap();
    let layer = b.layer("p").unwrap();
    assert!(
        layer
            .add_feature(&Geometry::Point(GeoPoint(at(2048.0, 1024.0))), &[])
            .unwrap()
    );
    let layers = decode(&b.encode());
    assert_eq!(layers[0].extent, 256);
    assert_eq!(layers[0].features[0].parts, [vec![(128, 64)]]);
}

#[test]
fn a_hole_cut_by_the_buffer_opens_onto_the_outside() {
    let mut b = TileBuilder::new(tile());
    let layer = b.layer("polys").unwrap();
    let square = Polygon::new(
        LineString::new(vec![
            at(-500.0, 0.0),
            at(1000.0, 0.0),
            at(1000.0, 1000.0),
            at(-500.0, 1000.0),
        ]),
        vec![LineString::new(vec![
            at(-300.0, 200.0),
            at(500.0, 200.0),
            at(500.0, 800.0),
            at(-300.0, 800.0),
        ])],
    );
    assert!(layer.add_feature(&Geometry::Polygon(square), &[]).unwrap());
    let layers = decode(&b.encode());
    let f = &layers[0].features[0];
    // One notched exterior ring, no hole: 1064 × 1000 minus 564 × 600, doubled.
    assert_eq!(f.parts.len(), 1, "{:?}", f.parts);
    assert_eq!(area2(&f.parts[0]), 2 * (1064 * 1000 - 564 * 600));
}
