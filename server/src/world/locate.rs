//! `lat/lon → cell → grid`: the hot path, plus the nearest grid for a point outside every grid.

use geo::{Distance, Euclidean, LineString, Point, Polygon};
use h3o::{CellIndex, LatLng};

use super::{GridLinks, World};

/// Meters per degree of arc on the WGS 84 equator (2π × 6 378 137 m ÷ 360).
const M_PER_DEG: f64 = 111_319.490_793_273_57;

/// Why a coordinate cannot be located.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum LocateError {
    #[error("latitude {0} is not a number in -90..=90")]
    Latitude(f64),
    #[error("longitude {0} is not a number in -180..=180")]
    Longitude(f64),
}

/// The answer to "where is this point": its cell and the grid and regions responsible for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Location {
    pub cell: CellIndex,
    /// `None` only when the world has no grids at all.
    pub links: Option<GridLinks>,
    /// The point lies in no grid; `links` is then the nearest grid's.
    pub outside: bool,
    /// For an outside point, the distance in meters to the nearest grid's nearest cell edge.
    pub distance_m: Option<f64>,
}

/// A local equirectangular plane in meters around the world's centre. At city scale (tens of km) its
/// distance error is well under 1%, enough to pick the nearest grid and report how far it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Plane {
    lat0: f64,
    lon0: f64,
    cos_lat0: f64,
}

impl Default for Plane {
    fn default() -> Self {
        Self {
            lat0: 0.0,
            lon0: 0.0,
            cos_lat0: 1.0,
        }
    }
}

impl Plane {
    /// A plane centred on the mean of the given cells' centres.
    pub(super) fn around(cells: impl Iterator<Item = CellIndex>) -> Self {
        let (mut lat, mut lon, mut n) = (0.0, 0.0, 0.0_f64);
        for cell in cells {
            let ll = LatLng::from(cell);
            lat += ll.lat();
            lon += ll.lng();
            n += 1.0;
        }
        if n == 0.0 {
            return Self::default();
        }
        let (lat0, lon0) = (lat / n, lon / n);
        Self {
            lat0,
            lon0,
            cos_lat0: lat0.to_radians().cos(),
        }
    }

    /// Projects degrees to meters east and north of the plane's centre.
    pub(super) fn project(&self, ll: LatLng) -> [f64; 2] {
        self.project_deg(ll.lat(), ll.lng())
    }

    pub(super) fn project_deg(&self, lat: f64, lon: f64) -> [f64; 2] {
        [
            (lon - self.lon0) * self.cos_lat0 * M_PER_DEG,
            (lat - self.lat0) * M_PER_DEG,
        ]
    }

    /// A cell's hexagon in the plane, meters.
    pub(super) fn cell_polygon(&self, cell: CellIndex) -> Polygon<f64> {
        let ring: Vec<[f64; 2]> = cell.boundary().iter().map(|&ll| self.project(ll)).collect();
        Polygon::new(LineString::from(ring), Vec::new())
    }
}

/// Checks a coordinate in degrees and turns it into an H3 `LatLng`.
pub fn checked_latlng(lat: f64, lon: f64) -> Result<LatLng, LocateError> {
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return Err(LocateError::Latitude(lat));
    }
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        return Err(LocateError::Longitude(lon));
    }
    LatLng::new(lat, lon).map_err(|_| LocateError::Latitude(lat))
}

impl World {
    /// Locates a point given in degrees (EPSG:4326): its cell at the deployment's resolution, the grid
    /// that owns the cell, and the regions above it. A point in no grid gets the nearest grid, flagged
    /// `outside` with its distance in meters.
    ///
    /// # Examples
    /// ```
    /// let world = gridwatch::world::World::default();
    /// let here = world.locate(36.19, 113.11).unwrap();
    /// assert!(here.links.is_none()); // an empty world has no grids
    /// assert!(world.locate(f64::NAN, 113.11).is_err());
    /// ```
    pub fn locate(&self, lat: f64, lon: f64) -> Result<Location, LocateError> {
        let ll = checked_latlng(lat, lon)?;
        if let Some((cell, index)) = self.raster.as_ref().and_then(|r| r.find(lat, lon)) {
            return Ok(Location {
                cell,
                links: Some(self.links[index as usize]),
                outside: false,
                distance_m: None,
            });
        }
        let cell = ll.to_cell(self.resolution);
        if let Some(&index) = self.cell_grid.get(&cell) {
            return Ok(Location {
                cell,
                links: Some(self.links[index as usize]),
                outside: false,
                distance_m: None,
            });
        }
        Ok(self.nearest(cell, ll))
    }

    /// The nearest grid to a point outside every grid: the grid of the nearest edge hexagon. Edge
    /// centres come nearest first; once a centre is farther than the best distance plus the largest
    /// hexagon radius, no later hexagon can be closer.
    fn nearest(&self, cell: CellIndex, ll: LatLng) -> Location {
        let here = self.plane.project(ll);
        let point = Point::new(here[0], here[1]);
        let mut best: Option<(GridLinks, f64)> = None;
        for (candidate, centre_d2) in self
            .edge_points
            .nearest_neighbor_iter_with_distance_2(&here)
        {
            if best.is_some_and(|(_, d)| centre_d2.sqrt() - self.edge_radius_m > d) {
                break;
            }
            let (index, hexagon) = candidate.data;
            let d = Euclidean.distance(&point, &self.edge_hexagons[hexagon as usize]);
            if best.is_none_or(|(_, b)| d < b) {
                best = Some((self.links[index as usize], d));
            }
        }
        Location {
            cell,
            links: best.map(|(l, _)| l),
            outside: true,
            distance_m: best.map(|(_, d)| d),
        }
    }
}
