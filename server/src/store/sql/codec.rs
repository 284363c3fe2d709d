//! Column encodings both dialects use: `GeoJSON` text for geometry, H3 cells as `i64`, counts as
//! 64-bit integers, scopes as a JSON array of their `region:N` / `grid:N` forms, and timestamps at
//! microsecond precision.

use chrono::{DateTime, SubsecRound, Utc};
use geojson::GeometryValue;
use h3o::{CellIndex, Resolution};
use serde::de::DeserializeOwned;
use serde_json::json;
use sqlx::types::Json;

use super::city::CELL_RESOLUTION;
use crate::domain::event::GridTotals;
use crate::domain::{GridFlag, Scope};
use crate::store::StoreError;
/// The current time at the precision both dialects keep (`PostgreSQL` stores microseconds), so a value
/// returned from a write equals the one read back later.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// `GeoJSON` text of a geometry in degrees (EPSG:4326, lon/lat order). `serde_json` writes the shortest
/// representation that reads back to the same `f64`, so the text round-trips exactly.
pub(crate) fn geojson_text<G>(geometry: &G) -> String
where
    for<'a> GeometryValue: From<&'a G>,
{
    GeometryValue::from(geometry).to_string()
}

/// Reads `GeoJSON` text written by [`geojson_text`] (or `PostGIS` `ST_AsGeoJSON`) back into degrees:
/// a `MultiPolygon` or a `MultiLineString`, as the column holds.
pub(crate) fn geometry_from_text<G>(table: &'static str, text: &str) -> Result<G, StoreError>
where
    G: for<'a> TryFrom<&'a GeometryValue, Error = geojson::Error>,
{
    let geometry: geojson::Geometry = text
        .parse()
        .map_err(|e| corrupt(table, format!("geometry is not GeoJSON: {e}")))?;
    // geojson's error names the type expected and the one found.
    G::try_from(&geometry.value).map_err(|e| corrupt(table, format!("bad geometry: {e}")))
}

/// An H3 index as stored: its 64 bits reinterpreted as `i64`. The top bit of a valid index is always 0,
/// so the stored number is the index itself.
pub(crate) fn cell_to_i64(cell: CellIndex) -> i64 {
    u64::from(cell).cast_signed()
}

pub(crate) fn cell_from_i64(table: &'static str, value: i64) -> Result<CellIndex, StoreError> {
    CellIndex::try_from(value.cast_unsigned())
        .map_err(|e| corrupt(table, format!("bad cell {value}: {e}")))
}

/// A count as read back: `u32` in the domain, a 64-bit integer in both schemas.
pub(crate) fn count(table: &'static str, column: &str, value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| corrupt(table, format!("{column} {value} out of range")))
}

/// A grid's households and building count after a building joined it.
pub(crate) fn grid_totals(households: i64, building_count: i64) -> Result<GridTotals, StoreError> {
    Ok(GridTotals {
        households: count("grids", "households", households)?,
        building_count: count("grids", "building_count", building_count)?,
    })
}

/// Scopes as stored: a JSON array of their `region:N` / `grid:N` forms.
pub(crate) fn scopes_json(scopes: &[Scope]) -> Json<Vec<String>> {
    Json(scopes.iter().map(ToString::to_string).collect())
}

/// A JSON column read back; text that does not decode is `Corrupt`, naming the column.
pub(crate) fn from_json<T: DeserializeOwned>(
    table: &'static str,
    column: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(table, format!("bad {column}: {e}")))
}

pub(crate) fn scopes_from_text(text: &str) -> Result<Vec<Scope>, StoreError> {
    let strings: Vec<String> = from_json("tokens", "scopes", text)?;
    strings
        .iter()
        .map(|s| Scope::parse(s).ok_or_else(|| corrupt("tokens", format!("unknown scope {s:?}"))))
        .collect()
}

pub(crate) fn flag_text(flag: Option<&GridFlag>) -> Option<String> {
    flag.map(|f| json!(f).to_string())
}

pub(crate) fn resolution_text(resolution: Resolution) -> String {
    u8::from(resolution).to_string()
}

pub(crate) fn resolution_from_text(text: &str) -> Result<Resolution, StoreError> {
    text.parse::<u8>()
        .ok()
        .and_then(|r| Resolution::try_from(r).ok())
        .ok_or_else(|| corrupt("settings", format!("bad {CELL_RESOLUTION} {text:?}")))
}

pub(crate) fn corrupt(table: &'static str, reason: String) -> StoreError {
    StoreError::Corrupt { table, reason }
}

pub(crate) fn parse_enum<T>(
    table: &'static str,
    column: &str,
    value: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(value).ok_or_else(|| corrupt(table, format!("unknown {column} {value:?}")))
}

#[cfg(test)]
mod tests {
    use geo::{MultiLineString, MultiPolygon, polygon};

    use super::*;
    use crate::domain::{GridId, RegionId};

    #[test]
    fn geometry_text_round_trips_exactly() {
        let shape = MultiPolygon(vec![polygon![
            (x: 113.112_345_678_901_23, y: 36.190_000_000_000_005),
            (x: 113.1, y: 36.1),
            (x: 113.12, y: 36.15),
        ]]);
        let text = geojson_text(&shape);
        let back: MultiPolygon<f64> = geometry_from_text("t", &text).expect("decodes");
        assert_eq!(back, shape);
        let point = "{\"type\":\"Point\",\"coordinates\":[1,2]}";
        let lines = geometry_from_text::<MultiLineString<f64>>("t", point);
        assert!(matches!(lines, Err(StoreError::Corrupt { .. })));
    }

    #[test]
    fn cells_and_scopes_round_trip() {
        let cell = h3o::LatLng::new(36.19, 113.11)
            .expect("valid point")
            .to_cell(Resolution::Twelve);
        assert_eq!(
            cell_from_i64("t", cell_to_i64(cell)).expect("decodes"),
            cell
        );
        assert!(cell_from_i64("t", -1).is_err());
        let scopes = vec![Scope::Region(RegionId(3)), Scope::Grid(GridId(7))];
        let text = serde_json::to_string(&scopes_json(&scopes).0).expect("serialises");
        assert_eq!(text, r#"["region:3","grid:7"]"#);
        assert_eq!(scopes_from_text(&text).expect("decodes"), scopes);
    }
}
