//! Cameras (视频监控点) in the read model: each camera with its view sector and the cells it covers,
//! and a `cell → cameras` index for coverage.
//!
//! The read API other modules (the API, the tile server's `cameras` layer) use: [`World::cameras`],
//! [`World::camera`], [`World::cameras_covering`], [`World::cameras_of_cell`] and
//! [`World::camera_coverage`]. Sectors are in degrees (EPSG:4326, lon/lat order); cells are at the
//! world's resolution and "covered" means the cell's centre lies in the sector (see
//! `domain::camera::covered_cells`). Offline cameras stay in the index and count for no coverage.
//! What a camera sees ([`CameraView`]) is worked out from its parameters alone, so the camera service
//! computes it off the async threads and the world only files it.

use std::collections::BTreeMap;

use geo::{BoundingRect, Polygon, Rect};
use h3o::{CellIndex, Resolution};
use rustc_hash::FxHashMap;

use super::World;
use crate::domain::CameraId;
use crate::domain::camera::{self, Camera, NewCamera};
use crate::geodesy::haversine_m;

/// What a camera's parameters make it see: its sector and the cells it covers, at a resolution. It
/// costs time in proportion to the cells covered (about 41,000 at resolution 12 for a 2 km full
/// circle), so the camera service works it out on the blocking pool before the camera is applied.
#[derive(Debug, Clone, PartialEq)]
pub struct CameraView {
    /// Degrees (EPSG:4326, lon/lat order); see `domain::camera::sector`.
    sector: Polygon<f64>,
    /// Sorted.
    cells: Vec<CellIndex>,
    bbox: Option<Rect<f64>>,
}

impl CameraView {
    /// The sector and covered cells of a camera with these parameters, cells at `resolution`.
    #[must_use]
    pub fn of(params: &NewCamera, resolution: Resolution) -> Self {
        let sector = camera::sector(params);
        let cells = camera::covered_cells(&sector, resolution);
        let bbox = sector.bounding_rect();
        Self {
            sector,
            cells,
            bbox,
        }
    }
}

/// A camera as the world holds it: its parameters, its sector and its covered cells.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedCamera {
    pub camera: Camera,
    /// The view sector, degrees (EPSG:4326, lon/lat order); see `domain::camera::sector`.
    pub sector: Polygon<f64>,
    /// Cells at the world's resolution whose centre lies in the sector, sorted.
    pub cells: Vec<CellIndex>,
    /// The sector's bounding box, degrees: a cheap test before the polygon's.
    bbox: Option<Rect<f64>>,
}

impl PlacedCamera {
    fn new(camera: Camera, view: CameraView) -> Self {
        Self {
            camera,
            sector: view.sector,
            cells: view.cells,
            bbox: view.bbox,
        }
    }

    /// Whether the camera's sector contains the point (degrees); a point on the outline counts.
    #[must_use]
    pub fn sees(&self, lat: f64, lon: f64) -> bool {
        self.bbox.is_some_and(|b| {
            (b.min().x..=b.max().x).contains(&lon) && (b.min().y..=b.max().y).contains(&lat)
        }) && camera::sees(&self.sector, lat, lon)
    }
}

/// All cameras, by id, and the cameras covering each cell.
#[derive(Debug, Default)]
pub struct CameraIndex {
    cameras: BTreeMap<CameraId, PlacedCamera>,
    by_cell: FxHashMap<CellIndex, Vec<CameraId>>,
}

impl CameraIndex {
    pub(super) fn build(cameras: Vec<Camera>, resolution: Resolution) -> Self {
        let mut index = Self::default();
        for camera in cameras {
            let view = CameraView::of(&camera.params(), resolution);
            index.put(camera, view);
        }
        index
    }

    fn put(&mut self, camera: Camera, view: CameraView) {
        self.remove(camera.id);
        let placed = PlacedCamera::new(camera, view);
        for &cell in &placed.cells {
            self.by_cell.entry(cell).or_default().push(placed.camera.id);
        }
        self.cameras.insert(placed.camera.id, placed);
    }

    fn remove(&mut self, id: CameraId) {
        let Some(old) = self.cameras.remove(&id) else {
            return;
        };
        for cell in &old.cells {
            if let Some(ids) = self.by_cell.get_mut(cell) {
                ids.retain(|&c| c != id);
                if ids.is_empty() {
                    self.by_cell.remove(cell);
                }
            }
        }
    }
}

/// How much of a set of cells the online cameras cover.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CameraCoverage {
    /// Cells covered by at least one online camera, in the order given.
    pub covered: Vec<CellIndex>,
    /// The rest (盲区), in the order given.
    pub blind: Vec<CellIndex>,
}

impl World {
    /// Every camera, by id.
    pub fn cameras(&self) -> impl Iterator<Item = &PlacedCamera> {
        self.cameras.cameras.values()
    }

    #[must_use]
    pub fn camera(&self, id: CameraId) -> Option<&PlacedCamera> {
        self.cameras.cameras.get(&id)
    }

    /// Cameras (online or not) whose sector contains the point (degrees), nearest first, each with its
    /// great-circle distance to the point in meters; ties by id. A linear scan behind a bounding-box
    /// test: a street office has hundreds of cameras.
    #[must_use]
    pub fn cameras_covering(&self, lat: f64, lon: f64) -> Vec<(&PlacedCamera, f64)> {
        let mut found: Vec<(&PlacedCamera, f64)> = self
            .cameras()
            .filter(|c| c.sees(lat, lon))
            .map(|c| (c, haversine_m(c.camera.lat, c.camera.lon, lat, lon)))
            .collect();
        found.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.camera.id.cmp(&b.0.camera.id)));
        found
    }

    /// Cameras (online or not) covering `cell`.
    pub fn cameras_of_cell(&self, cell: CellIndex) -> impl Iterator<Item = &PlacedCamera> {
        self.cameras
            .by_cell
            .get(&cell)
            .into_iter()
            .flatten()
            .filter_map(|id| self.cameras.cameras.get(id))
    }

    /// Which of `cells` the online cameras cover.
    #[must_use]
    pub fn camera_coverage(&self, cells: &[CellIndex]) -> CameraCoverage {
        let (covered, blind) = cells
            .iter()
            .partition(|&&cell| self.cameras_of_cell(cell).any(|c| c.camera.is_online()));
        CameraCoverage { covered, blind }
    }

    /// Applies a committed camera (new or changed), working out what it sees here: for a view worked out
    /// beforehand (off the async threads), [`World::apply_camera_view`].
    pub fn apply_camera(&mut self, camera: Camera) {
        let view = CameraView::of(&camera.params(), self.resolution);
        self.cameras.put(camera, view);
    }

    /// Applies a committed camera (new or changed) with the view its parameters give
    /// ([`CameraView::of`] at this world's resolution).
    pub fn apply_camera_view(&mut self, camera: Camera, view: CameraView) {
        self.cameras.put(camera, view);
    }

    /// Applies a committed camera deletion.
    pub fn remove_camera(&mut self, id: CameraId) {
        self.cameras.remove(id);
    }
}
