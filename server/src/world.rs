//! The in-memory read model: every region, grid, building and worker, with the indexes reads need.
//!
//! Built from a store `Snapshot` at start and kept current by applying each committed change. It owns
//! the hot path `lat/lon → cell → grid` (a hash map, no polygon test) and the R-trees for area queries.
//! It never talks to a store or the network: callers hold the lock only for plain computation.

pub mod alarms;
mod basemap;
mod cameras;
pub mod locate;
mod raster;
mod scope;
pub mod warnings;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use geo::{BoundingRect, MultiPolygon};
use gridwatch_tiles::ProjectedPolygons;
use h3o::{CellIndex, LatLng, Resolution};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};
use rustc_hash::FxHashMap;

use crate::domain::{
    BaseArea, BaseLine, Building, BuildingId, Case, Category, Department, Grid, GridId, IncidentId,
    Region, RegionId, RegionLevel, Worker, WorkerId,
};
use crate::store::Snapshot;

pub use cameras::{CameraCoverage, CameraView, PlacedCamera};
pub use locate::{LocateError, Location};
pub use scope::Visibility;

/// The cell resolution used before any city is imported.
pub const DEFAULT_RESOLUTION: Resolution = Resolution::Twelve;

/// A worker's last reported position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    /// Degrees (EPSG:4326).
    pub lat: f64,
    /// Degrees (EPSG:4326).
    pub lon: f64,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// Where a grid sits in the hierarchy, resolved once so `locate` does no walking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridLinks {
    pub grid: GridId,
    pub community: RegionId,
    pub street: Option<RegionId>,
    pub district: Option<RegionId>,
}

/// The centre of an edge cell in the local plane, with its index into `links` and into `edge_hexagons`.
type EdgePoint = GeomWithData<[f64; 2], (u32, u32)>;
type BuildingBox = GeomWithData<Rectangle<[f64; 2]>, BuildingId>;
type GridBox = GeomWithData<Rectangle<[f64; 2]>, GridId>;

/// A grid's outline as the tiles draw it, kept beside the grid so a tile neither recomputes the
/// box nor re-projects every vertex.
#[derive(Debug)]
pub struct GridShape {
    /// The outline's bounding box, degrees (EPSG:4326, lon/lat).
    pub bbox: geo::Rect<f64>,
    /// The outline projected once to web-mercator world fractions; `None` if it holds a
    /// coordinate that is not finite (the tile then draws from degrees and reports it).
    pub projected: Option<ProjectedPolygons>,
}

/// The read model. See the module docs.
#[derive(Debug)]
pub struct World {
    resolution: Resolution,
    regions: BTreeMap<RegionId, Region>,
    /// Every grid. A change to a grid's `boundary` must go through `reindex_grids`, which also
    /// rebuilds `grid_shapes` and `grid_boxes`: the tiles draw from those, never from `boundary`.
    grids: BTreeMap<GridId, Grid>,
    /// Each grid's outline box and projected outline, for the grids tiles.
    grid_shapes: FxHashMap<GridId, GridShape>,
    /// The grids' outline boxes, degrees (EPSG:4326): the grids a tile meets without a scan.
    grid_boxes: RTree<GridBox>,
    buildings: BTreeMap<BuildingId, Building>,
    workers: BTreeMap<WorkerId, Worker>,
    categories: BTreeMap<String, Category>,
    departments: BTreeMap<String, Department>,
    /// The cases with their history: every one still in the loop or deferred, and the finished ones
    /// (closed, cancelled, merged) last changed at or after `archived_before`. Older finished cases
    /// are archived: only the store holds them, so memory follows open work, not history.
    incidents: BTreeMap<IncidentId, Case>,
    /// The archive line: the finished cases last changed before it are not in `incidents`; `None`
    /// while every case is.
    archived_before: Option<DateTime<Utc>>,
    /// Whether any case has been archived: until one is, no reader needs the store.
    archived_any: bool,
    /// The highest case id the world knows of, archived ones included: a higher id is no case.
    last_incident_id: i64,
    /// The finished cases in `incidents`, by their last change: the next to archive come first.
    finished: BTreeSet<(DateTime<Utc>, IncidentId)>,
    /// Each worker's last reported position. Memory only: a position is stale within minutes, so a
    /// restart forgetting it costs nothing but one report.
    positions: FxHashMap<WorkerId, Position>,
    /// Dense table of grid links; `cell_grid` points into it.
    links: Vec<GridLinks>,
    cell_grid: FxHashMap<CellIndex, u32>,
    /// Centres of the cells on the outer edge of all grids, in a local equirectangular plane (see
    /// `locate::Plane`): the nearest grid of a point outside every grid is the grid of one of these.
    edge_points: RTree<EdgePoint>,
    /// The hexagons of those edge cells in the same plane, meters.
    edge_hexagons: Vec<geo::Polygon<f64>>,
    /// The largest centre-to-vertex distance of any edge hexagon, meters: bounds the search.
    edge_radius_m: f64,
    plane: locate::Plane,
    /// The fast path of `locate` inside the grids; `None` for an empty or very large world.
    raster: Option<raster::CellRaster>,
    /// Building footprint bounding boxes in degrees (EPSG:4326, lon/lat).
    building_boxes: RTree<BuildingBox>,
    /// The base map with the bounding boxes of its features (`world/basemap.rs`).
    base_map: basemap::BaseMap,
    /// The points of the open cases, `[lon, lat]` degrees: the duplicate check looks up only the cases
    /// near a new report instead of every case of the window.
    open_cases: RTree<OpenCase>,
    /// How many open cases each grid has (a case keeps its grid for life, even one located just
    /// outside it or after a boundary change), for the grids tile layer.
    open_by_grid: FxHashMap<GridId, usize>,
    /// Each open case's summary as a websocket snapshot lists it, serialized once when the case changes:
    /// every snapshot shares these texts instead of serializing every case again for every subscriber.
    open_summaries: BTreeMap<IncidentId, Arc<str>>,
    /// Cameras with their sectors and covered cells (`world/cameras.rs`).
    cameras: cameras::CameraIndex,
    /// The recent alarms and their acknowledgements (`world/alarms.rs`), applied from every event the
    /// world takes ([`World::observe_alarms`]).
    alarms: alarms::AlarmBook,
    /// The early warnings in force (`world/warnings.rs`), applied with the alarms.
    warnings: warnings::WarningBook,
    last_seq: i64,
}

/// A case's summary as JSON text.
fn summary_text(case: &Case) -> Arc<str> {
    let summary = crate::domain::event::IncidentSummary::of(case);
    Arc::from(serde_json::to_string(&summary).unwrap_or_else(|_| "null".to_owned()))
}

/// An open case's point, `[lon, lat]` degrees (EPSG:4326).
type OpenCase = GeomWithData<[f64; 2], IncidentId>;

/// A finished case's entry in the archive queue.
fn finished(case: &Case) -> Option<(DateTime<Utc>, IncidentId)> {
    case.state
        .status
        .is_finished()
        .then_some((case.updated_at, case.id()))
}

fn open_case(case: &Case) -> Option<OpenCase> {
    case.state
        .status
        .is_open()
        .then(|| GeomWithData::new([case.place.lon, case.place.lat], case.id()))
}

impl Default for World {
    fn default() -> Self {
        Self::from_snapshot(Snapshot::default())
    }
}

impl World {
    /// Builds the world and all its indexes from a store snapshot.
    #[must_use]
    pub fn from_snapshot(snapshot: Snapshot) -> Self {
        let mut world = Self {
            resolution: snapshot.resolution.unwrap_or(DEFAULT_RESOLUTION),
            regions: snapshot.regions.into_iter().map(|r| (r.id, r)).collect(),
            grids: snapshot.grids.into_iter().map(|g| (g.id, g)).collect(),
            buildings: snapshot.buildings.into_iter().map(|b| (b.id, b)).collect(),
            workers: snapshot.workers.into_iter().map(|w| (w.id, w)).collect(),
            categories: snapshot
                .categories
                .into_iter()
                .map(|c| (c.code.clone(), c))
                .collect(),
            departments: snapshot
                .departments
                .into_iter()
                .map(|d| (d.code.clone(), d))
                .collect(),
            incidents: snapshot
                .incidents
                .into_iter()
                .map(|c| (c.id(), c))
                .collect(),
            archived_before: snapshot.archived_before,
            archived_any: snapshot.archived,
            last_incident_id: snapshot.last_incident_id,
            finished: BTreeSet::new(),
            positions: FxHashMap::default(),
            grid_shapes: FxHashMap::default(),
            grid_boxes: RTree::new(),
            links: Vec::new(),
            cell_grid: FxHashMap::default(),
            edge_points: RTree::new(),
            edge_hexagons: Vec::new(),
            edge_radius_m: 0.0,
            plane: locate::Plane::default(),
            raster: None,
            building_boxes: RTree::new(),
            base_map: basemap::BaseMap::new(snapshot.base_lines, snapshot.base_areas),
            open_cases: RTree::new(),
            open_by_grid: FxHashMap::default(),
            open_summaries: BTreeMap::new(),
            cameras: cameras::CameraIndex::build(
                snapshot.cameras,
                snapshot.resolution.unwrap_or(DEFAULT_RESOLUTION),
            ),
            alarms: alarms::AlarmBook::default(),
            warnings: warnings::WarningBook::default(),
            last_seq: snapshot.last_seq,
        };
        world.open_cases =
            RTree::bulk_load(world.incidents.values().filter_map(open_case).collect());
        for case in world
            .incidents
            .values()
            .filter(|c| c.state.status.is_open())
        {
            *world.open_by_grid.entry(case.place.grid).or_default() += 1;
        }
        world.finished = world.incidents.values().filter_map(finished).collect();
        world.last_incident_id = (world.incidents.keys().next_back())
            .map_or(world.last_incident_id, |id| {
                id.0.max(world.last_incident_id)
            });
        world.open_summaries = world
            .incidents
            .values()
            .filter(|c| c.state.status.is_open())
            .map(|c| (c.id(), summary_text(c)))
            .collect();
        world.reindex_grids();
        world.building_boxes =
            RTree::bulk_load(world.buildings.values().filter_map(building_box).collect());
        world
    }

    fn reindex_grids(&mut self) {
        self.links.clear();
        self.cell_grid.clear();
        let cells: usize = self.grids.values().map(|g| g.cells.len()).sum();
        self.cell_grid.reserve(cells);
        self.plane =
            locate::Plane::around(self.grids.values().flat_map(|g| g.cells.iter().copied()));
        for grid in self.grids.values() {
            let index = u32::try_from(self.links.len()).expect("fewer than 2^32 grids");
            self.links.push(self.links_of(grid));
            for &cell in &grid.cells {
                self.cell_grid.insert(cell, index);
            }
        }
        self.index_edges();
        self.raster =
            raster::CellRaster::build(self.plane, self.cell_grid.iter().map(|(&c, &i)| (c, i)));
        self.index_grid_shapes();
    }

    /// Rebuilds the grids' tile shapes and the R-tree of their boxes from the boundaries.
    fn index_grid_shapes(&mut self) {
        self.grid_shapes.clear();
        let mut boxes = Vec::with_capacity(self.grids.len());
        for grid in self.grids.values() {
            let Some(bbox) = grid.boundary.bounding_rect() else {
                continue;
            };
            let projected = ProjectedPolygons::from_degrees(&grid.boundary).ok();
            boxes.push(GridBox::new(
                Rectangle::from_corners([bbox.min().x, bbox.min().y], [bbox.max().x, bbox.max().y]),
                grid.id,
            ));
            self.grid_shapes
                .insert(grid.id, GridShape { bbox, projected });
        }
        self.grid_boxes = RTree::bulk_load(boxes);
    }

    /// Indexes the cells with a neighbour outside every grid: only they can be nearest to an outside point.
    fn index_edges(&mut self) {
        let mut points = Vec::new();
        self.edge_hexagons.clear();
        self.edge_radius_m = 0.0;
        for (&cell, &index) in &self.cell_grid {
            let on_edge = cell
                .grid_disk::<Vec<_>>(1)
                .iter()
                .any(|n| !self.cell_grid.contains_key(n));
            if !on_edge {
                continue;
            }
            let centre = self.plane.project(LatLng::from(cell));
            let hexagon = self.plane.cell_polygon(cell);
            for v in &hexagon.exterior().0 {
                self.edge_radius_m = self
                    .edge_radius_m
                    .max((v.x - centre[0]).hypot(v.y - centre[1]));
            }
            let hexagon_index =
                u32::try_from(self.edge_hexagons.len()).expect("fewer than 2^32 edge cells");
            self.edge_hexagons.push(hexagon);
            points.push(EdgePoint::new(centre, (index, hexagon_index)));
        }
        self.edge_points = RTree::bulk_load(points);
    }

    fn links_of(&self, grid: &Grid) -> GridLinks {
        let mut links = GridLinks {
            grid: grid.id,
            community: grid.community,
            street: None,
            district: None,
        };
        let mut next = self.regions.get(&grid.community).and_then(|r| r.parent);
        while let Some(id) = next {
            let Some(region) = self.regions.get(&id) else {
                break;
            };
            match region.level {
                RegionLevel::Street => links.street = Some(id),
                RegionLevel::District => links.district = Some(id),
                RegionLevel::Community => {}
            }
            next = region.parent;
        }
        links
    }

    #[must_use]
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }

    /// Sequence number of the last event applied.
    #[must_use]
    pub fn last_seq(&self) -> i64 {
        self.last_seq
    }

    /// Records that the world reflects every event up to `seq`.
    pub fn advance(&mut self, seq: i64) {
        self.last_seq = self.last_seq.max(seq);
    }

    pub fn regions(&self) -> impl Iterator<Item = &Region> {
        self.regions.values()
    }

    #[must_use]
    pub fn region(&self, id: RegionId) -> Option<&Region> {
        self.regions.get(&id)
    }

    #[must_use]
    pub fn region_by_code(&self, code: &str) -> Option<&Region> {
        self.regions.values().find(|r| r.code == code)
    }

    pub fn grids(&self) -> impl Iterator<Item = &Grid> {
        self.grids.values()
    }

    #[must_use]
    pub fn grid(&self, id: GridId) -> Option<&Grid> {
        self.grids.get(&id)
    }

    /// The grids whose outline's bounding box meets `bbox` (`[min_lon, min_lat, max_lon, max_lat]`,
    /// degrees, edges included), in id order as [`Self::grids`], each with its tile shape. A grid
    /// with an empty outline meets nothing.
    #[must_use]
    pub fn grids_in_bbox(&self, bbox: [f64; 4]) -> Vec<(&Grid, &GridShape)> {
        let envelope = rstar::AABB::from_corners([bbox[0], bbox[1]], [bbox[2], bbox[3]]);
        let mut ids: Vec<GridId> = self
            .grid_boxes
            .locate_in_envelope_intersecting(&envelope)
            .map(|b| b.data)
            .collect();
        ids.sort_unstable();
        ids.into_iter()
            .filter_map(|id| Some((self.grids.get(&id)?, self.grid_shapes.get(&id)?)))
            .collect()
    }

    /// The hierarchy above a grid.
    #[must_use]
    pub fn grid_links(&self, id: GridId) -> Option<GridLinks> {
        let cell = self.grids.get(&id)?.cells.first()?;
        self.cell_grid.get(cell).map(|&i| self.links[i as usize])
    }

    /// The grid that owns `cell`, if any.
    #[must_use]
    pub fn grid_of_cell(&self, cell: CellIndex) -> Option<GridId> {
        self.cell_grid
            .get(&cell)
            .map(|&i| self.links[i as usize].grid)
    }

    pub fn buildings(&self) -> impl Iterator<Item = &Building> {
        self.buildings.values()
    }

    #[must_use]
    pub fn building(&self, id: BuildingId) -> Option<&Building> {
        self.buildings.get(&id)
    }

    /// Buildings whose footprint's bounding box meets `bbox` (`[min_lon, min_lat, max_lon, max_lat]`, degrees).
    pub fn buildings_in_bbox(&self, bbox: [f64; 4]) -> impl Iterator<Item = &Building> {
        let envelope = rstar::AABB::from_corners([bbox[0], bbox[1]], [bbox[2], bbox[3]]);
        self.building_boxes
            .locate_in_envelope_intersecting(&envelope)
            .filter_map(|b| self.buildings.get(&b.data))
    }

    /// Base-map lines whose bounding box meets `bbox` (`[min_lon, min_lat, max_lon, max_lat]`, degrees).
    pub fn base_lines_in_bbox(&self, bbox: [f64; 4]) -> impl Iterator<Item = &BaseLine> {
        self.base_map.lines_in_bbox(bbox)
    }

    /// Base-map areas whose bounding box meets `bbox` (`[min_lon, min_lat, max_lon, max_lat]`, degrees).
    pub fn base_areas_in_bbox(&self, bbox: [f64; 4]) -> impl Iterator<Item = &BaseArea> {
        self.base_map.areas_in_bbox(bbox)
    }

    pub fn workers(&self) -> impl Iterator<Item = &Worker> {
        self.workers.values()
    }

    #[must_use]
    pub fn worker(&self, id: WorkerId) -> Option<&Worker> {
        self.workers.get(&id)
    }

    /// The worker whose tracker sends `device_id`, found by its SHA-256 (only the hash is kept).
    #[must_use]
    pub fn worker_by_device(&self, device_id: &str) -> Option<&Worker> {
        let hash = crate::domain::worker::device_hash(device_id);
        self.workers
            .values()
            .find(|w| w.device_hash.as_deref() == Some(hash.as_str()))
    }

    pub fn categories(&self) -> impl Iterator<Item = &Category> {
        self.categories.values()
    }

    #[must_use]
    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.get(code)
    }

    pub fn departments(&self) -> impl Iterator<Item = &Department> {
        self.departments.values()
    }

    #[must_use]
    pub fn department(&self, code: &str) -> Option<&Department> {
        self.departments.get(code)
    }

    /// A worker's last reported position.
    #[must_use]
    pub fn position(&self, worker: WorkerId) -> Option<Position> {
        self.positions.get(&worker).copied()
    }

    /// Takes the workers' last positions from `before` (positions are memory only: a world reloaded
    /// from the store has none).
    pub fn keep_positions(&mut self, before: &World) {
        self.positions.clone_from(&before.positions);
    }

    /// Records a worker's position, unless an older report arrives after a newer one.
    pub fn set_position(&mut self, worker: WorkerId, position: Position) {
        let entry = self.positions.entry(worker).or_insert(position);
        if entry.at <= position.at {
            *entry = position;
        }
    }

    /// Every case the world holds, oldest (lowest id) first: all but the archived (see
    /// [`Self::archived_before`]), which a reader of history must also ask the store for.
    #[must_use = "iterators are lazy"]
    pub fn incidents(&self) -> impl DoubleEndedIterator<Item = &Case> {
        self.incidents.values()
    }

    /// A case the world holds; `None` for no such case, or an archived one (see [`Self::archived_before`]).
    #[must_use]
    pub fn incident(&self, id: IncidentId) -> Option<&Case> {
        self.incidents.get(&id)
    }

    /// The archive line: finished cases (closed, cancelled, merged) last changed before it are only in
    /// the store. `None` while the world holds every case.
    #[must_use]
    pub fn archived_before(&self) -> Option<DateTime<Utc>> {
        self.archived_before
    }

    /// The archive line if any case lies past it: `None` while the world holds every case, so a reader
    /// asks the store only when the store has something the world has not (and a store outage does
    /// not stop reads that the world can answer).
    #[must_use]
    pub fn archive_line(&self) -> Option<DateTime<Utc>> {
        self.archived_before.filter(|_| self.archived_any)
    }

    /// Whether `id` may be an archived case: the world does not hold it, something is archived, and
    /// the id is not above every case the world has known (so a made-up id costs no store read).
    #[must_use]
    pub fn may_be_archived(&self, id: IncidentId) -> bool {
        self.archived_any
            && id.0 > 0
            && id.0 <= self.last_incident_id
            && !self.incidents.contains_key(&id)
    }

    /// How many cases the world holds, and how many of them are finished.
    #[must_use]
    pub fn case_counts(&self) -> (usize, usize) {
        (self.incidents.len(), self.finished.len())
    }

    /// Archives the finished cases last changed before `before`: they leave the world (the store keeps
    /// them, and readers of history ask it). The line only moves forward. Returns how many left.
    pub fn archive(&mut self, before: DateTime<Utc>) -> usize {
        let before = self.archived_before.map_or(before, |line| line.max(before));
        self.archived_before = Some(before);
        let mut gone = 0;
        while let Some(&(at, id)) = self.finished.first() {
            if at >= before {
                break;
            }
            self.finished.pop_first();
            self.incidents.remove(&id);
            gone += 1;
        }
        self.archived_any |= gone > 0;
        gone
    }

    /// Open cases whose point lies in `bbox` (`[min_lon, min_lat, max_lon, max_lat]`, degrees).
    pub fn open_incidents_in_bbox(&self, bbox: [f64; 4]) -> impl Iterator<Item = &Case> {
        let envelope = rstar::AABB::from_corners([bbox[0], bbox[1]], [bbox[2], bbox[3]]);
        self.open_cases
            .locate_in_envelope(&envelope)
            .filter_map(|c| self.incidents.get(&c.data))
    }

    /// How many open cases the grid has.
    #[must_use]
    pub fn open_cases_of_grid(&self, grid: GridId) -> usize {
        self.open_by_grid.get(&grid).copied().unwrap_or(0)
    }

    /// Applies a committed case (new or changed).
    pub fn apply_incident(&mut self, case: Case) {
        let before = self.incidents.get(&case.id()).and_then(open_case);
        let after = open_case(&case);
        let old_grid = self.incidents.get(&case.id()).map(|c| c.place.grid);
        // A boundary change moves an open case to another grid without changing its point.
        if before != after || (before.is_some() && old_grid != Some(case.place.grid)) {
            if let Some(entry) = before {
                self.open_cases.remove(&entry);
                if let Some(count) = old_grid.and_then(|g| self.open_by_grid.get_mut(&g)) {
                    *count = count.saturating_sub(1);
                }
            }
            if let Some(entry) = after {
                self.open_cases.insert(entry);
                *self.open_by_grid.entry(case.place.grid).or_default() += 1;
            }
        }
        if case.state.status.is_open() {
            self.open_summaries.insert(case.id(), summary_text(&case));
        } else {
            self.open_summaries.remove(&case.id());
        }
        self.last_incident_id = self.last_incident_id.max(case.id().0);
        if let Some(entry) = self.incidents.get(&case.id()).and_then(finished) {
            self.finished.remove(&entry);
        }
        if let Some(entry) = finished(&case) {
            self.finished.insert(entry);
        }
        self.incidents.insert(case.id(), case);
    }

    /// The open cases, lowest id first, each with its summary serialized (the text a snapshot lists).
    pub fn open_summaries(&self) -> impl Iterator<Item = (&Case, &Arc<str>)> {
        self.open_summaries
            .iter()
            .filter_map(|(id, text)| Some((self.incidents.get(id)?, text)))
    }

    /// Applies a committed boundary change: the community's grids as written (an emptied grid keeps
    /// its row with no cells) and the buildings that changed grid, then rebuilds the cell index.
    pub fn apply_boundary(&mut self, grids: Vec<Grid>, buildings: &[(BuildingId, GridId)]) {
        for grid in grids {
            self.grids.insert(grid.id, grid);
        }
        for &(id, grid) in buildings {
            if let Some(building) = self.buildings.get_mut(&id) {
                building.grid = Some(grid);
            }
        }
        self.reindex_grids();
    }

    /// Applies a committed category.
    pub fn apply_category(&mut self, category: Category) {
        self.categories.insert(category.code.clone(), category);
    }

    /// Applies a committed department.
    pub fn apply_department(&mut self, department: Department) {
        self.departments.insert(department.code.clone(), department);
    }

    /// Applies a committed region.
    pub fn apply_region(&mut self, region: Region) {
        self.regions.insert(region.id, region);
        // A new parent link can change the hierarchy of existing grids.
        self.reindex_grids();
    }

    /// Applies a committed building, adding its households to its grid.
    pub fn apply_new_building(&mut self, building: Building) {
        if let Some(grid) = building.grid.and_then(|id| self.grids.get_mut(&id)) {
            grid.households += building.households;
            grid.building_count += 1;
        }
        if let Some(bbox) = building_box(&building) {
            self.building_boxes.insert(bbox);
        }
        self.buildings.insert(building.id, building);
    }

    /// The recent alarms (`world/alarms.rs`).
    #[must_use]
    pub fn alarms(&self) -> &alarms::AlarmBook {
        &self.alarms
    }

    /// Takes the alarms and warnings from `before`: a world reloaded from the store has none (they are
    /// derived from the log, not stored), so a reload keeps them and applies what it read after.
    pub fn keep_alarms(&mut self, before: &World) {
        self.alarms.clone_from(&before.alarms);
        self.warnings.clone_from(&before.warnings);
    }

    /// The early warnings in force, by key (`world/warnings.rs`).
    #[must_use]
    pub fn warnings(&self) -> &BTreeMap<String, crate::warnings::Warning> {
        self.warnings.active()
    }

    /// Applies what `event` means for the alarms: the alarms it raises (`crate::alarms::raised`,
    /// placed in a grid by [`Self::place_alarm`]) or the acknowledgement it records, then drops what is
    /// past its time at the event's time; and what it means for the warnings in force. Called for every
    /// event the world takes, in log order.
    pub fn observe_alarms(&mut self, event: &crate::domain::Event) {
        for mut alarm in crate::alarms::raised(event) {
            self.place_alarm(&mut alarm);
            self.alarms.raise(alarm);
        }
        if let crate::domain::Change::AlarmAcknowledged(ack) = &event.change {
            self.alarms.acknowledge(ack, event.seq);
        }
        self.alarms.prune(event.at);
        self.warnings.observe(event);
    }

    /// Gives an alarm without a grid (an area alert) the grid at its point, or for a point outside
    /// every grid the nearest one, as `locate` gives a case; with no grids at all it stays without.
    pub fn place_alarm(&self, alarm: &mut crate::domain::Alarm) {
        if alarm.grid.is_some() {
            return;
        }
        if let Some(links) = self.locate(alarm.lat, alarm.lon).ok().and_then(|l| l.links) {
            alarm.grid = Some(links.grid);
            alarm.community = Some(links.community);
            alarm.street = links.street;
            alarm.district = links.district;
        }
    }

    /// Applies a committed worker (new or changed).
    pub fn apply_worker(&mut self, worker: Worker) {
        self.workers.insert(worker.id, worker);
    }
}

fn building_box(building: &Building) -> Option<BuildingBox> {
    let rect = bounding_rect(&building.footprint)?;
    Some(BuildingBox::new(
        Rectangle::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y]),
        building.id,
    ))
}

fn bounding_rect(shape: &MultiPolygon<f64>) -> Option<geo::Rect<f64>> {
    shape.bounding_rect()
}
