//! GeoJSON (RFC 7946, lon/lat order, EPSG:4326 degrees) in and out, and the `bbox` query parameter.
//!
//! Input polygons are checked strictly before anything is stored: at most [`MAX_AREA_PARTS`] polygons,
//! [`MAX_AREA_RINGS`] rings and [`MAX_AREA_VERTICES`] positions (refused at once, before any geometry
//! is built), closed rings of at least four positions, finite coordinates in range, then geo's OGC
//! validity (no self-intersection, holes inside, parts apart: `gridwatch_geodata::validity`). Validity
//! costs more than linear time, so it runs on the blocking pool, at most [`concurrent_checks`] at once,
//! and gives up after [`VALIDITY_BUDGET`]: no polygon holds an async worker thread.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use geo::{BoundingRect, Coord, LineString, MultiPolygon, Polygon, Rect};
use gridwatch_geodata::validity::{self, ValidityError};
use serde_json::{Map, Value, json};
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// Most polygons one input area may have. A community, a street or an alert area is one polygon or a
/// few (a district with exclaves, a handful more); a building footprint is one.
pub const MAX_AREA_PARTS: usize = 100;
/// Most rings (shells and holes together) one input area may have.
pub const MAX_AREA_RINGS: usize = 500;
/// Most positions in all the rings of one input area. A grid's outline traced around its H3 cells has
/// a few hundred, a street or a district from OpenStreetMap a few thousand.
pub const MAX_AREA_VERTICES: usize = 20_000;
/// The longest the validity of one area may be checked for; an area that takes longer is refused.
pub const VALIDITY_BUDGET: Duration = Duration::from_secs(2);
/// The longest an area waits for a turn to be checked before the server answers that it is busy.
const VALIDITY_QUEUE_WAIT: Duration = Duration::from_secs(5);

/// Areas checked at once: half the cores (at least one), so checks never take every core from the
/// async threads that answer everything else.
#[must_use]
pub fn concurrent_checks() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

static CHECKS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(concurrent_checks()));

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

    /// Whether a point lies in the box, edges included.
    #[must_use]
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        let [a, b, c, d] = self.0;
        a <= lon && lon <= c && b <= lat && lat <= d
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
pub async fn area_feature(
    value: &Value,
) -> Result<(MultiPolygon<f64>, Map<String, Value>), ApiError> {
    if value.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err(ApiError::invalid("body must be a GeoJSON Feature"));
    }
    let geometry = value
        .get("geometry")
        .ok_or_else(|| ApiError::geometry("the feature has no geometry"))?;
    let shape = area_geometry(geometry).await?;
    let properties = match value.get("properties") {
        Some(Value::Object(map)) => map.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(_) => return Err(ApiError::invalid("properties must be an object")),
    };
    Ok((shape, properties))
}

/// Reads and checks a `Polygon` or `MultiPolygon` geometry object: its size against the caps at once,
/// then its positions, then its validity off the async threads (see the module docs).
pub async fn area_geometry(geometry: &Value) -> Result<MultiPolygon<f64>, ApiError> {
    let shape = area_shape(geometry)?;
    checked_validity(shape).await
}

/// The shape of a `Polygon` or `MultiPolygon` geometry object, its size capped and its positions in
/// range, but its validity not checked yet.
fn area_shape(geometry: &Value) -> Result<MultiPolygon<f64>, ApiError> {
    let coordinates = geometry
        .get("coordinates")
        .ok_or_else(|| ApiError::geometry("the geometry has no coordinates"))?;
    let shape = match geometry.get("type").and_then(Value::as_str) {
        Some("Polygon") => {
            check_size(std::slice::from_ref(coordinates))?;
            MultiPolygon(vec![polygon(coordinates)?])
        }
        Some("MultiPolygon") => {
            let parts = array(coordinates, "coordinates")?;
            check_size(parts)?;
            MultiPolygon(parts.iter().map(polygon).collect::<Result<_, _>>()?)
        }
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
    Ok(shape)
}

/// Refuses an area over a cap before anything is built from it: one pass over the arrays' lengths.
/// What is not an array is left for the parser to refuse.
fn check_size(parts: &[Value]) -> Result<(), ApiError> {
    let too_many = |what: &str, limit: &str, max: usize, got: usize| {
        ApiError::geometry(format!(
            "an area may have at most {max} {what}; this one has {got}"
        ))
        .with("limit", limit)
        .with("max", max)
    };
    if parts.len() > MAX_AREA_PARTS {
        return Err(too_many("polygons", "parts", MAX_AREA_PARTS, parts.len()));
    }
    let (mut rings, mut vertices) = (0_usize, 0_usize);
    for part in parts {
        for ring in part.as_array().into_iter().flatten() {
            rings += 1;
            vertices += ring.as_array().map_or(0, Vec::len);
        }
    }
    if rings > MAX_AREA_RINGS {
        return Err(too_many("rings", "rings", MAX_AREA_RINGS, rings));
    }
    if vertices > MAX_AREA_VERTICES {
        return Err(too_many(
            "positions",
            "vertices",
            MAX_AREA_VERTICES,
            vertices,
        ));
    }
    Ok(())
}

/// Checks the shape's validity on the blocking pool, at most [`concurrent_checks`] at once, within
/// [`VALIDITY_BUDGET`] from its turn; the async thread only waits.
async fn checked_validity(shape: MultiPolygon<f64>) -> Result<MultiPolygon<f64>, ApiError> {
    let permit = tokio::time::timeout(VALIDITY_QUEUE_WAIT, CHECKS.acquire())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| {
            ApiError::unavailable("the server is busy checking other polygons; send again")
        })?;
    let deadline = Instant::now() + VALIDITY_BUDGET;
    let checked = tokio::task::spawn_blocking(move || {
        let _turn = permit;
        validity::check(&shape, deadline).map(|()| shape)
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "a polygon check failed");
        ApiError::internal()
    })?;
    checked.map_err(|error| match error {
        ValidityError::Invalid(_) => ApiError::geometry(error.to_string()),
        ValidityError::OutOfTime => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-geometry",
            format!(
                "the area could not be checked within {} ms; send fewer positions or polygons",
                VALIDITY_BUDGET.as_millis()
            ),
        )
        .with("limit", "time")
        .with("max", VALIDITY_BUDGET.as_millis().to_string()),
    })
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
#[allow(clippy::cast_precision_loss)] // indexes of a few thousand points as angles
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

    #[tokio::test]
    async fn polygon_checks() {
        let square = json!({"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1],[0,0]]]});
        assert!(area_geometry(&square).await.is_ok());
        let bowtie = json!({"type": "Polygon", "coordinates": [[[0,0],[1,1],[1,0],[0,1],[0,0]]]});
        assert!(area_geometry(&bowtie).await.is_err());
        let unclosed = json!({"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1]]]});
        assert!(area_geometry(&unclosed).await.is_err());
        let out = json!({"type": "Polygon", "coordinates": [[[0,0],[200,0],[1,1],[0,0]]]});
        assert!(area_geometry(&out).await.is_err());
        let point = json!({"type": "Point", "coordinates": [0,0]});
        assert!(area_geometry(&point).await.is_err());
    }

    /// The caps are checked on the arrays' lengths, before a polygon is built: the problem names the
    /// cap, its limit and the count.
    #[test]
    fn areas_over_a_cap_are_refused_naming_it() {
        let triangle = json!([[[0, 0], [1, 0], [0, 1], [0, 0]]]);
        let parts =
            |n: usize| json!({"type": "MultiPolygon", "coordinates": vec![triangle.clone(); n]});
        assert!(area_shape(&parts(MAX_AREA_PARTS)).is_ok());
        let refused = area_shape(&parts(MAX_AREA_PARTS + 1)).expect_err("over the cap");
        assert_eq!(
            (
                refused.status.as_u16(),
                refused.slug,
                refused.detail.as_str()
            ),
            (
                422,
                "invalid-geometry",
                "an area may have at most 100 polygons; this one has 101"
            )
        );
        assert_eq!(
            (&refused.extra["limit"], &refused.extra["max"]),
            (&json!("parts"), &json!(MAX_AREA_PARTS))
        );

        // A ring of MAX_AREA_VERTICES + 1 positions (a many-sided polygon, valid but for its size).
        let ring = |n: usize| -> Value {
            let mut ring: Vec<Value> = (0..n - 1)
                .map(|i| {
                    let a = std::f64::consts::TAU * i as f64 / (n - 1) as f64;
                    json!([a.cos(), a.sin()])
                })
                .collect();
            ring.push(ring[0].clone());
            Value::Array(ring)
        };
        let big = json!({"type": "Polygon", "coordinates": [ring(MAX_AREA_VERTICES + 1)]});
        let refused = area_shape(&big).expect_err("over the cap");
        assert_eq!(refused.extra["limit"], "vertices");
        let holes: Vec<Value> = (0..=MAX_AREA_RINGS).map(|_| ring(4)).collect();
        let refused = area_shape(&json!({"type": "Polygon", "coordinates": holes}))
            .expect_err("over the cap");
        assert_eq!(refused.extra["limit"], "rings");
    }

    /// A valid polygon at the vertex cap is checked (off the async threads) and accepted.
    #[tokio::test]
    async fn a_polygon_at_the_vertex_cap_is_accepted() {
        let n = MAX_AREA_VERTICES;
        let mut ring: Vec<Value> = (0..n - 1)
            .map(|i| {
                let a = std::f64::consts::TAU * i as f64 / (n - 1) as f64;
                json!([113.0 + 0.01 * a.cos(), 36.0 + 0.01 * a.sin()])
            })
            .collect();
        ring.push(ring[0].clone());
        let circle = json!({"type": "Polygon", "coordinates": [ring]});
        let shape = area_geometry(&circle).await.expect("valid");
        assert_eq!(shape.0[0].exterior().0.len(), n);
    }
}
