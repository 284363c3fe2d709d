//! Writes a synthetic city as one `GeoJSON` `FeatureCollection` that `gridwatch import geojson` reads:
//! districts, streets and communities with their boundaries, buildings with their households, and the
//! base map's roads and areas. The city is [`synthetic_metropolis`]: `STREETS` copies of the Dongjie
//! street, 12,250 households and about 750 buildings each, so 270 streets are a city of about 10
//! million people (3.3 million households in about 27,000 grids of 100–150).
//!
//! `cargo run --release -p gridwatch-geodata --example city_geojson -- STREETS OUT.geojson [SEED] [SPLIT]`
//!
//! The generator's streets are apartment blocks of about 16 households a building. `SPLIT` (default 1)
//! cuts each building into that many strips side by side, its households shared out among them, for a
//! city of smaller buildings: `270 FILE 1 5` is 3.3 million households in about 1 million buildings.
//! The same arguments always write the same file. `server/benches/city_startup.sh` imports it and
//! starts a node on it.

use std::fmt::Write as _;
use std::io::{BufWriter, Write as _};

use geo::{BoundingRect as _, LineString, MultiPolygon, Rect, coord};
use gridwatch_geodata::{BuildingRecord, Dataset, synthetic_metropolis};
use serde_json::{Value, json};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [streets, out, rest @ ..] = args.as_slice() else {
        return Err("usage: city_geojson STREETS OUT.geojson [SEED]".into());
    };
    let streets: usize = streets.parse()?;
    let seed: u64 = rest.first().map_or(Ok(1), |s| s.parse())?;
    let split: u32 = rest.get(1).map_or(Ok(1), |s| s.parse())?;
    let started = std::time::Instant::now();
    let mut city = synthetic_metropolis(seed, streets);
    if split > 1 {
        city.buildings = city
            .buildings
            .iter()
            .flat_map(|b| strips(b, split))
            .collect();
    }
    let file = std::fs::File::create(out)?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    write_city(&city, &mut w)?;
    w.flush()?;
    eprintln!(
        "{out}: {streets} streets, {} regions, {} buildings, {} households, {} roads, {} areas, in {:.1} s",
        city.regions.len(),
        city.buildings.len(),
        city.total_households(),
        city.roads.len(),
        city.areas.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `building` cut into `n` strips of equal width (west to east) across its bounding box, its households
/// shared out as evenly as whole numbers allow (the first strips take the remainder).
fn strips(building: &BuildingRecord, n: u32) -> Vec<BuildingRecord> {
    let Some(bbox) = building.footprint.bounding_rect() else {
        return vec![building.clone()];
    };
    let width = bbox.width() / f64::from(n);
    (0..n)
        .map(|i| {
            let west = bbox.min().x + width * f64::from(i);
            let strip = Rect::new(
                coord! { x: west, y: bbox.min().y },
                coord! { x: west + width, y: bbox.max().y },
            );
            BuildingRecord {
                source_id: None,
                footprint: MultiPolygon(vec![strip.to_polygon()]),
                kind: building.kind.clone(),
                levels: building.levels,
                households: building.households / n + u32::from(i < building.households % n),
            }
        })
        .collect()
}

/// One feature a line, so the file streams and a diff of two runs reads.
fn write_city(city: &Dataset, w: &mut impl std::io::Write) -> std::io::Result<()> {
    writeln!(w, "{{\"type\":\"FeatureCollection\",\"features\":[")?;
    let mut first = true;
    let mut feature = |w: &mut dyn std::io::Write, geometry: String, properties: Value| {
        let comma = if first { "" } else { "," };
        first = false;
        writeln!(
            w,
            "{comma}{{\"type\":\"Feature\",\"geometry\":{geometry},\"properties\":{properties}}}"
        )
    };
    for region in &city.regions {
        let geometry = region
            .boundary
            .as_ref()
            .map_or_else(|| "null".to_owned(), multi_polygon);
        let properties = json!({"kind": region.level.as_str(), "code": region.code,
            "name": region.name, "parent_code": region.parent_code});
        feature(w, geometry, properties)?;
    }
    for building in &city.buildings {
        let properties = json!({"households": building.households, "kind": building.kind,
            "levels": building.levels});
        feature(w, multi_polygon(&building.footprint), properties)?;
    }
    for road in &city.roads {
        let key = match road.kind.as_str() {
            "rail" | "light_rail" | "subway" | "tram" => "railway",
            "river" | "canal" | "stream" | "drain" => "waterway",
            _ => "highway",
        };
        let mut properties = json!({"name": road.name});
        properties[key] = json!(road.kind);
        feature(w, line_string(&road.geometry), properties)?;
    }
    for area in &city.areas {
        let properties = json!({"kind": area.kind, "name": area.name});
        feature(w, multi_polygon(&area.geometry), properties)?;
    }
    writeln!(w, "]}}")
}

fn ring(ring: &LineString<f64>, out: &mut String) {
    out.push('[');
    for (i, c) in ring.coords().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "[{},{}]", c.x, c.y);
    }
    out.push(']');
}

fn multi_polygon(polygons: &MultiPolygon<f64>) -> String {
    let mut out = String::from("{\"type\":\"MultiPolygon\",\"coordinates\":[");
    for (i, polygon) in polygons.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        ring(polygon.exterior(), &mut out);
        for hole in polygon.interiors() {
            out.push(',');
            ring(hole, &mut out);
        }
        out.push(']');
    }
    out.push_str("]}");
    out
}

fn line_string(line: &LineString<f64>) -> String {
    let mut out = String::from("{\"type\":\"LineString\",\"coordinates\":");
    ring(line, &mut out);
    out.push('}');
    out
}
