//! H3 aggregate layers: values per H3 cell rolled up to a resolution that suits the zoom and
//! drawn as one polygon per cell (the cell outline from h3o, degrees, EPSG:4326).
//!
//! Owns the zoom → resolution table and the roll-up; the encoding is `mvt`'s. Knows nothing of
//! what the values count (incidents, households, …).
//!
//! | zoom  | resolution | cell edge (avg) |
//! |-------|------------|-----------------|
//! | 0–4   | 3          | 69 km           |
//! | 5–6   | 4          | 26 km           |
//! | 7–8   | 5          | 9.9 km          |
//! | 9–10  | 6          | 3.7 km          |
//! | 11–12 | 7          | 1.4 km          |
//! | 13    | 8          | 531 m           |
//! | 14–15 | 9          | 201 m           |
//! | ≥ 16  | 10         | 76 m            |
//!
//! That keeps roughly 10–40 cells across a tile. The resolution is never finer than the
//! input's: cells are only ever rolled up, never split.

use std::collections::HashMap;

use geo::{BoundingRect, Geometry, MultiPolygon, Rect};
use h3o::{CellIndex, Resolution};

use crate::mvt::{Layer, MvtError, TileBuilder, Value};
use crate::tms::TileId;

/// An error building an aggregate layer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum H3AggError {
    /// A value that is NaN or infinite.
    #[error("value {value} of cell {cell} is not finite")]
    NonFiniteValue { cell: CellIndex, value: f64 },
    /// The encoder refused the layer or a feature.
    #[error("encoding the aggregate layer: {0}")]
    Mvt(#[from] MvtError),
}

/// Which number becomes a cell's `value` property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Aggregation {
    /// The sum of the input values in the cell (counts add up).
    #[default]
    Sum,
    /// The mean of the input values in the cell.
    Mean,
}

/// One rolled-up cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellAggregate {
    pub cell: CellIndex,
    /// The sum of the input values.
    pub sum: f64,
    /// How many input cells were rolled into this one.
    pub count: u64,
}

impl CellAggregate {
    /// The mean input value (`sum / count`).
    #[must_use]
    pub fn mean(&self) -> f64 {
        // Precision loss only past 2^53 inputs.
        #[allow(clippy::cast_precision_loss)]
        let count = self.count as f64;
        self.sum / count
    }
}

/// The H3 resolution for a zoom level, by the table in the module doc.
#[must_use]
pub fn resolution_for_zoom(z: u8) -> Resolution {
    match z {
        0..=4 => Resolution::Three,
        5..=6 => Resolution::Four,
        7..=8 => Resolution::Five,
        9..=10 => Resolution::Six,
        11..=12 => Resolution::Seven,
        13 => Resolution::Eight,
        14..=15 => Resolution::Nine,
        _ => Resolution::Ten,
    }
}

/// Rolls cells up to `resolution`: each input cell goes to its ancestor at that resolution
/// (a cell already at or above it stays itself). Sorted by cell index.
pub fn roll_up(
    cells: impl IntoIterator<Item = (CellIndex, f64)>,
    resolution: Resolution,
) -> Result<Vec<CellAggregate>, H3AggError> {
    let mut sums: HashMap<CellIndex, (f64, u64)> = HashMap::new();
    for (cell, value) in cells {
        if !value.is_finite() {
            return Err(H3AggError::NonFiniteValue { cell, value });
        }
        let target = cell.parent(resolution).unwrap_or(cell);
        let entry = sums.entry(target).or_insert((0.0, 0));
        entry.0 += value;
        entry.1 += 1;
    }
    let mut out: Vec<_> = sums
        .into_iter()
        .map(|(cell, (sum, count))| CellAggregate { cell, sum, count })
        .collect();
    out.sort_by_key(|a| a.cell);
    Ok(out)
}

/// Adds a layer named `name` to `builder` with one polygon feature per rolled-up cell that
/// intersects the tile (plus its buffer): properties `h3` (the cell index as a hex string),
/// `value` (sum or mean, a double) and `count` (input cells, a uint). The resolution is
/// [`resolution_for_zoom`] of the tile's zoom, capped at the coarsest input resolution.
/// Returns how many features were added.
pub fn add_h3_layer(
    builder: &mut TileBuilder,
    name: &str,
    cells: &[(CellIndex, f64)],
    aggregation: Aggregation,
) -> Result<usize, H3AggError> {
    let tile = builder.tile();
    let options = builder.options();
    let coarsest = cells.iter().map(|(c, _)| c.resolution()).min();
    let resolution = coarsest.map_or(resolution_for_zoom(tile.z()), |r| {
        r.min(resolution_for_zoom(tile.z()))
    });
    let aggregates = roll_up(cells.iter().copied(), resolution)?;
    let bounds = buffered_bounds_deg(tile, options.extent, options.buffer);
    let layer = builder.layer(name)?;
    let mut added = 0;
    for aggregate in &aggregates {
        if add_cell(layer, aggregate, aggregation, bounds)? {
            added += 1;
        }
    }
    Ok(added)
}

fn add_cell(
    layer: &mut Layer,
    aggregate: &CellAggregate,
    aggregation: Aggregation,
    bounds: Rect<f64>,
) -> Result<bool, MvtError> {
    let outline = MultiPolygon::from(aggregate.cell);
    let Some(rect) = outline.bounding_rect() else {
        return Ok(false);
    };
    let overlaps = rect.min().x <= bounds.max().x
        && rect.max().x >= bounds.min().x
        && rect.min().y <= bounds.max().y
        && rect.max().y >= bounds.min().y;
    if !overlaps {
        return Ok(false);
    }
    let value = match aggregation {
        Aggregation::Sum => aggregate.sum,
        Aggregation::Mean => aggregate.mean(),
    };
    let geometry = if outline.0.len() == 1 {
        Geometry::Polygon(outline.0[0].clone())
    } else {
        Geometry::MultiPolygon(outline)
    };
    layer.add_feature_with_id(
        u64::from(aggregate.cell),
        &geometry,
        &[
            ("h3", Value::String(aggregate.cell.to_string())),
            ("value", Value::Double(value)),
            ("count", Value::Uint(aggregate.count)),
        ],
    )
}

/// The tile's bounds grown by its buffer, in degrees (EPSG:4326).
fn buffered_bounds_deg(tile: TileId, extent: u32, buffer: u32) -> Rect<f64> {
    let b = tile.bounds_deg();
    let frac = f64::from(buffer) / f64::from(extent.max(1));
    let dx = (b.max().x - b.min().x) * frac;
    let dy = (b.max().y - b.min().y) * frac;
    Rect::new(
        geo::Coord {
            x: b.min().x - dx,
            y: b.min().y - dy,
        },
        geo::Coord {
            x: b.max().x + dx,
            y: b.max().y + dy,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use h3o::LatLng;

    fn cell(lat: f64, lon: f64, res: Resolution) -> CellIndex {
        LatLng::new(lat, lon).unwrap().to_cell(res)
    }

    #[test]
    fn table_is_monotonic_and_capped() {
        let mut prev = Resolution::Zero;
        for z in 0..=22 {
            let r = resolution_for_zoom(z);
            assert!(r >= prev, "z {z}");
            prev = r;
        }
        assert_eq!(resolution_for_zoom(10), Resolution::Six);
        assert_eq!(resolution_for_zoom(16), Resolution::Ten);
        assert_eq!(resolution_for_zoom(22), Resolution::Ten);
    }

    #[test]
    fn rolls_up_sums_and_counts() {
        let a = cell(36.18, 113.1, Resolution::Twelve);
        let b = cell(36.1801, 113.1001, Resolution::Twelve);
        let far = cell(36.5, 113.5, Resolution::Twelve);
        let rolled = roll_up([(a, 2.0), (b, 3.0), (far, 1.0)], Resolution::Seven).unwrap();
        assert_eq!(rolled.len(), 2);
        let near = rolled
            .iter()
            .find(|r| r.cell == a.parent(Resolution::Seven).unwrap())
            .unwrap();
        assert_eq!((near.sum, near.count), (5.0, 2));
        assert!((near.mean() - 2.5).abs() < 1e-12);
        assert!(roll_up([(a, f64::NAN)], Resolution::Seven).is_err());
    }

    #[test]
    fn layer_holds_only_cells_near_the_tile() {
        let tile = TileId::from_lon_lat(113.1, 36.18, 12).unwrap();
        let inside = cell(36.18, 113.1, Resolution::Eleven);
        let far = cell(40.0, 116.0, Resolution::Eleven);
        let mut builder = TileBuilder::new(tile);
        let n = add_h3_layer(
            &mut builder,
            "incidents",
            &[(inside, 4.0), (far, 1.0)],
            Aggregation::Sum,
        )
        .unwrap();
        assert_eq!(n, 1);
        assert!(!builder.encode().is_empty());
        // Coarse input is not split: res-5 cells stay res 5 at zoom 16.
        let coarse = cell(36.18, 113.1, Resolution::Five);
        let mut deep = TileBuilder::new(TileId::from_lon_lat(113.1, 36.18, 16).unwrap());
        assert_eq!(
            add_h3_layer(&mut deep, "c", &[(coarse, 1.0)], Aggregation::Mean).unwrap(),
            1
        );
    }
}
