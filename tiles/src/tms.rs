//! XYZ tile math for the web-mercator slippy-map scheme (EPSG:3857, `y` grows southwards).
//!
//! Owns the tile address ([`TileId`]), its validity rules (zoom ≤ [`MAX_ZOOM`], `x, y < 2^z`),
//! the conversions between lon/lat degrees (EPSG:4326), spherical-mercator meters (EPSG:3857)
//! and tiles, and the tiles covering a bounding box. It knows nothing of encodings or HTTP.

use geo::{Coord, Rect};

/// The deepest zoom level accepted by [`TileId::new`] (about 4 cm per pixel at the equator).
pub const MAX_ZOOM: u8 = 22;

/// The latitude, in degrees, at which the web-mercator square ends (`atan(sinh(π))`).
pub const MAX_LATITUDE: f64 = 85.051_128_779_806_59;

/// Half the side of the web-mercator square, in meters (`π × 6 378 137`).
pub const HALF_WORLD_M: f64 = 20_037_508.342_789_244;

/// Earth radius used by EPSG:3857, in meters.
const EARTH_RADIUS_M: f64 = 6_378_137.0;

/// A tile address or coordinate the tile math cannot accept.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TmsError {
    /// The zoom is too deep or `x`/`y` is outside `0..2^z`.
    #[error("invalid tile {z}/{x}/{y}: {reason}")]
    InvalidTile {
        z: u8,
        x: u32,
        y: u32,
        reason: &'static str,
    },
    /// A longitude or latitude that is not a finite number.
    #[error("invalid coordinate ({lon}, {lat}): {reason}")]
    InvalidCoordinate {
        lon: f64,
        lat: f64,
        reason: &'static str,
    },
}

/// An XYZ tile: zoom `z`, column `x` (west to east) and row `y` (north to south).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    z: u8,
    x: u32,
    y: u32,
}

impl TileId {
    /// A tile at zoom `z ≤ MAX_ZOOM` with `x, y < 2^z`.
    pub fn new(z: u8, x: u32, y: u32) -> Result<Self, TmsError> {
        Self::with_max_zoom(z, x, y, MAX_ZOOM)
    }

    /// A tile at zoom `z ≤ max_zoom` (itself at most 31) with `x, y < 2^z`.
    pub fn with_max_zoom(z: u8, x: u32, y: u32, max_zoom: u8) -> Result<Self, TmsError> {
        let invalid = |reason| TmsError::InvalidTile { z, x, y, reason };
        if z > max_zoom.min(31) {
            return Err(invalid("zoom is deeper than the maximum zoom"));
        }
        let n = 1u64 << z;
        if u64::from(x) >= n {
            return Err(invalid("x is not below 2^z"));
        }
        if u64::from(y) >= n {
            return Err(invalid("y is not below 2^z"));
        }
        Ok(Self { z, x, y })
    }

    /// The zoom level.
    #[must_use]
    pub const fn z(self) -> u8 {
        self.z
    }

    /// The column, counted eastwards from longitude −180°.
    #[must_use]
    pub const fn x(self) -> u32 {
        self.x
    }

    /// The row, counted southwards from latitude +85.05°.
    #[must_use]
    pub const fn y(self) -> u32 {
        self.y
    }

    /// The tile at zoom `z` containing a point given in degrees (EPSG:4326, lon/lat).
    ///
    /// Latitudes beyond ±[`MAX_LATITUDE`] and longitudes beyond ±180° fall in the edge tiles;
    /// a point on a tile's west or north edge belongs to that tile.
    pub fn from_lon_lat(lon: f64, lat: f64, z: u8) -> Result<Self, TmsError> {
        if !lon.is_finite() || !lat.is_finite() {
            return Err(TmsError::InvalidCoordinate {
                lon,
                lat,
                reason: "not a finite number",
            });
        }
        if z > MAX_ZOOM {
            return Err(TmsError::InvalidTile {
                z,
                x: 0,
                y: 0,
                reason: "zoom is deeper than the maximum zoom",
            });
        }
        let world = world_units(lon, lat, z);
        let max = f64::from((1u32 << z) - 1);
        // Truncation is the floor here: both values are clamped to 0..2^z - 1 first.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let (x, y) = (
            world.x.floor().clamp(0.0, max) as u32,
            world.y.floor().clamp(0.0, max) as u32,
        );
        Ok(Self { z, x, y })
    }

    /// The tile's bounds in degrees (EPSG:4326): `min` is the south-west corner.
    #[must_use]
    pub fn bounds_deg(self) -> Rect<f64> {
        let n = f64::from(1u32 << self.z);
        let west = f64::from(self.x) / n * 360.0 - 180.0;
        let east = f64::from(self.x + 1) / n * 360.0 - 180.0;
        let north = row_to_lat(f64::from(self.y) / n);
        let south = row_to_lat(f64::from(self.y + 1) / n);
        Rect::new(Coord { x: west, y: south }, Coord { x: east, y: north })
    }

    /// The tile's bounds in spherical-mercator meters (EPSG:3857): `min` is the south-west corner.
    #[must_use]
    pub fn bounds_m(self) -> Rect<f64> {
        let size_m = 2.0 * HALF_WORLD_M / f64::from(1u32 << self.z);
        let west = -HALF_WORLD_M + f64::from(self.x) * size_m;
        let north = HALF_WORLD_M - f64::from(self.y) * size_m;
        Rect::new(
            Coord {
                x: west,
                y: north - size_m,
            },
            Coord {
                x: west + size_m,
                y: north,
            },
        )
    }

    /// The tile one zoom up that contains this one, or `None` at zoom 0.
    #[must_use]
    pub const fn parent(self) -> Option<Self> {
        if self.z == 0 {
            return None;
        }
        Some(Self {
            z: self.z - 1,
            x: self.x / 2,
            y: self.y / 2,
        })
    }

    /// The four tiles one zoom down, in the order NW, NE, SW, SE; `None` past `MAX_ZOOM`.
    #[must_use]
    pub const fn children(self) -> Option<[Self; 4]> {
        if self.z >= MAX_ZOOM {
            return None;
        }
        let (z, x, y) = (self.z + 1, self.x * 2, self.y * 2);
        Some([
            Self { z, x, y },
            Self { z, x: x + 1, y },
            Self { z, x, y: y + 1 },
            Self {
                z,
                x: x + 1,
                y: y + 1,
            },
        ])
    }
}

impl std::fmt::Display for TileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

/// Projects a point in degrees (EPSG:4326) to fractional tile units at zoom `z`: `x` in
/// `0..2^z` from the antimeridian eastwards, `y` in `0..2^z` from the north edge southwards.
/// Latitudes are clamped to ±[`MAX_LATITUDE`]; longitudes are not wrapped.
#[must_use]
pub fn world_units(lon: f64, lat: f64, z: u8) -> Coord<f64> {
    let n = f64::from(1u32 << z);
    let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE).to_radians();
    let x = (lon + 180.0) / 360.0 * n;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
    Coord { x, y }
}

/// The inverse of [`world_units`]: fractional tile units at zoom `z` back to degrees (EPSG:4326).
#[must_use]
pub fn world_units_to_lon_lat(world: Coord<f64>, z: u8) -> Coord<f64> {
    let n = f64::from(1u32 << z);
    Coord {
        x: world.x / n * 360.0 - 180.0,
        y: row_to_lat(world.y / n),
    }
}

/// A point in degrees (EPSG:4326) to spherical-mercator meters (EPSG:3857); latitude clamped
/// to ±[`MAX_LATITUDE`].
#[must_use]
pub fn lon_lat_to_mercator_m(lon: f64, lat: f64) -> Coord<f64> {
    let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE).to_radians();
    Coord {
        x: lon.to_radians() * EARTH_RADIUS_M,
        y: (std::f64::consts::FRAC_PI_4 + lat / 2.0).tan().ln() * EARTH_RADIUS_M,
    }
}

/// A point in spherical-mercator meters (EPSG:3857) to degrees (EPSG:4326).
#[must_use]
pub fn mercator_m_to_lon_lat(x_m: f64, y_m: f64) -> Coord<f64> {
    Coord {
        x: (x_m / EARTH_RADIUS_M).to_degrees(),
        y: (2.0 * (y_m / EARTH_RADIUS_M).exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees(),
    }
}

/// Latitude in degrees of a row given as a fraction of the world (0 = north edge, 1 = south).
fn row_to_lat(fraction: f64) -> f64 {
    (std::f64::consts::PI * (1.0 - 2.0 * fraction))
        .sinh()
        .atan()
        .to_degrees()
}

/// The tiles at zoom `z` covering a bounding box in degrees (EPSG:4326, `min` = south-west),
/// row by row from the north-west. A box crossing the antimeridian must be split by the caller.
pub fn tiles_covering(bbox: Rect<f64>, z: u8) -> Result<TileRange, TmsError> {
    let nw = TileId::from_lon_lat(bbox.min().x, bbox.max().y, z)?;
    let se = TileId::from_lon_lat(bbox.max().x, bbox.min().y, z)?;
    Ok(TileRange {
        z,
        x_min: nw.x,
        x_max: se.x,
        y_min: nw.y,
        y_max: se.y,
        next: Some((nw.x, nw.y)),
    })
}

/// Iterator over a rectangle of tiles at one zoom; see [`tiles_covering`].
#[derive(Debug, Clone)]
pub struct TileRange {
    z: u8,
    x_min: u32,
    x_max: u32,
    y_min: u32,
    y_max: u32,
    next: Option<(u32, u32)>,
}

impl TileRange {
    /// How many tiles the range holds in all (including those already yielded).
    #[must_use]
    pub fn total(&self) -> u64 {
        u64::from(self.x_max - self.x_min + 1) * u64::from(self.y_max - self.y_min + 1)
    }
}

impl Iterator for TileRange {
    type Item = TileId;

    fn next(&mut self) -> Option<TileId> {
        let (x, y) = self.next?;
        self.next = if x < self.x_max {
            Some((x + 1, y))
        } else if y < self.y_max {
            Some((self.x_min, y + 1))
        } else {
            None
        };
        Some(TileId { z: self.z, x, y })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_zoom_and_range() {
        assert!(TileId::new(0, 0, 0).is_ok());
        assert!(TileId::new(22, (1 << 22) - 1, 0).is_ok());
        assert!(matches!(
            TileId::new(23, 0, 0),
            Err(TmsError::InvalidTile { z: 23, .. })
        ));
        assert!(matches!(
            TileId::new(3, 8, 0),
            Err(TmsError::InvalidTile { x: 8, reason, .. }) if reason.contains('x')
        ));
        assert!(TileId::new(3, 0, 8).is_err());
        assert!(TileId::with_max_zoom(14, 0, 0, 12).is_err());
        assert!(TileId::with_max_zoom(24, 0, 0, 24).is_ok());
    }

    #[test]
    fn lon_lat_to_tile_matches_the_osm_wiki() {
        // Berlin, from the OSM wiki's slippy-map examples (z 10).
        let t = TileId::from_lon_lat(13.384_65, 52.515_55, 10).unwrap();
        assert_eq!((t.x(), t.y()), (550, 335));
        // Corners and edges stay inside the grid.
        assert_eq!(
            TileId::from_lon_lat(180.0, -90.0, 2).unwrap(),
            TileId::new(2, 3, 3).unwrap()
        );
        assert_eq!(
            TileId::from_lon_lat(-180.0, 90.0, 2).unwrap(),
            TileId::new(2, 0, 0).unwrap()
        );
        assert!(TileId::from_lon_lat(f64::NAN, 0.0, 2).is_err());
        assert!(TileId::from_lon_lat(0.0, 0.0, 23).is_err());
    }

    #[test]
    fn bounds_round_trip() {
        let t = TileId::new(12, 3370, 1552).unwrap();
        let b = t.bounds_deg();
        assert!(b.min().x < b.max().x && b.min().y < b.max().y);
        let inner = TileId::from_lon_lat(
            f64::midpoint(b.min().x, b.max().x),
            f64::midpoint(b.min().y, b.max().y),
            12,
        )
        .unwrap();
        assert_eq!(inner, t);
        let m = t.bounds_m();
        let sw = lon_lat_to_mercator_m(b.min().x, b.min().y);
        let ne = lon_lat_to_mercator_m(b.max().x, b.max().y);
        assert!((sw.x - m.min().x).abs() < 1e-6 && (sw.y - m.min().y).abs() < 1e-6);
        assert!((ne.x - m.max().x).abs() < 1e-6 && (ne.y - m.max().y).abs() < 1e-6);
        let back = mercator_m_to_lon_lat(m.max().x, m.max().y);
        assert!((back.x - b.max().x).abs() < 1e-9 && (back.y - b.max().y).abs() < 1e-9);
        let whole = TileId::new(0, 0, 0).unwrap().bounds_deg();
        assert!((whole.max().y - MAX_LATITUDE).abs() < 1e-9);
        assert!((whole.min().x + 180.0).abs() < 1e-12);
    }

    #[test]
    fn world_units_round_trip() {
        let w = world_units(113.1, 36.18, 15);
        let back = world_units_to_lon_lat(w, 15);
        assert!((back.x - 113.1).abs() < 1e-9 && (back.y - 36.18).abs() < 1e-9);
    }

    #[test]
    fn parent_and_children() {
        let t = TileId::new(5, 17, 11).unwrap();
        assert_eq!(t.parent(), Some(TileId::new(4, 8, 5).unwrap()));
        assert_eq!(TileId::new(0, 0, 0).unwrap().parent(), None);
        let kids = t.children().unwrap();
        assert_eq!(kids[0], TileId::new(6, 34, 22).unwrap());
        assert_eq!(kids[3], TileId::new(6, 35, 23).unwrap());
        assert!(kids.iter().all(|k| k.parent() == Some(t)));
        assert_eq!(TileId::new(22, 0, 0).unwrap().children(), None);
    }

    #[test]
    fn covering_a_bbox() {
        let bbox = Rect::new(Coord { x: 113.0, y: 36.0 }, Coord { x: 113.3, y: 36.3 });
        let range = tiles_covering(bbox, 12).unwrap();
        let total = range.total();
        let tiles: Vec<_> = range.collect();
        assert_eq!(tiles.len() as u64, total);
        assert!(tiles.len() >= 4);
        for corner in [bbox.min(), bbox.max()] {
            let t = TileId::from_lon_lat(corner.x, corner.y, 12).unwrap();
            assert!(tiles.contains(&t));
        }
        // Every tile intersects the box.
        for t in &tiles {
            let b = t.bounds_deg();
            assert!(b.max().x >= bbox.min().x && b.min().x <= bbox.max().x);
            assert!(b.max().y >= bbox.min().y && b.min().y <= bbox.max().y);
        }
        let world: Vec<_> = tiles_covering(
            Rect::new(
                Coord {
                    x: -180.0,
                    y: -90.0,
                },
                Coord { x: 180.0, y: 90.0 },
            ),
            2,
        )
        .unwrap()
        .collect();
        assert_eq!(world.len(), 16);
        assert_eq!(world[0], TileId::new(2, 0, 0).unwrap());
        assert_eq!(world[5], TileId::new(2, 1, 1).unwrap());
    }
}
