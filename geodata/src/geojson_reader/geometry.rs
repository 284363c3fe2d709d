//! `GeoJSON` positions to `geo` shapes, with the checks RFC 7946 and geo's validity rules ask
//! for. Degrees (EPSG:4326, lon/lat order) in and out; owns no other concern.

use super::GeoJsonError;
use geo::{Coord, LineString, MultiPolygon, Polygon, Validation as _};
use geojson::{GeometryValue, PolygonType, Position};

/// A Polygon or `MultiPolygon` value as a checked `MultiPolygon` in degrees (lon/lat).
pub(super) fn to_multi_polygon(
    index: usize,
    role: &'static str,
    value: &GeometryValue,
) -> Result<MultiPolygon<f64>, GeoJsonError> {
    let polygons: Vec<&PolygonType> = match value {
        GeometryValue::Polygon { coordinates } => vec![coordinates],
        GeometryValue::MultiPolygon { coordinates } => coordinates.iter().collect(),
        other => {
            return Err(GeoJsonError::WrongGeometryType {
                index,
                role,
                found: other.type_name(),
            });
        }
    };
    let mut out = Vec::with_capacity(polygons.len());
    for (p, rings) in polygons.into_iter().enumerate() {
        let mut converted = Vec::with_capacity(rings.len());
        for (r, ring) in rings.iter().enumerate() {
            if ring.len() < 4 {
                return Err(GeoJsonError::TooFewPoints {
                    index,
                    polygon: p,
                    ring: r,
                    points: ring.len(),
                });
            }
            let coords = positions(index, ring)?;
            // geo closes rings silently; RFC 7946 requires the file to close them.
            if coords.first() != coords.last() {
                return Err(GeoJsonError::UnclosedRing {
                    index,
                    polygon: p,
                    ring: r,
                });
            }
            converted.push(LineString::new(coords));
        }
        let mut rings = converted.into_iter();
        let Some(exterior) = rings.next() else {
            return Err(GeoJsonError::TooFewPoints {
                index,
                polygon: p,
                ring: 0,
                points: 0,
            });
        };
        out.push(Polygon::new(exterior, rings.collect()));
    }
    let multi = MultiPolygon::new(out);
    multi
        .check_validation()
        .map_err(|e| GeoJsonError::InvalidPolygon {
            index,
            reason: e.to_string(),
        })?;
    Ok(multi)
}

/// A `LineString` or `MultiLineString` value as line strings in degrees (lon/lat).
pub(super) fn to_line_strings(
    index: usize,
    value: &GeometryValue,
) -> Result<Vec<LineString<f64>>, GeoJsonError> {
    let lines: Vec<&Vec<Position>> = match value {
        GeometryValue::LineString { coordinates } => vec![coordinates],
        GeometryValue::MultiLineString { coordinates } => coordinates.iter().collect(),
        _ => Vec::new(),
    };
    lines
        .into_iter()
        .filter(|line| line.len() >= 2)
        .map(|line| positions(index, line).map(LineString::new))
        .collect()
}

fn positions(index: usize, positions: &[Position]) -> Result<Vec<Coord<f64>>, GeoJsonError> {
    positions
        .iter()
        .map(|pos| {
            let (lon, lat) = match pos.as_slice() {
                [lon, lat, ..] => (*lon, *lat),
                _ => (f64::NAN, f64::NAN),
            };
            let in_range = lon.is_finite()
                && lat.is_finite()
                && (-180.0..=180.0).contains(&lon)
                && (-90.0..=90.0).contains(&lat);
            if in_range {
                Ok(Coord { x: lon, y: lat })
            } else {
                Err(GeoJsonError::CoordinateOutOfRange { index, lon, lat })
            }
        })
        .collect()
}
