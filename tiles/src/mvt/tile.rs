//! A whole tile: its options (extent, buffer, simplification tolerance) and its layers, encoded
//! as one `Tile` message (MVT 2.1, version 2 layers).

use super::MvtError;
use super::layer::{Layer, Projection};
use crate::tms::TileId;

/// The default number of integer units along a tile side.
pub const DEFAULT_EXTENT: u32 = 4096;
/// The default margin, in tile units, kept around the tile so that strokes and labels near an
/// edge render without seams.
pub const DEFAULT_BUFFER: u32 = 64;

/// How a tile is gridded; the defaults suit MapLibre and Mapbox GL.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TileOptions {
    /// Units along a tile side (1 ..= 2^20).
    pub extent: u32,
    /// Margin around the tile, in tile units, kept when clipping (at most `extent`).
    pub buffer: u32,
    /// Douglas–Peucker tolerance in tile units for lines and rings; 0 turns it off.
    pub simplify_tolerance: f64,
}

impl Default for TileOptions {
    fn default() -> Self {
        Self {
            extent: DEFAULT_EXTENT,
            buffer: DEFAULT_BUFFER,
            simplify_tolerance: 1.0,
        }
    }
}

/// Builds one vector tile: ask it for layers, add features to them, then [`encode`](Self::encode).
///
/// # Examples
/// ```
/// use gridwatch_tiles::{TileBuilder, TileId, Value};
/// use geo::{Geometry, point};
///
/// let tile = TileId::from_lon_lat(113.1, 36.18, 14)?;
/// let mut builder = TileBuilder::new(tile);
/// let layer = builder.layer("incidents")?;
/// let kept = layer.add_feature_with_id(
///     7,
///     &Geometry::Point(point!(x: 113.1, y: 36.18)),
///     &[("category", Value::from("fire")), ("priority", Value::from(2_u32))],
/// )?;
/// assert!(kept);
/// let bytes: Vec<u8> = builder.encode();
/// assert!(!bytes.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct TileBuilder {
    projection: Projection,
    layers: Vec<Layer>,
}

impl TileBuilder {
    /// A tile with the default options (extent 4096, buffer 64, tolerance 1 unit).
    #[must_use]
    pub fn new(tile: TileId) -> Self {
        let o = TileOptions::default();
        Self {
            projection: Projection {
                tile,
                extent: o.extent,
                buffer: o.buffer,
                tolerance: o.simplify_tolerance,
            },
            layers: Vec::new(),
        }
    }

    /// A tile with explicit options.
    pub fn with_options(tile: TileId, options: TileOptions) -> Result<Self, MvtError> {
        let invalid = |reason| MvtError::InvalidOptions { options, reason };
        if options.extent == 0 || options.extent > 1 << 20 {
            return Err(invalid("extent must be within 1 ..= 2^20"));
        }
        if options.buffer > options.extent {
            return Err(invalid("buffer must not exceed the extent"));
        }
        if !options.simplify_tolerance.is_finite() || options.simplify_tolerance < 0.0 {
            return Err(invalid("simplify tolerance must be a finite number ≥ 0"));
        }
        Ok(Self {
            projection: Projection {
                tile,
                extent: options.extent,
                buffer: options.buffer,
                tolerance: options.simplify_tolerance,
            },
            layers: Vec::new(),
        })
    }

    /// The tile being built.
    #[must_use]
    pub fn tile(&self) -> TileId {
        self.projection.tile
    }

    /// The tile's options.
    #[must_use]
    pub fn options(&self) -> TileOptions {
        TileOptions {
            extent: self.projection.extent,
            buffer: self.projection.buffer,
            simplify_tolerance: self.projection.tolerance,
        }
    }

    /// Starts a new layer; layer names are unique within a tile.
    pub fn layer(&mut self, name: &str) -> Result<&mut Layer, MvtError> {
        if self.layers.iter().any(|l| l.name() == name) {
            return Err(MvtError::DuplicateLayer {
                name: name.to_owned(),
            });
        }
        self.layers.push(Layer::new(name, self.projection));
        let last = self.layers.len() - 1;
        Ok(&mut self.layers[last])
    }

    /// Whether no layer holds a feature.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.layers.iter().all(Layer::is_empty)
    }

    /// The encoded `Tile` message (not compressed). Empty layers are left out, so a tile with
    /// no features encodes to zero bytes.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for layer in &self.layers {
            layer.encode_into(&mut out);
        }
        out
    }
}
