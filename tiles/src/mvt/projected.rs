//! Polygons projected once to web-mercator *world fractions* — [`world_units`] at zoom 0: `x` in
//! `0..1` from the antimeridian eastwards, `y` in `0..1` from the north edge southwards — with
//! each ring's bounding box, so that a shape drawn in many tiles pays the mercator `ln`/`tan`
//! of each vertex once instead of on every tile.
//!
//! Drawing from these gives the same tile bytes as drawing from degrees: at zoom `z` the
//! encoder scales a world fraction by `2^z`, which is exact in floating point, so every
//! projected vertex has the same bits as [`world_units`] at `z` gives (tested in `mvt/reference`).
//! Owns no clipping or encoding; see `layer`.

use geo::{Coord, MultiPolygon, Polygon};

use super::MvtError;
use crate::tms::world_units;

/// Polygons in world fractions, ready for [`Layer::add_projected`](super::Layer::add_projected).
///
/// # Examples
/// ```
/// use gridwatch_tiles::{ProjectedPolygons, TileBuilder, TileId, Value};
/// use geo::{MultiPolygon, polygon};
///
/// let square = polygon![(x: 113.1, y: 36.18), (x: 113.102, y: 36.18), (x: 113.102, y: 36.182), (x: 113.1, y: 36.182)];
/// let shape = ProjectedPolygons::from_degrees(&MultiPolygon::new(vec![square]))?;
/// let mut builder = TileBuilder::new(TileId::from_lon_lat(113.101, 36.181, 15)?);
/// assert!(builder.layer("grids")?.add_projected(Some(7), &shape, &[("code", Value::from("001"))])?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectedPolygons {
    pub(crate) polygons: Vec<ProjectedPolygon>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ProjectedPolygon {
    pub exterior: ProjectedRing,
    pub interiors: Vec<ProjectedRing>,
}

/// A ring in world fractions with its bounding box (`min` > `max` for an empty ring).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ProjectedRing {
    pub coords: Vec<Coord<f64>>,
    pub min: Coord<f64>,
    pub max: Coord<f64>,
}

impl ProjectedRing {
    fn from_degrees(ring: &[Coord<f64>]) -> Result<Self, MvtError> {
        let mut min = Coord {
            x: f64::INFINITY,
            y: f64::INFINITY,
        };
        let mut max = Coord {
            x: f64::NEG_INFINITY,
            y: f64::NEG_INFINITY,
        };
        let mut coords = Vec::with_capacity(ring.len());
        for &c in ring {
            if !c.x.is_finite() || !c.y.is_finite() {
                return Err(MvtError::NonFiniteCoordinate { lon: c.x, lat: c.y });
            }
            let w = world_units(c.x, c.y, 0);
            min.x = min.x.min(w.x);
            min.y = min.y.min(w.y);
            max.x = max.x.max(w.x);
            max.y = max.y.max(w.y);
            coords.push(w);
        }
        Ok(Self { coords, min, max })
    }
}

impl ProjectedPolygons {
    /// Projects polygons given in degrees (EPSG:4326, lon/lat order); a non-finite coordinate is
    /// an error, as in [`Layer::add_feature`](super::Layer::add_feature).
    pub fn from_degrees(shape: &MultiPolygon<f64>) -> Result<Self, MvtError> {
        let polygon = |p: &Polygon<f64>| {
            Ok(ProjectedPolygon {
                exterior: ProjectedRing::from_degrees(&p.exterior().0)?,
                interiors: p
                    .interiors()
                    .iter()
                    .map(|r| ProjectedRing::from_degrees(&r.0))
                    .collect::<Result<_, MvtError>>()?,
            })
        };
        Ok(Self {
            polygons: shape.0.iter().map(polygon).collect::<Result<_, _>>()?,
        })
    }

    /// How many polygons the shape holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.polygons.len()
    }

    /// Whether the shape holds no polygon.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.polygons.is_empty()
    }
}
