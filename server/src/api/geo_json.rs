//! GeoJSON (RFC 7946, lon/lat order, EPSG:4326 degrees) in and out, and the `bbox` query parameter.
//!
//! Input polygons are checked strictly before anything is stored: closed rings of at least four
//! positions, finite coordinates in range, and geo's OGC validity (no self-intersection, holes inside).

use geo::{BoundingRect, Coord, LineString, MultiPolygon, Polygon, Rect, Validation};
use serde_json::{Map, Value, json};

use crate::error::ApiError;

/// A `bbox=minLon,minLat,maxLon,maxLat` filter, degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bbox(pub [f64; 4]);

impl Bbox {
    /// Parses and checks the four numbers: finite, in range, min ≤ max.
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        let bad = |why: &str| {
            ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "invalid-bbox",
                format!("bbox {text:?}: {why}; expected minLon,minLat,maxLon,maxLat in degrees"),
            )
        };
        let parts: Vec<f64> = text
            .split(',')
            .map(|p| p.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| bad("not four numbers"))?;
        let [min_lon, min_lat, max_lon, max_lat] = parts[..] else {
            return Err(bad("not four numbers"));
        };
        if parts.iter().any(|v| !v.is_finite()) {
            return Err(bad("not finite"));
        }
        if !(-180.0..=180.0).contains(&min_lon) || !(-180.0..=180.0).contains(&max_lon) {
            return Err(bad("longitude out of -180..180"));
        }
        if !(-90.0..=90.0).contains(&min_lat) || !(-90.0..=90.0).contains(&max_lat) {
            return Err(bad("latitude out of -90..90"));
        }
        if min_lon > max_lon || min_lat > max_lat {
            return Err(bad("min greater than max"));
        }
        Ok(Self([min_lon, min_lat, max_lon, max_lat]))
    }

    /// Parses an optional query value.
    pub fn parse_opt(text: Option<&str>) -> Result<Option<Self>, ApiError> {
        text.map(Self::parse).transpose()
    }

    #[must_use]
    pub fn intersects(&self, rect: &Rect<f64>) -> bool {
        let [a, b, c, d] = self.0;
        rect.min().x <= c && rect.max().x >= a && rect.min().y <= d && rect.max().y >= b
    }

    /// Whether a shape's bounding box meets this box.
    #[must_use]
    pub fn meets(&self, shape: &MultiPolygon<f64>) -> bool {
        shape.bounding_rect().is_some_and(|r| self.intersects(&r))
    }
}

/// A `MultiPolygon` as a GeoJSON geometry object.
#[must_use]
pub fn multipolygon(shape: &MultiPolygon<f64>) -> Value {
    let ring = |ls: &LineString<f64>| -> Value { ls.0.iter().map(|c| json!([c.x, c.y])).collect() };
    let polygons: Vec<Value> = shape
        .0
        .iter()
        .map(|p| {
            std::iter::once(ring(p.exterior()))
                .chain(p.interiors().iter().map(ring))
                .collect()
        })
        .collect();
    json!({"type": "MultiPolygon", "coordinates": polygons})
}

/// The shape of every GeoJSON Feature the API answers ([`feature`]), as the OpenAPI document's
/// `Feature`: geometry in degrees (EPSG:4326, lon/lat order) or `null`; each operation says what its
/// `properties` hold.
#[derive(utoipa::ToSchema)]
#[schema(as = Feature)]
#[allow(
    dead_code,
    reason = "only its schema is used: features are built by `feature`"
)]
pub struct FeatureShape {
    r#type: FeatureTag,
    id: i64,
    #[schema(value_type = Option<Object>)]
    geometry: Option<Value>,
    #[schema(value_type = Object)]
    properties: Value,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "only its schema is used")]
enum FeatureTag {
    Feature,
}

/// The shape of every GeoJSON `FeatureCollection` the API answers ([`collection`]), as the OpenAPI
/// document's `FeatureCollection`; a list may add members (`truncated`, `total`, `limit`, `offset`).
#[derive(utoipa::ToSchema)]
#[schema(as = FeatureCollection)]
#[allow(
    dead_code,
    reason = "only its schema is used: collections are built by `collection`"
)]
pub struct CollectionShape {
    r#type: CollectionTag,
    features: Vec<FeatureShape>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "only its schema is used")]
enum CollectionTag {
    FeatureCollection,
}

/// A GeoJSON Feature.
#[must_use]
pub fn feature(id: i64, geometry: Option<Value>, properties: Map<String, Value>) -> Value {
    let mut f = Map::with_capacity(4);
    f.insert("type".into(), Value::from("Feature"));
    f.insert("id".into(), Value::from(id));
    f.insert("geometry".into(), geometry.unwrap_or(Value::Null));
    f.insert("properties".into(), Value::Object(properties));
    Value::Object(f)
}

/// A GeoJSON `FeatureCollection`.
#[must_use]
pub fn collection(features: Vec<Value>) -> Value {
    let mut c = Map::with_capacity(2);
    c.insert("type".into(), Value::from("FeatureCollection"));
    c.insert("features".into(), Value::Array(features));
    Value::Object(c)
}

/// Reads a Feature whose geometry is a `Polygon` or `MultiPolygon`; returns the checked shape and the
/// feature's properties.
pub fn area_feature(value: &Value) -> Result<(MultiPolygon<f64>, Map<String, Value>), ApiError> {
    if value.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err(ApiError::invalid("body must be a GeoJSON Feature"));
    }
    let geometry = value
        .get("geometry")
        .ok_or_else(|| ApiError::geometry("the feature has no geometry"))?;
    let shape = area_geometry(geometry)?;
    let properties = match value.get("properties") {
        Some(Value::Object(map)) => map.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(_) => return Err(ApiError::invalid("properties must be an object")),
    };
    Ok((shape, properties))
}

/// Reads and checks a `Polygon` or `MultiPolygon` geometry object.
pub fn area_geometry(geometry: &Value) -> Result<MultiPolygon<f64>, ApiError> {
    let coordinates = geometry
        .get("coordinates")
        .ok_or_else(|| ApiError::geometry("the geometry has no coordinates"))?;
    let shape = match geometry.get("type").and_then(Value::as_str) {
        Some("Polygon") => MultiPolygon(vec![polygon(coordinates)?]),
        Some("MultiPolygon") => MultiPolygon(
            array(coordinates, "coordinates")?
                .iter()
                .map(polygon)
                .collect::<Result<_, _>>()?,
        ),
        other => {
            return Err(ApiError::geometry(format!(
                "geometry type must be `Polygon` or `MultiPolygon`, not {}",
                other.unwrap_or("missing")
            )));
        }
    };
    if shape.0.is_empty() {
        return Err(ApiError::geometry("the MultiPolygon is empty"));
    }
    if let Some(problem) = shape.validation_errors().first() {
        return Err(ApiError::geometry(format!("invalid polygon: {problem}")));
    }
    Ok(shape)
}

fn array<'a>(value: &'a Value, what: &str) -> Result<&'a Vec<Value>, ApiError> {
    value
        .as_array()
        .ok_or_else(|| ApiError::geometry(format!("{what} must be an array")))
}

fn polygon(value: &Value) -> Result<Polygon<f64>, ApiError> {
    let rings = array(value, "a polygon")?;
    let mut rings = rings.iter().map(ring);
    let exterior = rings
        .next()
        .ok_or_else(|| ApiError::geometry("a polygon needs an exterior ring"))??;
    let interiors = rings.collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon::new(exterior, interiors))
}

fn ring(value: &Value) -> Result<LineString<f64>, ApiError> {
    let positions = array(value, "a ring")?;
    let coords = positions
        .iter()
        .map(position)
        .collect::<Result<Vec<_>, _>>()?;
    if coords.len() < 4 {
        return Err(ApiError::geometry(format!(
            "a ring needs at least 4 positions, got {}",
            coords.len()
        )));
    }
    if coords.first() != coords.last() {
        return Err(ApiError::geometry(
            "a ring must be closed: its first and last positions must be equal",
        ));
    }
    Ok(LineString(coords))
}

/// A `[lon, lat]` position, checked for range.
pub fn position(value: &Value) -> Result<Coord<f64>, ApiError> {
    let pair = value
        .as_array()
        .filter(|a| a.len() == 2 || a.len() == 3)
        .ok_or_else(|| ApiError::geometry("a position must be [lon, lat]"))?;
    let (Some(lon), Some(lat)) = (pair[0].as_f64(), pair[1].as_f64()) else {
        return Err(ApiError::geometry("a position must hold numbers"));
    };
    if !lon.is_finite()
        || !(-180.0..=180.0).contains(&lon)
        || !lat.is_finite()
        || !(-90.0..=90.0).contains(&lat)
    {
        return Err(ApiError::geometry(format!(
            "position [{lon}, {lat}] is out of range"
        )));
    }
    Ok(Coord { x: lon, y: lat })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_rejects_bad_input() {
        assert!(Bbox::parse("1,2,3,4").is_ok());
        for bad in [
            "",
            "1,2,3",
            "1,2,3,4,5",
            "a,b,c,d",
            "NaN,0,1,1",
            "0,0,181,1",
            "0,-91,1,1",
            "2,0,1,1",
        ] {
            assert!(Bbox::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn polygon_checks() {
        let square = json!({"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1],[0,0]]]});
        assert!(area_geometry(&square).is_ok());
        let bowtie = json!({"type": "Polygon", "coordinates": [[[0,0],[1,1],[1,0],[0,1],[0,0]]]});
        assert!(area_geometry(&bowtie).is_err());
        let unclosed = json!({"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1]]]});
        assert!(area_geometry(&unclosed).is_err());
        let out = json!({"type": "Polygon", "coordinates": [[[0,0],[200,0],[1,1],[0,0]]]});
        assert!(area_geometry(&out).is_err());
        let point = json!({"type": "Point", "coordinates": [0,0]});
        assert!(area_geometry(&point).is_err());
    }
}
