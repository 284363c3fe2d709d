//! `gridwatch-tiles`: XYZ web-mercator tile math, Mapbox Vector Tile (MVT 2.1) encoding of `geo`
//! geometries, simplification by zoom, and H3 aggregate layers.
//!
//! Takes geometries in degrees (EPSG:4326, lon/lat order) and `h3o` cells, returns tile
//! addresses and encoded (uncompressed) tile bytes. No IO, no HTTP, no database, no domain
//! types: the server decides what goes into which layer and how the bytes are sent.
//!
//! Code map:
//! - [`tms`]: [`TileId`], bounds in degrees and meters, [`tiles_covering`], projections.
//! - [`mvt`]: [`TileBuilder`] → [`Layer`] → features with [`Value`] properties.
//! - [`simplify`]: Douglas–Peucker with a tolerance of one tile unit ([`simplify_for_zoom`]).
//! - [`h3agg`]: zoom → H3 resolution, roll-up, [`add_h3_layer`].
//! - [`glyphs`]: signed-distance-field glyph ranges for map labels, from a TrueType font.
//!
//! # Examples
//! ```
//! use gridwatch_tiles::{TileBuilder, TileId, Value};
//! use geo::{Geometry, polygon};
//!
//! let tile = TileId::new(14, 13529, 6486)?;
//! let mut builder = TileBuilder::new(tile);
//! let b = tile.bounds_deg();
//! // A square covering the tile's south-west quarter and spilling over its west edge.
//! let (w, s, e, n) = (b.min().x, b.min().y, b.max().x, b.max().y);
//! let (cx, cy) = ((w + e) / 2.0, (s + n) / 2.0);
//! let square = polygon![(x: w - 0.01, y: s), (x: cx, y: s), (x: cx, y: cy), (x: w - 0.01, y: cy)];
//! builder.layer("grids")?.add_feature(&Geometry::Polygon(square), &[("code", Value::from("001"))])?;
//! let bytes = builder.encode();
//! assert!(bytes.len() > 20);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod glyphs;
pub mod h3agg;
pub mod mvt;
pub mod simplify;
pub mod tms;

pub use h3agg::{
    Aggregation, CellAggregate, H3AggError, add_h3_layer, resolution_for_zoom, roll_up,
};
pub use mvt::{
    DEFAULT_BUFFER, DEFAULT_EXTENT, Layer, MvtError, ProjectedPolygons, TileBuilder, TileOptions,
    Value,
};
pub use simplify::simplify_for_zoom;
pub use tms::{MAX_ZOOM, TileId, TileRange, TmsError, tiles_covering};
