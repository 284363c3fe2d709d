//! Tests of the OSM reader against the Helsinki extract shipped in `data/`.

use super::*;
use geo::BoundingRect as _;

fn helsinki() -> Dataset {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/helsinki.osm.pbf");
    read_osm_pbf(&path).expect("the extract reads")
}

#[test]
fn helsinki_buildings_roads_and_attribution() {
    let dataset = helsinki();
    eprintln!(
        "helsinki: {} buildings, {} households, {} roads, {} areas, {} regions",
        dataset.buildings.len(),
        dataset.total_households(),
        dataset.roads.len(),
        dataset.areas.len(),
        dataset.regions.len()
    );
    assert_eq!(dataset.name, "helsinki");
    assert_eq!(dataset.attribution.as_deref(), Some(OSM_ATTRIBUTION));
    assert_eq!(
        dataset.buildings.len(),
        446,
        "the README counts 446 building polygons"
    );
    // The extract's bbox (data/README.md).
    let (min_lon, min_lat, max_lon, max_lat) = (24.9352, 60.1642, 24.9534, 60.1791);
    // osmium's `complete_ways` strategy keeps whole ways that cross the edge: a building may
    // overhang it by a few meters.
    let margin = 0.0005;
    for building in &dataset.buildings {
        assert!(building.footprint.is_valid(), "{:?}", building.source_id);
        let rect = building.footprint.bounding_rect().expect("non-empty");
        assert!(
            rect.min().x >= min_lon - margin
                && rect.max().x <= max_lon + margin
                && rect.min().y >= min_lat - margin
                && rect.max().y <= max_lat + margin,
            "{:?} at {rect:?}",
            building.source_id
        );
        assert!(
            building
                .source_id
                .as_deref()
                .is_some_and(|s| s.starts_with("osm:"))
        );
    }
    assert!(dataset.total_households() > 0);
    // Relation 1858248 has islands sharing a way with its hole: kept, repaired by union.
    let repaired = dataset
        .buildings
        .iter()
        .find(|b| b.source_id.as_deref() == Some("osm:relation/1858248"))
        .expect("the repaired multipolygon is kept");
    let area_m2 = crate::households::footprint_area_m2(&repaired.footprint);
    // Outer 2,310 m² − hole 353 m² + islands 114 m² ≈ 2,072 m² (planar estimate).
    assert!((2000.0..2150.0).contains(&area_m2), "{area_m2}");
    assert!(!dataset.roads.is_empty());
    assert!(
        dataset.roads.iter().any(|r| r.name.is_some()),
        "roads keep their names"
    );
}

#[test]
fn a_missing_file_is_an_error() {
    let err = read_osm_pbf(Path::new("/nonexistent/extract.osm.pbf")).unwrap_err();
    assert!(
        matches!(
            err,
            OsmError::Read {
                pass: "relations",
                ..
            }
        ),
        "{err}"
    );
}
