//! Mapbox Vector Tile 2.1 encoding of `geo` geometries given in degrees (EPSG:4326, lon/lat).
//!
//! Owns the whole path from a geometry to tile bytes: projection to tile units (web-mercator,
//! `y` down), simplification, clipping to the tile plus its buffer, rounding without repeated
//! points, MVT winding (exterior rings positive by the spec's shoelace sum, interior negative),
//! zigzag-delta commands and the protobuf wire format, written by hand. Compression (gzip) is
//! the caller's business.
//!
//! Code map: `tile` ([`TileBuilder`], [`TileOptions`]) → `layer` ([`Layer`], the per-feature
//! pipeline) → `clip`, `geometry` (commands, winding) → `value` ([`Value`]) → `wire` (protobuf);
//! `projected` ([`ProjectedPolygons`]: shapes projected once for many tiles). `reference` (tests
//! only) keeps the plain pipeline the fast paths are checked against.

mod clip;
mod geometry;
mod layer;
mod projected;
mod tile;
mod value;
pub(crate) mod wire;

pub use layer::Layer;
pub use projected::ProjectedPolygons;
pub use tile::{DEFAULT_BUFFER, DEFAULT_EXTENT, TileBuilder, TileOptions};
pub use value::Value;

/// A feature, layer or option the encoder cannot accept.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MvtError {
    /// Extent, buffer or tolerance out of range.
    #[error("invalid tile options {options:?}: {reason}")]
    InvalidOptions {
        options: TileOptions,
        reason: &'static str,
    },
    /// A second layer with a name already used in the tile.
    #[error("layer {name:?} already exists in this tile")]
    DuplicateLayer { name: String },
    /// A property key given twice for one feature.
    #[error("property {key:?} is given twice")]
    DuplicateProperty { key: String },
    /// A coordinate that is NaN or infinite.
    #[error("coordinate ({lon}, {lat}) is not finite")]
    NonFiniteCoordinate { lon: f64, lat: f64 },
    /// A geometry kind a single MVT feature cannot hold.
    #[error("a {kind} cannot be one vector tile feature")]
    UnsupportedGeometry { kind: &'static str },
}

#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;
