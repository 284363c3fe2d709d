//! `GeoJSON` import: one `FeatureCollection` of regions and buildings (plus optional base-map
//! lines and areas) into a [`Dataset`].
//!
//! Owns the file format's rules and its rejections ([`GeoJsonError`]): every reason a file is
//! refused names the feature index. Coordinates are degrees (EPSG:4326, lon/lat order, RFC
//! 7946). It reads one file and touches nothing else: no planning, no H3.
//!
//! Which feature becomes what:
//! - `properties.kind` ∈ {`district`, `street`, `community`} → a region (`code`, `name`,
//!   `parent_code`; Polygon, `MultiPolygon` or null geometry).
//! - `households` present → a building (non-negative integer; Polygon/`MultiPolygon`; optional
//!   `kind`, `levels`).
//! - else `building` present → a building whose households come from
//!   [`households::estimate`](crate::households::estimate).
//! - else a (Multi)`LineString` with `highway`, `railway` or `waterway` → a road line.
//! - else a (Multi)Polygon with `natural=water`, `waterway=riverbank`, `leisure=park` or
//!   `kind` ∈ {`water`, `park`} → a base-map area.
//! - anything else is ignored.

mod geometry;

use crate::households;
use crate::model::{
    AreaRecord, BuildingRecord, Dataset, Level, LineRecord, RegionRecord, is_valid_region_code,
};
use geojson::{Feature, GeometryValue, JsonObject, JsonValue};
use std::path::{Path, PathBuf};

/// Why a `GeoJSON` file was refused.
#[derive(Debug, thiserror::Error)]
pub enum GeoJsonError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not JSON.
    #[error("invalid JSON: {source}")]
    Json {
        /// The parser's error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// The top-level object is not a `FeatureCollection`.
    #[error("expected a FeatureCollection, found {found}")]
    NotFeatureCollection {
        /// The `type` found, or a description of the value.
        found: String,
    },
    /// A feature is not a well-formed `GeoJSON` Feature.
    #[error("feature {index}: malformed feature: {reason}")]
    MalformedFeature {
        /// Position in `features`.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// A feature has no geometry where one is required.
    #[error("feature {index}: a {role} needs a geometry")]
    MissingGeometry {
        /// Position in `features`.
        index: usize,
        /// What the feature was read as.
        role: &'static str,
    },
    /// A feature has a geometry of the wrong type.
    #[error("feature {index}: a {role} needs a Polygon or MultiPolygon, found {found}")]
    WrongGeometryType {
        /// Position in `features`.
        index: usize,
        /// What the feature was read as.
        role: &'static str,
        /// The geometry type found.
        found: &'static str,
    },
    /// A coordinate is NaN, infinite, or outside lon −180..180 / lat −90..90.
    #[error("feature {index}: coordinate ({lon}, {lat}) out of range or not a number")]
    CoordinateOutOfRange {
        /// Position in `features`.
        index: usize,
        /// Longitude in degrees.
        lon: f64,
        /// Latitude in degrees.
        lat: f64,
    },
    /// A polygon ring's last position differs from its first.
    #[error("feature {index}: polygon {polygon} ring {ring} is not closed")]
    UnclosedRing {
        /// Position in `features`.
        index: usize,
        /// Polygon within the geometry.
        polygon: usize,
        /// Ring within the polygon (0 = exterior).
        ring: usize,
    },
    /// A polygon ring has fewer than 4 positions.
    #[error(
        "feature {index}: polygon {polygon} ring {ring} has {points} positions, at least 4 needed"
    )]
    TooFewPoints {
        /// Position in `features`.
        index: usize,
        /// Polygon within the geometry.
        polygon: usize,
        /// Ring within the polygon (0 = exterior).
        ring: usize,
        /// Positions found.
        points: usize,
    },
    /// The polygon fails geo's validity rules (self-intersection, holes outside, overlaps).
    #[error("feature {index}: invalid polygon: {reason}")]
    InvalidPolygon {
        /// Position in `features`.
        index: usize,
        /// geo's validation message.
        reason: String,
    },
    /// `households` is negative.
    #[error("feature {index}: households must not be negative, found {value}")]
    NegativeHouseholds {
        /// Position in `features`.
        index: usize,
        /// The value as written.
        value: String,
    },
    /// `households` is not an integer (a fraction, a string, ...).
    #[error("feature {index}: households must be a non-negative integer, found {value}")]
    NonIntegerHouseholds {
        /// Position in `features`.
        index: usize,
        /// The value as written.
        value: String,
    },
    /// A region code has the wrong number of digits for its level.
    #[error("feature {index}: {level:?} code must be {expected} digits, found {code:?}")]
    BadRegionCode {
        /// Position in `features`.
        index: usize,
        /// The level the code belongs to.
        level: Level,
        /// The code as written.
        code: String,
        /// Digits required.
        expected: usize,
    },
    /// A property has the wrong type or value.
    #[error("feature {index}: property {name:?}: {reason}")]
    BadProperty {
        /// Position in `features`.
        index: usize,
        /// The property.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// Reads a `GeoJSON` `FeatureCollection` file (degrees, EPSG:4326, lon/lat order).
///
/// The dataset is named after the file stem. See the module doc for which feature becomes
/// what and [`GeoJsonError`] for the rejections.
pub fn read_geojson(path: &Path) -> Result<Dataset, GeoJsonError> {
    let text = std::fs::read_to_string(path).map_err(|source| GeoJsonError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut dataset = parse_geojson(&text)?;
    if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
        stem.clone_into(&mut dataset.name);
    }
    Ok(dataset)
}

/// Parses `GeoJSON` `FeatureCollection` text (degrees, EPSG:4326, lon/lat order).
///
/// The dataset is named after a top-level `name` member, else `geojson`; a top-level
/// `attribution` string is kept.
pub fn parse_geojson(text: &str) -> Result<Dataset, GeoJsonError> {
    let value: JsonValue =
        serde_json::from_str(text).map_err(|source| GeoJsonError::Json { source })?;
    let JsonValue::Object(mut top) = value else {
        return Err(GeoJsonError::NotFeatureCollection {
            found: json_kind(&value).to_owned(),
        });
    };
    match top.get("type").and_then(JsonValue::as_str) {
        Some("FeatureCollection") => {}
        Some(other) => {
            return Err(GeoJsonError::NotFeatureCollection {
                found: other.to_owned(),
            });
        }
        None => {
            return Err(GeoJsonError::NotFeatureCollection {
                found: "an object without a type".to_owned(),
            });
        }
    }
    let Some(JsonValue::Array(features)) = top.remove("features") else {
        return Err(GeoJsonError::NotFeatureCollection {
            found: "a FeatureCollection without a features array".to_owned(),
        });
    };
    let mut dataset = Dataset {
        name: top
            .get("name")
            .and_then(JsonValue::as_str)
            .unwrap_or("geojson")
            .to_owned(),
        attribution: top
            .get("attribution")
            .and_then(JsonValue::as_str)
            .map(str::to_owned),
        ..Dataset::default()
    };
    for (index, raw) in features.into_iter().enumerate() {
        let feature: Feature =
            serde_json::from_value(raw).map_err(|e| GeoJsonError::MalformedFeature {
                index,
                reason: e.to_string(),
            })?;
        read_feature(index, &feature, &mut dataset)?;
    }
    Ok(dataset)
}

fn json_kind(value: &JsonValue) -> &'static str {
    match value {
        JsonValue::Null => "null",
        JsonValue::Bool(_) => "a boolean",
        JsonValue::Number(_) => "a number",
        JsonValue::String(_) => "a string",
        JsonValue::Array(_) => "an array",
        JsonValue::Object(_) => "an object",
    }
}

fn read_feature(
    index: usize,
    feature: &Feature,
    dataset: &mut Dataset,
) -> Result<(), GeoJsonError> {
    let empty = JsonObject::new();
    let props = feature.properties.as_ref().unwrap_or(&empty);
    let kind = props.get("kind").and_then(JsonValue::as_str);
    let value = feature.geometry.as_ref().map(|g| &g.value);
    if let Some(level) = kind.and_then(Level::from_name) {
        dataset
            .regions
            .push(read_region(index, level, props, value)?);
    } else if props.contains_key("households") || props.contains_key("building") {
        dataset
            .buildings
            .push(read_building(index, feature, props, value)?);
    } else if let Some(value) = value {
        read_base_map(index, props, value, dataset)?;
    }
    Ok(())
}

fn read_region(
    index: usize,
    level: Level,
    props: &JsonObject,
    geometry: Option<&GeometryValue>,
) -> Result<RegionRecord, GeoJsonError> {
    let code =
        region_code(index, level, props.get("code"), "code")?.ok_or(GeoJsonError::BadProperty {
            index,
            name: "code",
            reason: "a region needs a code".to_owned(),
        })?;
    let parent_code = match level.parent() {
        Some(parent) => region_code(index, parent, props.get("parent_code"), "parent_code")?,
        None => None,
    };
    let name = match props.get("name") {
        None | Some(JsonValue::Null) => code.clone(),
        Some(JsonValue::String(name)) => name.clone(),
        Some(other) => {
            return Err(GeoJsonError::BadProperty {
                index,
                name: "name",
                reason: format!("expected a string, found {}", json_kind(other)),
            });
        }
    };
    let boundary = match geometry {
        None => None,
        Some(value) => Some(geometry::to_multi_polygon(index, "region", value)?),
    };
    Ok(RegionRecord {
        level,
        code,
        name,
        parent_code,
        boundary,
    })
}

fn region_code(
    index: usize,
    level: Level,
    value: Option<&JsonValue>,
    name: &'static str,
) -> Result<Option<String>, GeoJsonError> {
    match value {
        None | Some(JsonValue::Null) => Ok(None),
        Some(JsonValue::String(code)) if is_valid_region_code(level, code) => {
            Ok(Some(code.clone()))
        }
        Some(JsonValue::String(code)) => Err(GeoJsonError::BadRegionCode {
            index,
            level,
            code: code.clone(),
            expected: level.code_digits(),
        }),
        Some(other) => Err(GeoJsonError::BadProperty {
            index,
            name,
            reason: format!("expected a string of digits, found {}", json_kind(other)),
        }),
    }
}

fn read_building(
    index: usize,
    feature: &Feature,
    props: &JsonObject,
    geometry: Option<&GeometryValue>,
) -> Result<BuildingRecord, GeoJsonError> {
    let geometry = geometry.ok_or(GeoJsonError::MissingGeometry {
        index,
        role: "building",
    })?;
    let footprint = geometry::to_multi_polygon(index, "building", geometry)?;
    let levels = match props.get("levels").or_else(|| props.get("building:levels")) {
        None | Some(JsonValue::Null) => None,
        Some(value) => Some(
            value
                .as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| GeoJsonError::BadProperty {
                    index,
                    name: "levels",
                    reason: format!("expected a non-negative integer, found {value}"),
                })?,
        ),
    };
    let building_value = match props.get("building") {
        Some(JsonValue::String(s)) => Some(s.clone()),
        Some(JsonValue::Bool(true)) => Some("yes".to_owned()),
        _ => None,
    };
    let kind = props
        .get("kind")
        .and_then(JsonValue::as_str)
        .map(str::to_owned)
        .or_else(|| building_value.clone())
        .unwrap_or_else(|| "residential".to_owned());
    let households = match props.get("households") {
        Some(value) => households_value(index, value)?,
        None => households::estimate(households::footprint_area_m2(&footprint), levels, &kind),
    };
    let source_id = props
        .get("source_id")
        .and_then(JsonValue::as_str)
        .map(str::to_owned)
        .or_else(|| {
            feature.id.as_ref().map(|id| match id {
                geojson::feature::Id::String(s) => s.clone(),
                geojson::feature::Id::Number(n) => n.to_string(),
            })
        });
    Ok(BuildingRecord {
        source_id,
        footprint,
        kind,
        levels,
        households,
    })
}

fn households_value(index: usize, value: &JsonValue) -> Result<u32, GeoJsonError> {
    let text = value.to_string();
    let JsonValue::Number(number) = value else {
        return Err(GeoJsonError::NonIntegerHouseholds { index, value: text });
    };
    if let Some(v) = number.as_u64() {
        return u32::try_from(v)
            .map_err(|_| GeoJsonError::NonIntegerHouseholds { index, value: text });
    }
    if number.as_i64().is_some_and(|v| v < 0) {
        return Err(GeoJsonError::NegativeHouseholds { index, value: text });
    }
    match number.as_f64() {
        Some(v) if v < 0.0 => Err(GeoJsonError::NegativeHouseholds { index, value: text }),
        // 12.0 is an integer written as a float; accept it.
        Some(v) if v.fract() == 0.0 && v <= f64::from(u32::MAX) => Ok(households::round_to_u32(v)),
        _ => Err(GeoJsonError::NonIntegerHouseholds { index, value: text }),
    }
}

fn read_base_map(
    index: usize,
    props: &JsonObject,
    value: &GeometryValue,
    dataset: &mut Dataset,
) -> Result<(), GeoJsonError> {
    let tag = |key: &str| props.get(key).and_then(JsonValue::as_str);
    let name = tag("name").map(str::to_owned);
    match value {
        GeometryValue::LineString { .. } | GeometryValue::MultiLineString { .. } => {
            let Some(kind) = tag("highway")
                .or_else(|| tag("railway"))
                .or_else(|| tag("waterway"))
            else {
                return Ok(());
            };
            for line in geometry::to_line_strings(index, value)? {
                dataset.roads.push(LineRecord {
                    kind: kind.to_owned(),
                    name: name.clone(),
                    geometry: line,
                });
            }
        }
        GeometryValue::Polygon { .. } | GeometryValue::MultiPolygon { .. } => {
            let kind = match (tag("kind"), tag("natural"), tag("waterway"), tag("leisure")) {
                (Some(k @ ("water" | "park")), ..) => k,
                (_, Some("water"), ..) | (_, _, Some("riverbank"), _) => "water",
                (.., Some("park")) => "park",
                _ => return Ok(()),
            };
            dataset.areas.push(AreaRecord {
                kind: kind.to_owned(),
                name,
                geometry: geometry::to_multi_polygon(index, "area", value)?,
            });
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests;
