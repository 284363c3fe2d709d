//! Tests of the `GeoJSON` reader: one valid file, and one test per rejection.

use super::*;

const SQUARE: &str =
    "[[[113.10,36.18],[113.11,36.18],[113.11,36.19],[113.10,36.19],[113.10,36.18]]]";
const SMALL: &str = "[[[113.1001,36.1801],[113.1003,36.1801],[113.1003,36.1803],[113.1001,36.1803],[113.1001,36.1801]]]";

fn collection(features: &[String]) -> String {
    format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    )
}

fn feature(props: &str, geometry: &str) -> String {
    format!(r#"{{"type":"Feature","properties":{props},"geometry":{geometry}}}"#)
}

fn polygon(coords: &str) -> String {
    format!(r#"{{"type":"Polygon","coordinates":{coords}}}"#)
}

fn building(households: &str, coords: &str) -> String {
    feature(
        &format!(r#"{{"households":{households}}}"#),
        &polygon(coords),
    )
}

#[test]
fn a_valid_small_file_parses() {
    let text = collection(&[
        feature(
            r#"{"kind":"district","code":"140403","name":"Luzhou"}"#,
            &polygon(SQUARE),
        ),
        feature(
            r#"{"kind":"street","code":"140403001","name":"Dongjie","parent_code":"140403"}"#,
            &polygon(SQUARE),
        ),
        feature(
            r#"{"kind":"community","code":"140403001001","name":"Fuhou","parent_code":"140403001"}"#,
            &polygon(SQUARE),
        ),
        feature(
            r#"{"households":24,"kind":"apartments","levels":6}"#,
            &polygon(SMALL),
        ),
        feature(
            r#"{"building":"apartments","building:levels":5}"#,
            &polygon(SMALL),
        ),
        feature(
            r#"{"highway":"primary","name":"Yingxiong Road"}"#,
            r#"{"type":"LineString","coordinates":[[113.10,36.18],[113.11,36.19]]}"#,
        ),
        feature(r#"{"natural":"water"}"#, &polygon(SMALL)),
        feature(r#"{"note":"ignored"}"#, &polygon(SMALL)),
    ]);
    let dataset = parse_geojson(&text).expect("valid");
    assert_eq!(dataset.regions.len(), 3);
    assert_eq!(dataset.regions[2].level, Level::Community);
    assert_eq!(dataset.regions[2].parent_code.as_deref(), Some("140403001"));
    assert_eq!(dataset.buildings.len(), 2);
    assert_eq!(dataset.buildings[0].households, 24);
    assert_eq!(dataset.buildings[0].kind, "apartments");
    assert_eq!(dataset.buildings[0].levels, Some(6));
    // Estimated: about 18 m × 22 m × 5 storeys ÷ 75 m².
    let estimated = dataset.buildings[1].households;
    assert!((20..=35).contains(&estimated), "{estimated}");
    assert_eq!(dataset.roads.len(), 1);
    assert_eq!(dataset.roads[0].name.as_deref(), Some("Yingxiong Road"));
    assert_eq!(dataset.areas.len(), 1);
    assert_eq!(dataset.areas[0].kind, "water");
}

#[test]
fn reads_a_file_and_names_the_dataset_after_it() {
    let dir = std::env::temp_dir().join(format!("gridwatch-geodata-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("tiny.geojson");
    std::fs::write(&path, collection(&[building("3", SMALL)])).expect("write");
    let dataset = read_geojson(&path).expect("valid");
    assert_eq!(dataset.name, "tiny");
    assert_eq!(dataset.buildings.len(), 1);
    std::fs::remove_dir_all(&dir).ok();
    assert!(matches!(read_geojson(&path), Err(GeoJsonError::Io { .. })));
}

#[test]
fn rejects_invalid_json() {
    let err = parse_geojson(r#"{"type":"FeatureCollection","features":[}"#).unwrap_err();
    assert!(matches!(err, GeoJsonError::Json { .. }), "{err}");
}

#[test]
fn rejects_non_feature_collections() {
    let err = parse_geojson(&building("3", SMALL)).unwrap_err();
    assert!(
        matches!(&err, GeoJsonError::NotFeatureCollection { found } if found == "Feature"),
        "{err}"
    );
    let err = parse_geojson("[1,2]").unwrap_err();
    assert!(
        matches!(err, GeoJsonError::NotFeatureCollection { .. }),
        "{err}"
    );
    let err = parse_geojson(r#"{"type":"FeatureCollection"}"#).unwrap_err();
    assert!(
        matches!(err, GeoJsonError::NotFeatureCollection { .. }),
        "{err}"
    );
}

#[test]
fn rejects_malformed_features() {
    let text = collection(&[
        building("3", SMALL),
        r#"{"type":"Feature","geometry":{"type":"Polygon"}}"#.to_owned(),
    ]);
    let err = parse_geojson(&text).unwrap_err();
    assert!(
        matches!(err, GeoJsonError::MalformedFeature { index: 1, .. }),
        "{err}"
    );
}

#[test]
fn rejects_coordinates_out_of_range() {
    let text = collection(&[building(
        "3",
        "[[[190.0,36.18],[113.11,36.18],[113.11,36.19],[190.0,36.18]]]",
    )]);
    let err = parse_geojson(&text).unwrap_err();
    assert!(
        matches!(err, GeoJsonError::CoordinateOutOfRange { index: 0, lon, .. } if (lon - 190.0).abs() < 1e-9),
        "{err}"
    );
    let text = collection(&[building(
        "3",
        "[[[113.1,36.18],[113.11,-91.0],[113.11,36.19],[113.1,36.18]]]",
    )]);
    let err = parse_geojson(&text).unwrap_err();
    assert!(
        matches!(err, GeoJsonError::CoordinateOutOfRange { index: 0, .. }),
        "{err}"
    );
}

#[test]
fn rejects_non_numbers_in_coordinates() {
    // JSON has no NaN literal; a file that writes one is not JSON.
    let text = collection(&[building(
        "3",
        "[[[NaN,36.18],[113.11,36.18],[113.11,36.19],[113.1,36.18]]]",
    )]);
    assert!(parse_geojson(&text).is_err());
    // A number too large for f64 is refused by the parser rather than turned into infinity.
    let text = collection(&[building(
        "3",
        "[[[1e999,36.18],[113.11,36.18],[113.11,36.19],[113.1,36.18]]]",
    )]);
    assert!(parse_geojson(&text).is_err());
}

#[test]
fn rejects_unclosed_rings() {
    let text = collection(&[
        building("3", SMALL),
        building(
            "3",
            "[[[113.10,36.18],[113.11,36.18],[113.11,36.19],[113.10,36.19]]]",
        ),
    ]);
    let err = parse_geojson(&text).unwrap_err();
    assert!(
        matches!(
            err,
            GeoJsonError::UnclosedRing {
                index: 1,
                polygon: 0,
                ring: 0
            }
        ),
        "{err}"
    );
}

#[test]
fn rejects_rings_with_too_few_points() {
    let text = collection(&[building(
        "3",
        "[[[113.10,36.18],[113.11,36.18],[113.10,36.18]]]",
    )]);
    let err = parse_geojson(&text).unwrap_err();
    assert!(
        matches!(
            err,
            GeoJsonError::TooFewPoints {
                index: 0,
                points: 3,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn rejects_self_intersecting_polygons() {
    // A bow tie.
    let text = collection(&[building(
        "3",
        "[[[113.10,36.18],[113.11,36.19],[113.11,36.18],[113.10,36.19],[113.10,36.18]]]",
    )]);
    let err = parse_geojson(&text).unwrap_err();
    assert!(
        matches!(&err, GeoJsonError::InvalidPolygon { index: 0, reason } if reason.contains("self-intersection")),
        "{err}"
    );
}

#[test]
fn rejects_negative_households() {
    let err = parse_geojson(&collection(&[building("-4", SMALL)])).unwrap_err();
    assert!(
        matches!(err, GeoJsonError::NegativeHouseholds { index: 0, .. }),
        "{err}"
    );
    let err = parse_geojson(&collection(&[building("-4.5", SMALL)])).unwrap_err();
    assert!(
        matches!(err, GeoJsonError::NegativeHouseholds { index: 0, .. }),
        "{err}"
    );
}

#[test]
fn rejects_non_integer_households() {
    let err = parse_geojson(&collection(&[building("2.5", SMALL)])).unwrap_err();
    assert!(
        matches!(err, GeoJsonError::NonIntegerHouseholds { index: 0, .. }),
        "{err}"
    );
    let err = parse_geojson(&collection(&[building(r#""12""#, SMALL)])).unwrap_err();
    assert!(
        matches!(err, GeoJsonError::NonIntegerHouseholds { index: 0, .. }),
        "{err}"
    );
    // An integer written as a float is accepted.
    let dataset =
        parse_geojson(&collection(&[building("12.0", SMALL)])).expect("12.0 is an integer");
    assert_eq!(dataset.buildings[0].households, 12);
}

#[test]
fn rejects_region_codes_with_the_wrong_digit_count() {
    for (props, level) in [
        (r#"{"kind":"district","code":"14040"}"#, Level::District),
        (r#"{"kind":"street","code":"1404030011"}"#, Level::Street),
        (
            r#"{"kind":"community","code":"14040300100A"}"#,
            Level::Community,
        ),
        (
            r#"{"kind":"community","code":"140403001001","parent_code":"140403"}"#,
            Level::Street,
        ),
    ] {
        let err = parse_geojson(&collection(&[feature(props, &polygon(SQUARE))])).unwrap_err();
        assert!(
            matches!(&err, GeoJsonError::BadRegionCode { index: 0, level: l, .. } if *l == level),
            "{props}: {err}"
        );
    }
    let err = parse_geojson(&collection(&[feature(
        r#"{"kind":"district","code":140403}"#,
        &polygon(SQUARE),
    )]))
    .unwrap_err();
    assert!(
        matches!(
            err,
            GeoJsonError::BadProperty {
                index: 0,
                name: "code",
                ..
            }
        ),
        "{err}"
    );
    let err = parse_geojson(&collection(&[feature(
        r#"{"kind":"district"}"#,
        &polygon(SQUARE),
    )]))
    .unwrap_err();
    assert!(
        matches!(
            err,
            GeoJsonError::BadProperty {
                index: 0,
                name: "code",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn rejects_buildings_without_polygons() {
    let point = r#"{"type":"Point","coordinates":[113.1,36.18]}"#;
    let err = parse_geojson(&collection(&[feature(r#"{"households":3}"#, point)])).unwrap_err();
    assert!(
        matches!(
            err,
            GeoJsonError::WrongGeometryType {
                index: 0,
                found: "Point",
                ..
            }
        ),
        "{err}"
    );
    let err = parse_geojson(&collection(&[feature(r#"{"households":3}"#, "null")])).unwrap_err();
    assert!(
        matches!(err, GeoJsonError::MissingGeometry { index: 0, .. }),
        "{err}"
    );
}

#[test]
fn rejects_bad_levels() {
    let err = parse_geojson(&collection(&[feature(
        r#"{"households":3,"levels":-1}"#,
        &polygon(SMALL),
    )]))
    .unwrap_err();
    assert!(
        matches!(
            err,
            GeoJsonError::BadProperty {
                index: 0,
                name: "levels",
                ..
            }
        ),
        "{err}"
    );
}
