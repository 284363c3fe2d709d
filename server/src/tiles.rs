//! Vector tiles of the in-memory world: the layer registry, the tile cache and exact invalidation.
//!
//! - [`layers`]: one render function per layer, reading only the world (never the store).
//! - [`cache`]: a byte-bounded LRU of encoded tiles, with per-layer epochs.
//! - [`invalidate`]: the tiles a point, box or H3 cell touches at each zoom (buffer included).
//!
//! Every committed change goes through [`Tiles::invalidate`] from the core's write path
//! (`core::Writer::stored`; positions from `Core::track`), *after* the world changed and *before* the
//! write is answered: the touched tiles leave the cache and websocket subscribers that asked for
//! `tiles` get `tiles_invalidated`.
//! [`touched`] names every `domain::event::Change` variant, so a new kind of change must say what it
//! draws. HTTP lives in `api/tiles.rs`; this module knows nothing of requests or the store.

pub mod cache;
pub mod invalidate;
pub mod layers;

use std::ops::RangeInclusive;
use std::sync::Arc;

use geo::{BoundingRect, Rect};
use gridwatch_tiles::{MvtError, TileBuilder, TileId};
use rustc_hash::FxHashMap;

use crate::domain::{Change, Event, GridId, IncidentId};
use crate::live::Hub;
use crate::world::{Visibility, World};
pub use cache::{Encoded, ScopeKey, TileCache};
pub use invalidate::TileRect;

/// The window of the `patrol_coverage` layer, hours.
pub const COVERAGE_WINDOW_H: i64 = 24;

/// The default cache budget (`--tile-cache-mib`).
pub const DEFAULT_CACHE_BYTES: usize = 64 * 1024 * 1024;

/// What a render function sees.
pub struct RenderCtx<'w> {
    pub world: &'w World,
    pub visibility: &'w Visibility,
    pub tile: TileId,
    pub now: chrono::DateTime<chrono::Utc>,
    /// Cells visited by patrols within [`COVERAGE_WINDOW_H`], with the last visit (only for
    /// `patrol_coverage`; the patrol book lives outside the world).
    pub patrol_visits: Vec<(h3o::CellIndex, chrono::DateTime<chrono::Utc>)>,
    /// The earliest time after which something drawn changes without an event (a case is overdue
    /// once its deadline has passed): the cached tile is not served after it.
    pub expires: std::cell::Cell<Option<chrono::DateTime<chrono::Utc>>>,
}

impl RenderCtx<'_> {
    /// Notes that the tile stops being true after `at` (ignored when `at` is already past).
    pub fn expire_at(&self, at: chrono::DateTime<chrono::Utc>) {
        if at >= self.now && self.expires.get().is_none_or(|e| at < e) {
            self.expires.set(Some(at));
        }
    }
}

/// An MVT layer inside a tile set, with its attribute names and types for TileJSON.
#[derive(Debug)]
pub struct VectorLayer {
    pub id: &'static str,
    pub fields: &'static [(&'static str, &'static str)],
}

/// One tile set served at `/tiles/{name}/…`. Adding a layer is one entry here and a render function.
pub struct LayerSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub minzoom: u8,
    pub maxzoom: u8,
    pub vector_layers: &'static [VectorLayer],
    /// Whether the tile depends on the caller's scope (cached per scope).
    pub scoped: bool,
    /// What the caller needs besides [`Permission::ReadMap`](crate::domain::Permission): the permission of
    /// the REST resource the layer shows, so a tile never shows what that resource would refuse.
    pub permission: crate::domain::Permission,
    pub render: fn(&RenderCtx<'_>, &mut TileBuilder) -> Result<(), MvtError>,
}

impl LayerSpec {
    #[must_use]
    pub fn zooms(&self) -> RangeInclusive<u8> {
        self.minzoom..=self.maxzoom
    }
}

pub use layers::LAYERS;

/// The index of a layer by name.
#[must_use]
pub fn layer_index(name: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.name == name)
}

fn index(name: &str) -> usize {
    layer_index(name).expect("a registered layer")
}

/// Tiles touched by one change, per layer, with the grids they concern (empty: everyone's).
#[derive(Debug, Default)]
pub struct Dirty {
    layers: FxHashMap<usize, (Vec<TileRect>, Vec<GridId>)>,
}

impl Dirty {
    fn add(&mut self, layer: &str, rects: Vec<TileRect>, grids: &[GridId]) {
        let entry = self.layers.entry(index(layer)).or_default();
        entry.0.extend(rects);
        entry.1.extend_from_slice(grids);
    }

    /// A point in `layer` (degrees).
    pub fn point(&mut self, layer: &str, lon: f64, lat: f64, grids: &[GridId]) {
        let rects = invalidate::point_rects(lon, lat, LAYERS[index(layer)].zooms());
        self.add(layer, rects, grids);
    }

    /// A shape's bounding box in `layer` (degrees).
    pub fn bbox(&mut self, layer: &str, bbox: Option<Rect<f64>>, grids: &[GridId]) {
        if let Some(bbox) = bbox {
            let rects = invalidate::bbox_rects(bbox, LAYERS[index(layer)].zooms());
            self.add(layer, rects, grids);
        }
    }

    /// An H3 aggregate layer's cell.
    pub fn cell(&mut self, layer: &str, cell: h3o::CellIndex, grids: &[GridId]) {
        let rects = invalidate::cell_rects(cell, LAYERS[index(layer)].zooms());
        self.add(layer, rects, grids);
    }

    /// An H3 aggregate layer's cells: as [`Dirty::cell`] for each, found from their distinct ancestors.
    pub fn cells(&mut self, layer: &str, cells: &[h3o::CellIndex], grids: &[GridId]) {
        let rects = invalidate::cells_rects(cells, LAYERS[index(layer)].zooms());
        self.add(layer, rects, grids);
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The touched tiles, merged and deduplicated, per layer name.
    #[must_use]
    pub fn into_layers(self) -> Vec<(usize, Vec<TileRect>, Vec<GridId>)> {
        let mut out: Vec<_> = self
            .layers
            .into_iter()
            .map(|(layer, (mut rects, mut grids))| {
                rects.sort_unstable();
                rects.dedup();
                grids.sort_unstable();
                grids.dedup();
                (layer, rects, grids)
            })
            .collect();
        out.sort_unstable_by_key(|(l, _, _)| *l);
        out
    }
}

/// What an event draws in `world`: called before and after applying it, so old and new places count.
/// Every kind is named: a new one does not compile until it says what it draws (most draw nothing).
pub fn touched(world: &World, event: &Event, dirty: &mut Dirty) {
    match &event.change {
        Change::IncidentCreated(summary) => incident(world, summary.id, dirty),
        Change::IncidentUpdated(updated) => {
            for summary in &updated.incidents {
                incident(world, summary.id, dirty);
            }
        }
        Change::WorkerCreated(worker) | Change::WorkerUpdated(worker) => {
            if let Some(worker) = world.worker(worker.id) {
                let grids: Vec<GridId> = worker.grids.iter().map(|d| d.grid_id).collect();
                if let Some(p) = world.position(worker.id) {
                    dirty.point("workers", p.lon, p.lat, &grids);
                }
                for &g in &grids {
                    dirty.bbox(
                        "grids",
                        world.grid(g).and_then(|g| g.boundary.bounding_rect()),
                        &[g],
                    );
                }
            }
        }
        Change::RegionCreated(region) => {
            if let Some(region) = world.region(region.id) {
                let bbox = region.boundary.bounding_rect();
                dirty.bbox("communities", bbox, &[]);
                dirty.bbox("basemap", bbox, &[]);
            }
        }
        Change::BuildingCreated(building) => {
            if let Some(b) = world.building(building.id) {
                let grids: Vec<GridId> = b.grid.into_iter().collect();
                let bbox = b.footprint.bounding_rect();
                dirty.bbox("buildings", bbox, &grids);
                dirty.bbox("basemap", bbox, &[]);
                dirty.cell("household_density", b.cell, &grids);
                if let Some(grid) = b.grid.and_then(|g| world.grid(g)) {
                    dirty.bbox("grids", grid.boundary.bounding_rect(), &grids);
                    let community = world
                        .region(grid.community)
                        .and_then(|r| r.boundary.bounding_rect());
                    dirty.bbox("communities", community, &grids);
                }
            }
        }
        Change::CameraCreated(camera)
        | Change::CameraUpdated(camera)
        | Change::CameraDeleted(camera) => {
            // Run before and after the change: a moved or deleted camera clears where it was too.
            if let Some(placed) = world.camera(camera.id) {
                dirty.bbox("cameras", placed.sector.bounding_rect(), &[]);
                dirty.cells("camera_coverage", &placed.cells, &[]);
            }
        }
        Change::BoundaryChanged(changed) => {
            // Every grid of the community, as it was and as it is: outlines, households, buildings.
            for &g in &changed.grids {
                if let Some(grid) = world.grid(g) {
                    let bbox = grid.boundary.bounding_rect();
                    dirty.bbox("grids", bbox, &[grid.id]);
                    dirty.bbox("buildings", bbox, &[grid.id]);
                }
            }
        }
        // An import replaces the whole world and clears the cache (`AppState::replace_world`).
        Change::CityImported(_)
        // Patrols draw `patrol_coverage` from cell visits, which `patrols::observe` invalidates per
        // batch; no layer draws patrols, checkpoints or check-ins themselves.
        | Change::PatrolStarted(_)
        | Change::PatrolEnded(_)
        | Change::PatrolGridEntered(_)
        | Change::PatrolGridExited(_)
        | Change::PatrolCheckedIn(_)
        | Change::CheckpointCreated(_)
        // No layer draws tokens, photos, categories, departments, alerts or draft plans.
        | Change::TokenCreated(_)
        | Change::TokenRevoked(_)
        | Change::UserCreated(_)
        | Change::UserUpdated(_)
        | Change::IncidentPhotoAdded(_)
        | Change::CategoryUpdated(_)
        | Change::DepartmentUpdated(_)
        | Change::AlertRaised(_)
        | Change::PlanCreated(_)
        // An alarm is drawn by no tile layer.
        | Change::AlarmAcknowledged(_) => {}
        // Run before and after the change: a cleared warning is in the world before it.
        Change::WarningRaised(warning) => warning_cells(warning, dirty),
        Change::WarningCleared(cleared) => {
            if let Some(warning) = world.warnings().get(&cleared.key) {
                warning_cells(warning, dirty);
            }
        }
    }
}

/// The `warnings` tiles a warning's cells meet.
fn warning_cells(warning: &crate::warnings::Warning, dirty: &mut Dirty) {
    let cells: Vec<h3o::CellIndex> = warning
        .cells
        .iter()
        .filter_map(|c| c.parse().ok())
        .collect();
    let grids: Vec<GridId> = warning.grids.iter().map(|&g| GridId(g)).collect();
    dirty.cells("warnings", &cells, &grids);
}

fn incident(world: &World, id: IncidentId, dirty: &mut Dirty) {
    let Some(case) = world.incident(id) else {
        return;
    };
    let grids = [case.place.grid];
    dirty.point("incidents", case.place.lon, case.place.lat, &grids);
    dirty.cell("incident_density", case.place.cell, &grids);
    dirty.bbox(
        "grids",
        world
            .grid(case.place.grid)
            .and_then(|g| g.boundary.bounding_rect()),
        &grids,
    );
}

/// The tile service's shared part: the cache, and the hub to tell subscribers.
#[derive(Debug)]
pub struct Tiles {
    pub cache: TileCache,
    hub: Arc<Hub>,
}

impl Tiles {
    #[must_use]
    pub fn new(budget_bytes: usize, hub: Arc<Hub>) -> Self {
        Self {
            cache: TileCache::new(budget_bytes, LAYERS.len()),
            hub,
        }
    }

    /// Drops the touched tiles from the cache, then tells the subscribers. Call after the world
    /// changed and before the write is answered.
    pub fn invalidate(&self, dirty: Dirty) {
        for (layer, rects, grids) in dirty.into_layers() {
            self.cache.invalidate(layer, &rects);
            self.hub.publish_tiles(LAYERS[layer].name, &rects, &grids);
        }
    }

    /// Everything changed (a new world).
    pub fn clear(&self) {
        self.cache.clear();
    }
}

/// Renders one tile of `layer` for a caller.
pub fn render(layer: &LayerSpec, ctx: &RenderCtx<'_>) -> Result<Vec<u8>, MvtError> {
    let mut builder = TileBuilder::new(ctx.tile);
    (layer.render)(ctx, &mut builder)?;
    Ok(builder.encode())
}

/// The cache key part of a caller's scope.
#[must_use]
pub fn scope_key(layer: &LayerSpec, visibility: &Visibility) -> ScopeKey {
    match visibility {
        Visibility::Grids(set) if layer.scoped => {
            let mut ids: Vec<i64> = set.iter().map(|g| g.0).collect();
            ids.sort_unstable();
            ScopeKey::Grids(Arc::from(ids))
        }
        _ => ScopeKey::All,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_names_are_unique_and_every_invalidated_layer_is_registered() {
        let mut names: Vec<&str> = LAYERS.iter().map(|l| l.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), LAYERS.len());
        // The names `touched`, `tracking` and `patrols` invalidate: `index` panics on an unknown one.
        let mut dirty = Dirty::default();
        for name in [
            "incidents",
            "incident_density",
            "grids",
            "workers",
            "communities",
            "basemap",
            "buildings",
        ] {
            dirty.point(name, 113.11, 36.19, &[]);
        }
        let cell = h3o::LatLng::new(36.19, 113.11)
            .expect("a valid point")
            .to_cell(h3o::Resolution::Twelve);
        dirty.cell("household_density", cell, &[]);
        dirty.cell("patrol_coverage", cell, &[]);
        let layers = dirty.into_layers();
        assert_eq!(layers.len(), 9);
        for (layer, rects, _) in layers {
            let spec = &LAYERS[layer];
            assert!(
                rects.iter().all(|r| spec.zooms().contains(&r.z)),
                "{} only at its zooms",
                spec.name
            );
        }
    }
}
