//! Encoded tiles checked by an independent decoder: `tests/reference/check_mvt.py` decodes them
//! with `mapbox_vector_tile`, recomputes the expected clipped geometries with its own projection
//! and shapely, and rolls H3 cells up with the `h3` reference library.
//!
//! Needs a Python with `tests/reference/requirements.txt` installed, found through
//! `GRIDWATCH_PYTHON` (else the workspace `.venv`, else `python3`). Without one the test is
//! skipped with a message, except when `CI=true`, where it fails.

// Test scaffolding: a failed write or a bad fixture should panic at once.
#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
use gridwatch_tiles::{Aggregation, TileBuilder, TileId, TileOptions, Value, add_h3_layer};
use h3o::{LatLng, Resolution};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The interpreter with the reference packages, or `None` (skip) outside CI.
fn reference_python() -> Option<String> {
    let python = std::env::var("GRIDWATCH_PYTHON").unwrap_or_else(|_| {
        let venv = workspace_root().join(".venv/bin/python");
        if venv.exists() {
            venv.display().to_string()
        } else {
            "python3".into()
        }
    });
    let ok = Command::new(&python)
        .args(["-c", "import mapbox_vector_tile, shapely, h3"])
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(python);
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !ci,
        "CI=true but {python} cannot import mapbox_vector_tile, shapely and h3 \
         (pip install -r tests/reference/requirements.txt)"
    );
    eprintln!(
        "SKIPPED: the MVT reference check needs python with mapbox-vector-tile, shapely and h3 \
         (pip install -r tests/reference/requirements.txt; set GRIDWATCH_PYTHON)"
    );
    None
}

/// The tile every case draws on: zoom 14 over the demo city (Changzhi, Shanxi).
fn tile() -> TileId {
    TileId::from_lon_lat(113.1, 36.18, 14).unwrap()
}

/// A position in degrees given as fractions of the tile (0,0 = north-west corner, 1,1 =
/// south-east; values outside 0..1 lie outside the tile). Latitude is interpolated linearly in
/// degrees: the check projects the resulting degrees itself, so exactness does not matter.
fn at(fx: f64, fy: f64) -> Coord<f64> {
    let b = tile().bounds_deg();
    Coord {
        x: b.min().x + fx * (b.max().x - b.min().x),
        y: b.max().y - fy * (b.max().y - b.min().y),
    }
}

fn ring(points: &[(f64, f64)]) -> LineString<f64> {
    LineString::new(points.iter().map(|&(x, y)| at(x, y)).collect())
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> LineString<f64> {
    ring(&[(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)])
}

// ---- a minimal JSON writer (the crate takes no serde dependency) ----

fn json_coords(out: &mut String, coords: &[Coord<f64>]) {
    out.push('[');
    for (i, c) in coords.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write!(out, "[{:?},{:?}]", c.x, c.y).unwrap();
    }
    out.push(']');
}

fn json_polygon(out: &mut String, p: &Polygon<f64>) {
    out.push('[');
    json_coords(out, &p.exterior().0);
    for r in p.interiors() {
        out.push(',');
        json_coords(out, &r.0);
    }
    out.push(']');
}

fn json_list<T>(out: &mut String, items: &[T], mut each: impl FnMut(&mut String, &T)) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(out, item);
    }
    out.push(']');
}

fn geojson(g: &Geometry<f64>) -> String {
    let mut out = String::new();
    match g {
        Geometry::Point(p) => write!(
            out,
            r#"{{"type":"Point","coordinates":[{:?},{:?}]}}"#,
            p.x(),
            p.y()
        )
        .unwrap(),
        Geometry::MultiPoint(m) => {
            out.push_str(r#"{"type":"MultiPoint","coordinates":"#);
            json_coords(&mut out, &m.0.iter().map(|p| p.0).collect::<Vec<_>>());
            out.push('}');
        }
        Geometry::LineString(l) => {
            out.push_str(r#"{"type":"LineString","coordinates":"#);
            json_coords(&mut out, &l.0);
            out.push('}');
        }
        Geometry::MultiLineString(m) => {
            out.push_str(r#"{"type":"MultiLineString","coordinates":"#);
            json_list(&mut out, &m.0, |o, l| json_coords(o, &l.0));
            out.push('}');
        }
        Geometry::Polygon(p) => {
            out.push_str(r#"{"type":"Polygon","coordinates":"#);
            json_polygon(&mut out, p);
            out.push('}');
        }
        Geometry::MultiPolygon(m) => {
            out.push_str(r#"{"type":"MultiPolygon","coordinates":"#);
            json_list(&mut out, &m.0, json_polygon);
            out.push('}');
        }
        other => panic!("no GeoJSON writer for {other:?}"),
    }
    out
}

fn json_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Float(f) => format!("{f:?}"),
        Value::Double(d) => format!("{d:?}"),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Bool(b) => b.to_string(),
    }
}

/// One source feature: id, geometry in degrees, properties, and optionally how many parts
/// (points, line pieces or polygons) the decoded feature must have.
struct Source {
    id: u64,
    geometry: Geometry<f64>,
    properties: Vec<(&'static str, Value)>,
    parts: Option<usize>,
}

fn source(id: u64, geometry: impl Into<Geometry<f64>>, parts: Option<usize>) -> Source {
    Source {
        id,
        geometry: geometry.into(),
        properties: vec![("n", Value::Uint(id))],
        parts,
    }
}

/// A tile to write and the manifest entry describing what went into it.
struct Case {
    file: &'static str,
    builder: TileBuilder,
    layers: Vec<String>,
    h3_layers: Vec<String>,
}

impl Case {
    fn new(file: &'static str) -> Self {
        Self::with_options(file, TileOptions::default())
    }

    fn with_options(file: &'static str, options: TileOptions) -> Self {
        Self {
            file,
            builder: TileBuilder::with_options(tile(), options).unwrap(),
            layers: Vec::new(),
            h3_layers: Vec::new(),
        }
    }

    fn layer(&mut self, name: &str, sources: &[Source]) {
        let layer = self.builder.layer(name).unwrap();
        let mut entries = Vec::new();
        for s in sources {
            layer
                .add_feature_with_id(s.id, &s.geometry, &s.properties)
                .unwrap();
            let props: Vec<String> = s
                .properties
                .iter()
                .map(|(k, v)| format!("{k:?}:{}", json_value(v)))
                .collect();
            let parts = s
                .parts
                .map_or(String::new(), |p| format!(r#","parts":{p}"#));
            entries.push(format!(
                r#"{{"id":{},"geometry":{},"properties":{{{}}}{parts}}}"#,
                s.id,
                geojson(&s.geometry),
                props.join(",")
            ));
        }
        self.layers
            .push(format!("{name:?}:[{}]", entries.join(",")));
    }

    fn h3_layer(&mut self, name: &str, cells: &[(h3o::CellIndex, f64)], aggregation: Aggregation) {
        add_h3_layer(&mut self.builder, name, cells, aggregation).unwrap();
        let cells: Vec<String> = cells
            .iter()
            .map(|(c, v)| format!(r#"["{c}",{v:?}]"#))
            .collect();
        let agg = match aggregation {
            Aggregation::Sum => "sum",
            Aggregation::Mean => "mean",
        };
        self.h3_layers.push(format!(
            r#"{name:?}:{{"aggregation":"{agg}","cells":[{}]}}"#,
            cells.join(",")
        ));
    }

    fn write(&self, dir: &Path) -> String {
        std::fs::write(dir.join(self.file), self.builder.encode()).unwrap();
        let t = self.builder.tile();
        let o = self.builder.options();
        format!(
            r#"{{"file":"{}","z":{},"x":{},"y":{},"extent":{},"buffer":{},"layers":{{{}}},"h3_layers":{{{}}}}}"#,
            self.file,
            t.z(),
            t.x(),
            t.y(),
            o.extent,
            o.buffer,
            self.layers.join(","),
            self.h3_layers.join(",")
        )
    }
}

fn points_case() -> Case {
    let mut case = Case::new("points.mvt");
    let mut typed = source(1, Point(at(0.5, 0.5)), Some(1));
    typed.properties = vec![
        ("name", Value::from("centre")),
        ("priority", Value::Int(-3)),
        ("households", Value::Uint(120)),
        ("score", Value::Double(0.125)),
        ("weight", Value::Float(1.5)),
        ("open", Value::Bool(true)),
    ];
    case.layer(
        "points",
        &[
            typed,
            // In the buffer, west of the tile.
            source(2, Point(at(-0.01, 0.3)), Some(1)),
            // Outside the buffer: no feature.
            source(3, Point(at(-0.1, 0.3)), None),
            // Three of four inside the buffer.
            source(
                4,
                MultiPoint::new(vec![
                    Point(at(0.1, 0.1)),
                    Point(at(0.9, 0.9)),
                    Point(at(1.005, 0.5)),
                    Point(at(1.5, 0.5)),
                ]),
                Some(3),
            ),
            source(5, Point(at(0.0, 0.0)), Some(1)),
        ],
    );
    case
}

fn lines_case() -> Case {
    let mut case = Case::new("lines.mvt");
    // A dense line: many vertices round to the same integer point.
    let dense: Vec<Coord<f64>> = (0..2000)
        .map(|i| {
            at(
                0.2 + f64::from(i) * 0.000_01,
                0.7 + f64::from(i % 3) * 0.000_02,
            )
        })
        .collect();
    case.layer(
        "lines",
        &[
            // Out through the east edge and back: two pieces.
            source(
                1,
                ring(&[(0.5, 0.2), (1.5, 0.2), (1.5, 0.4), (0.5, 0.4)]),
                Some(2),
            ),
            // Diagonal through the whole tile and beyond on both sides.
            source(2, ring(&[(-0.5, -0.5), (1.5, 1.5)]), Some(1)),
            // A zigzag across the south edge: several pieces.
            source(
                3,
                ring(&[
                    (0.1, 0.9),
                    (0.2, 1.2),
                    (0.3, 0.9),
                    (0.4, 1.2),
                    (0.5, 0.9),
                    (0.6, 1.2),
                ]),
                Some(3),
            ),
            // Wholly outside.
            source(4, ring(&[(2.0, 2.0), (3.0, 2.0)]), None),
            source(5, LineString::new(dense), Some(1)),
            source(
                6,
                MultiLineString::new(vec![
                    ring(&[(0.1, 0.1), (0.3, 0.15)]),
                    ring(&[(-0.3, 0.5), (-0.2, 0.6)]),
                    ring(&[(0.6, 0.6), (0.62, 0.64), (0.7, 0.6)]),
                ]),
                Some(2),
            ),
        ],
    );
    case
}

fn polygons_case() -> Case {
    let mut case = Case::new("polygons.mvt");
    // Counter-clockwise in lon/lat (which is clockwise once y points down) ...
    let ccw_hole_in_buffer =
        Polygon::new(rect(-0.2, 0.1, 0.4, 0.5), vec![rect(-0.01, 0.2, 0.2, 0.4)]);
    // ... and the same shape wound the other way, further south.
    let mut cw_rings = rect(-0.2, 0.55, 0.4, 0.95);
    cw_rings.0.reverse();
    let mut cw_hole = rect(-0.01, 0.65, 0.2, 0.85);
    cw_hole.0.reverse();
    let clockwise = Polygon::new(cw_rings, vec![cw_hole]);
    // A hole crossing the buffer edge as well: it opens onto the outside.
    let hole_past_buffer = Polygon::new(rect(0.5, -0.3, 1.3, 0.3), vec![rect(0.9, -0.1, 1.1, 0.1)]);
    // A polygon covering the whole tile is the buffered square.
    let cover = Polygon::new(rect(-1.0, -1.0, 2.0, 2.0), vec![]);
    let multi = MultiPolygon::new(vec![
        Polygon::new(rect(0.45, 0.45, 0.55, 0.55), vec![]),
        Polygon::new(rect(2.0, 2.0, 2.5, 2.5), vec![]),
        Polygon::new(rect(0.6, 0.6, 0.7, 0.7), vec![]),
    ]);
    // A circle with 720 vertices crossing the east edge (simplification and clipping at once).
    let circle: Vec<Coord<f64>> = (0..=720)
        .map(|i| {
            let a = f64::from(i) / 720.0 * std::f64::consts::TAU;
            at(0.95 + 0.1 * a.cos(), 0.75 + 0.1 * a.sin())
        })
        .collect();
    case.layer(
        "polygons",
        &[
            source(1, ccw_hole_in_buffer, Some(1)),
            source(2, clockwise, Some(1)),
            source(3, hole_past_buffer, None),
            source(4, cover, Some(1)),
            source(5, multi, Some(2)),
            source(6, Polygon::new(LineString::new(circle), vec![]), Some(1)),
            source(7, Polygon::new(rect(3.0, 3.0, 4.0, 4.0), vec![]), None),
        ],
    );
    case
}

/// Simplification off: rounding alone must drop the repeated points of dense input.
fn unsimplified_case() -> Case {
    let options = TileOptions {
        simplify_tolerance: 0.0,
        ..TileOptions::default()
    };
    let mut case = Case::with_options("unsimplified.mvt", options);
    let dense: Vec<Coord<f64>> = (0..2000)
        .map(|i| {
            at(
                0.2 + f64::from(i) * 0.000_01,
                0.7 + f64::from(i % 3) * 0.000_02,
            )
        })
        .collect();
    // 720 vertices on a circle of radius 20 units: about 0.17 units apart.
    let circle: Vec<Coord<f64>> = (0..=720)
        .map(|i| {
            let a = f64::from(i) / 720.0 * std::f64::consts::TAU;
            at(0.3 + 0.005 * a.cos(), 0.3 + 0.005 * a.sin())
        })
        .collect();
    case.layer(
        "raw",
        &[
            source(1, LineString::new(dense), Some(1)),
            source(2, Polygon::new(LineString::new(circle), vec![]), Some(1)),
        ],
    );
    case
}

fn h3_case() -> Case {
    let mut case = Case::new("h3.mvt");
    // Resolution-11 cells on a lattice over the tile and a margin, with deterministic values;
    // at zoom 14 they roll up to resolution 9.
    let mut cells = Vec::new();
    for i in 0..40_u32 {
        for j in 0..40_u32 {
            let c = at(-0.3 + f64::from(i) * 0.04, -0.3 + f64::from(j) * 0.04);
            let cell = LatLng::new(c.y, c.x).unwrap().to_cell(Resolution::Eleven);
            cells.push((cell, f64::from((i * 7 + j * 3) % 5)));
        }
    }
    case.h3_layer("incidents", &cells, Aggregation::Sum);
    // The same cells, averaged, in a second layer of the same tile.
    case.h3_layer("households", &cells, Aggregation::Mean);
    case
}

#[test]
fn tiles_agree_with_the_reference_decoder() {
    let cases = [
        points_case(),
        lines_case(),
        polygons_case(),
        unsimplified_case(),
        h3_case(),
    ];
    for case in &cases {
        assert!(!case.builder.is_empty(), "{} has features", case.file);
    }
    let Some(python) = reference_python() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("gridwatch-tiles-mvt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let entries: Vec<String> = cases.iter().map(|c| c.write(&dir)).collect();
    let manifest = dir.join("manifest.json");
    std::fs::write(&manifest, format!(r#"{{"tiles":[{}]}}"#, entries.join(","))).unwrap();
    let output = Command::new(python)
        .arg(workspace_root().join("tests/reference/check_mvt.py"))
        .arg(&manifest)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(
        output.status.success(),
        "reference check failed (tiles kept in {}):\n{stdout}\n{stderr}",
        dir.display()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
