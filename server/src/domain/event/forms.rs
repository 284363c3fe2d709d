//! How payload fields that are not plain JSON values are written: H3 cells as their hex strings
//! (`"8c40931980689ff"`), geometries as `GeoJSON` geometry objects in degrees (EPSG:4326, lon/lat
//! order). Both read back to the same value: `serde_json` writes the shortest text of each `f64` that
//! parses back to it, and the crate enables `float_roundtrip`.

/// One cell as its hex string (`#[serde(with = "forms::cell")]`).
pub(super) mod cell {
    use h3o::CellIndex;
    use serde::{Deserialize, Deserializer, Serializer};

    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's `with` passes the field by reference
    pub fn serialize<S: Serializer>(cell: &CellIndex, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(cell)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<CellIndex, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A list of cells as hex strings (also a boundary plan's grids, `store::boundary::AssignedGrid`).
pub(crate) mod cells {
    use h3o::CellIndex;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(cells: &[CellIndex], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(cells.iter().map(ToString::to_string))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<CellIndex>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|s| s.parse().map_err(serde::de::Error::custom))
            .collect()
    }
}

/// A `MultiPolygon` as a `GeoJSON` geometry object (`{"type": "MultiPolygon", "coordinates": …}`).
pub(super) mod multi_polygon {
    use geo::MultiPolygon;
    use geojson::GeometryValue;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(shape: &MultiPolygon<f64>, s: S) -> Result<S::Ok, S::Error> {
        GeometryValue::from(shape).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<MultiPolygon<f64>, D::Error> {
        let geometry = GeometryValue::deserialize(d)?;
        MultiPolygon::try_from(&geometry).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use geo::{MultiPolygon, polygon};
    use h3o::CellIndex;
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        #[serde(with = "super::cell")]
        cell: CellIndex,
        #[serde(with = "super::cells")]
        cells: Vec<CellIndex>,
        #[serde(with = "super::multi_polygon")]
        shape: MultiPolygon<f64>,
    }

    #[test]
    fn cells_and_shapes_round_trip_through_their_json_forms() {
        let cell: CellIndex = "8c40931980689ff".parse().expect("a cell");
        let sample = Sample {
            cell,
            cells: vec![cell, cell],
            shape: MultiPolygon(vec![polygon![
                (x: 113.112_345_678_901_23, y: 36.190_000_000_000_005),
                (x: 113.1, y: 36.1),
                (x: 113.12, y: 36.15),
            ]]),
        };
        let value = serde_json::to_value(&sample).expect("serialises");
        assert_eq!(value["cell"], "8c40931980689ff");
        assert_eq!(
            value["cells"],
            json!(["8c40931980689ff", "8c40931980689ff"])
        );
        assert_eq!(value["shape"]["type"], "MultiPolygon");
        assert_eq!(
            value["shape"]["coordinates"][0][0][0],
            json!([113.112_345_678_901_23, 36.190_000_000_000_005])
        );
        let back: Sample = serde_json::from_str(&value.to_string()).expect("decodes");
        assert_eq!(back, sample);
        let point = json!({"cell": "8c40931980689ff", "cells": [], "shape": {"type": "Point", "coordinates": [1.0, 2.0]}});
        assert!(serde_json::from_value::<Sample>(point).is_err());
        let bad_cell = json!({"cell": "zz", "cells": [], "shape": value["shape"]});
        assert!(serde_json::from_value::<Sample>(bad_cell).is_err());
    }
}
