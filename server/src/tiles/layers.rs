//! The tile sets and how each is drawn from the world. Geometry is handed to `gridwatch-tiles` in
//! degrees (EPSG:4326, lon/lat order); it projects, simplifies and clips.
//!
//! Every scoped layer shows only what the caller's `Visibility` covers, as the JSON API does.
//! Buildings carry counts only, never residents. To add a layer (cameras), add a `LayerSpec` to
//! [`LAYERS`], a render function here and its rule in `tiles::touched`.

use std::collections::HashMap;

use geo::{BoundingRect, Coord, Geometry, InteriorPoint, Point, Rect};
use gridwatch_tiles::{
    Aggregation, DEFAULT_BUFFER, DEFAULT_EXTENT, MvtError, TileBuilder, Value, add_h3_layer,
    resolution_for_zoom,
};
use h3o::CellIndex;

use super::{LayerSpec, RenderCtx, VectorLayer};
use crate::domain::worker::DutyStatus;
use crate::domain::{Permission, RegionLevel, Responsibility};

/// Every tile set, in catalog order.
pub static LAYERS: &[LayerSpec] = &[
    LayerSpec {
        name: "communities",
        description: "Community (社区) outlines with their households",
        minzoom: 10,
        maxzoom: 18,
        vector_layers: &[VectorLayer {
            id: "communities",
            fields: &[
                ("id", "Number"),
                ("code", "String"),
                ("name", "String"),
                ("households", "Number"),
            ],
        }],
        scoped: true,
        permission: Permission::ReadMap,
        render: communities,
    },
    LayerSpec {
        name: "grids",
        description: "Grid (网格) outlines: households, open cases, primary worker",
        minzoom: 12,
        maxzoom: 20,
        vector_layers: &[VectorLayer {
            id: "grids",
            fields: &[
                ("id", "Number"),
                ("code", "String"),
                ("name", "String"),
                ("households", "Number"),
                ("open_cases", "Number"),
                ("worker_id", "Number"),
                ("worker", "String"),
            ],
        }],
        scoped: true,
        permission: Permission::ReadMap,
        render: grids,
    },
    LayerSpec {
        name: "buildings",
        description: "Building footprints with household counts (counts only)",
        minzoom: 14,
        maxzoom: 20,
        vector_layers: &[VectorLayer {
            id: "buildings",
            fields: &[
                ("id", "Number"),
                ("households", "Number"),
                ("levels", "Number"),
                ("kind", "String"),
            ],
        }],
        scoped: true,
        permission: Permission::ReadBuildings,
        render: buildings,
    },
    LayerSpec {
        name: "incidents",
        description: "Open cases as points",
        minzoom: 10,
        maxzoom: 20,
        vector_layers: &[VectorLayer {
            id: "incidents",
            fields: &[
                ("id", "Number"),
                ("category", "String"),
                ("priority", "String"),
                ("status", "String"),
                ("overdue", "Boolean"),
            ],
        }],
        scoped: true,
        permission: Permission::ReadCases,
        render: incidents,
    },
    LayerSpec {
        name: "workers",
        description: "Latest positions of on-duty workers",
        minzoom: 10,
        maxzoom: 20,
        vector_layers: &[VectorLayer {
            id: "workers",
            fields: &[
                ("id", "Number"),
                ("name", "String"),
                ("kind", "String"),
                ("at", "String"),
            ],
        }],
        scoped: true,
        permission: Permission::ReadWorkers,
        render: workers,
    },
    LayerSpec {
        name: "incident_density",
        description: "Open cases per H3 cell (resolution by zoom)",
        minzoom: 8,
        maxzoom: 18,
        vector_layers: &[VectorLayer {
            id: "incident_density",
            fields: &[("h3", "String"), ("value", "Number"), ("count", "Number")],
        }],
        scoped: true,
        permission: Permission::ReadCases,
        render: incident_density,
    },
    LayerSpec {
        name: "household_density",
        description: "Households per H3 cell (resolution by zoom)",
        minzoom: 8,
        maxzoom: 18,
        vector_layers: &[VectorLayer {
            id: "household_density",
            fields: &[("h3", "String"), ("value", "Number"), ("count", "Number")],
        }],
        scoped: true,
        permission: Permission::ReadBuildings,
        render: household_density,
    },
    LayerSpec {
        name: "patrol_coverage",
        description: "Cells visited by patrols in the last 24 h, counted per H3 cell (resolution by zoom)",
        minzoom: 8,
        maxzoom: 18,
        vector_layers: &[VectorLayer {
            id: "patrol_coverage",
            fields: &[("h3", "String"), ("value", "Number"), ("count", "Number")],
        }],
        scoped: true,
        permission: Permission::ReadPatrols,
        render: patrol_coverage,
    },
    LayerSpec {
        name: "cameras",
        description: "Cameras (视频监控点): their points and view sectors",
        minzoom: 12,
        maxzoom: 20,
        vector_layers: &[
            VectorLayer {
                id: "cameras",
                fields: CAMERA_FIELDS,
            },
            VectorLayer {
                id: "camera_sectors",
                fields: CAMERA_FIELDS,
            },
        ],
        scoped: true,
        permission: Permission::ReadCameras,
        render: cameras,
    },
    LayerSpec {
        name: "warnings",
        description: "Early warnings (研判预警) in force: each warning's centre and its cells, with its evidence",
        minzoom: 10,
        maxzoom: 20,
        vector_layers: &[
            VectorLayer {
                id: "warnings",
                fields: WARNING_FIELDS,
            },
            VectorLayer {
                id: "warning_cells",
                fields: WARNING_FIELDS,
            },
        ],
        scoped: true,
        permission: Permission::ReadWarnings,
        render: warnings,
    },
    LayerSpec {
        name: "camera_coverage",
        description: "Online cameras seeing each H3 cell's centre (resolution by zoom: summed over the cells)",
        minzoom: 8,
        maxzoom: 18,
        vector_layers: &[VectorLayer {
            id: "camera_coverage",
            fields: &[("h3", "String"), ("value", "Number"), ("count", "Number")],
        }],
        scoped: true,
        permission: Permission::ReadCameras,
        render: camera_coverage,
    },
    LayerSpec {
        name: "basemap",
        description: "Base map from the city import: roads, railways, waterways, water, parks, buildings, region boundaries, place names",
        minzoom: 10,
        maxzoom: 20,
        vector_layers: &[
            VectorLayer {
                id: "landuse",
                fields: &[("kind", "String"), ("name", "String")],
            },
            VectorLayer {
                id: "water",
                fields: &[("kind", "String"), ("name", "String")],
            },
            VectorLayer {
                id: "waterway",
                fields: &[("kind", "String"), ("name", "String")],
            },
            VectorLayer {
                id: "road",
                fields: &[("kind", "String"), ("name", "String")],
            },
            VectorLayer {
                id: "building",
                fields: &[("kind", "String")],
            },
            VectorLayer {
                id: "boundary",
                fields: &[("level", "String"), ("name", "String")],
            },
            VectorLayer {
                id: "place",
                fields: &[("level", "String"), ("name", "String")],
            },
        ],
        scoped: false,
        permission: Permission::ReadMap,
        render: basemap,
    },
];

const CAMERA_FIELDS: &[(&str, &str)] = &[
    ("id", "Number"),
    ("name", "String"),
    ("kind", "String"),
    ("status", "String"),
    ("heading_deg", "Number"),
    ("fov_deg", "Number"),
    ("range_m", "Number"),
];

/// The tile's area plus its buffer, degrees (EPSG:4326).
fn buffered_bounds(ctx: &RenderCtx<'_>) -> Rect<f64> {
    widen(
        ctx.tile.bounds_deg(),
        f64::from(DEFAULT_BUFFER) / f64::from(DEFAULT_EXTENT),
    )
}

/// `rect` widened on every side by `fraction` of its size.
fn widen(rect: Rect<f64>, fraction: f64) -> Rect<f64> {
    let (dx, dy) = (rect.width() * fraction, rect.height() * fraction);
    Rect::new(
        Coord {
            x: rect.min().x - dx,
            y: rect.min().y - dy,
        },
        Coord {
            x: rect.max().x + dx,
            y: rect.max().y + dy,
        },
    )
}

fn meets(a: Rect<f64>, b: Option<Rect<f64>>) -> bool {
    b.is_some_and(|b| {
        a.min().x <= b.max().x
            && b.min().x <= a.max().x
            && a.min().y <= b.max().y
            && b.min().y <= a.max().y
    })
}

fn contains(r: Rect<f64>, lon: f64, lat: f64) -> bool {
    (r.min().x..=r.max().x).contains(&lon) && (r.min().y..=r.max().y).contains(&lat)
}

fn id(v: i64) -> u64 {
    v.unsigned_abs()
}

fn n(v: usize) -> Value {
    Value::Uint(v as u64)
}

fn communities(ctx: &RenderCtx<'_>, tile: &mut TileBuilder) -> Result<(), MvtError> {
    let bounds = buffered_bounds(ctx);
    let mut households: HashMap<crate::domain::RegionId, (u64, bool)> = HashMap::new();
    for g in ctx.world.grids() {
        let e = households.entry(g.community).or_default();
        e.0 += u64::from(g.households);
        e.1 |= ctx.visibility.grid(g.id);
    }
    let layer = tile.layer("communities")?;
    for r in ctx
        .world
        .regions()
        .filter(|r| r.level == RegionLevel::Community)
    {
        let (total, visible) = households.get(&r.id).copied().unwrap_or_default();
        if !(visible || matches!(ctx.visibility, crate::world::Visibility::All))
            || !meets(bounds, r.boundary.bounding_rect())
        {
            continue;
        }
        layer.add_feature_with_id(
            id(r.id.0),
            &Geometry::MultiPolygon(r.boundary.clone()),
            &[
                ("id", Value::Int(r.id.0)),
                ("code", Value::from(r.code.as_str())),
                ("name", Value::from(r.name.as_str())),
                ("households", Value::Uint(total)),
            ],
        )?;
    }
    Ok(())
}

/// Grid outlines: the world keeps each grid's box in an R-tree and its outline projected once to
/// web-mercator (`World::grids_in_bbox`), so a tile visits only the grids it meets and does no
/// trigonometry per vertex; the bytes equal drawing the outlines from degrees (tested below).
fn grids(ctx: &RenderCtx<'_>, tile: &mut TileBuilder) -> Result<(), MvtError> {
    let b = buffered_bounds(ctx);
    let drawn = ctx
        .world
        .grids_in_bbox([b.min().x, b.min().y, b.max().x, b.max().y]);
    let mut primary = HashMap::new();
    for w in ctx.world.workers() {
        for d in w
            .grids
            .iter()
            .filter(|d| d.responsibility == Responsibility::Primary)
        {
            primary.insert(d.grid_id, w);
        }
    }
    let layer = tile.layer("grids")?;
    let mut props = Vec::with_capacity(7);
    for (g, shape) in drawn {
        if !ctx.visibility.grid(g.id) {
            continue;
        }
        props.clear();
        props.extend([
            ("id", Value::Int(g.id.0)),
            ("code", Value::from(g.code.as_str())),
            ("name", Value::from(g.name.as_str())),
            ("households", Value::Uint(u64::from(g.households))),
            ("open_cases", n(ctx.world.open_cases_of_grid(g.id))),
        ]);
        if let Some(w) = primary.get(&g.id) {
            props.push(("worker_id", Value::Int(w.id.0)));
            props.push(("worker", Value::from(w.name.as_str())));
        }
        if let Some(projected) = &shape.projected {
            layer.add_projected(Some(id(g.id.0)), projected, &props)?;
        } else {
            layer.add_feature_with_id(
                id(g.id.0),
                &Geometry::MultiPolygon(g.boundary.clone()),
                &props,
            )?;
        }
    }
    Ok(())
}

fn buildings(ctx: &RenderCtx<'_>, tile: &mut TileBuilder) -> Result<(), MvtError> {
    let b = buffered_bounds(ctx);
    let layer = tile.layer("buildings")?;
    for building in ctx
        .world
        .buildings_in_bbox([b.min().x, b.min().y, b.max().x, b.max().y])
    {
        if !building.grid.is_some_and(|g| ctx.visibility.grid(g)) {
            continue;
        }
        let mut props = vec![
            ("id", Value::Int(building.id.0)),
            ("households", Value::Uint(u64::from(building.households))),
            ("kind", Value::from(building.kind.as_str())),
        ];
        if let Some(levels) = building.levels {
            props.push(("levels", Value::Uint(u64::from(levels))));
        }
        layer.add_feature_with_id(
            id(building.id.0),
            &Geometry::MultiPolygon(building.footprint.clone()),
            &props,
        )?;
    }
    Ok(())
}

fn incidents(ctx: &RenderCtx<'_>, tile: &mut TileBuilder) -> Result<(), MvtError> {
    let bounds = buffered_bounds(ctx);
    let layer = tile.layer("incidents")?;
    for case in ctx.world.incidents() {
        let p = &case.place;
        if !case.state.status.is_open()
            || !ctx.visibility.grid(p.grid)
            || !contains(bounds, p.lon, p.lat)
        {
            continue;
        }
        // `overdue` flips at the deadline with no event to invalidate the tile.
        if let Some(deadline) = case.state.deadline {
            ctx.expire_at(deadline);
        }
        layer.add_feature_with_id(
            id(case.id().0),
            &Geometry::Point(Point::new(p.lon, p.lat)),
            &[
                ("id", Value::Int(case.id().0)),
                ("category", Value::from(case.category.as_str())),
                ("priority", Value::from(case.priority.as_str())),
                ("status", Value::from(case.state.status.as_str())),
                (
                    "overdue",
                    Value::Bool(crate::cases::is_overdue(case, ctx.now)),
                ),
            ],
        )?;
    }
    Ok(())
}

fn workers(ctx: &RenderCtx<'_>, tile: &mut TileBuilder) -> Result<(), MvtError> {
    let bounds = buffered_bounds(ctx);
    let layer = tile.layer("workers")?;
    for w in ctx.world.workers() {
        if w.duty != DutyStatus::OnDuty || !ctx.visibility.any(w.grids.iter().map(|d| d.grid_id)) {
            continue;
        }
        let Some(p) = ctx.world.position(w.id) else {
            continue;
        };
        if !contains(bounds, p.lon, p.lat) {
            continue;
        }
        layer.add_feature_with_id(
            id(w.id.0),
            &Geometry::Point(Point::new(p.lon, p.lat)),
            &[
                ("id", Value::Int(w.id.0)),
                ("name", Value::from(w.name.as_str())),
                ("kind", Value::from(w.kind.as_str())),
                ("at", Value::from(p.at.to_rfc3339().as_str())),
            ],
        )?;
    }
    Ok(())
}

/// The tile widened by 2.5 edges of the zoom's aggregate cell: every input cell whose rolled-up
/// ancestor meets the tile lies inside (an ancestor is about two edges across).
fn aggregate_bounds(ctx: &RenderCtx<'_>) -> Rect<f64> {
    let b = buffered_bounds(ctx);
    let edge_deg = resolution_for_zoom(ctx.tile.z()).edge_length_km() * 2.5 / 111.0;
    let lat = b.max().y.abs().max(b.min().y.abs()).min(85.0).to_radians();
    Rect::new(
        Coord {
            x: b.min().x - edge_deg / lat.cos(),
            y: b.min().y - edge_deg,
        },
        Coord {
            x: b.max().x + edge_deg / lat.cos(),
            y: b.max().y + edge_deg,
        },
    )
}

fn incident_density(ctx: &RenderCtx<'_>, tile: &mut TileBuilder) -> Result<(), MvtError> {
    let near = aggregate_bounds(ctx);
    let cells: Vec<(CellIndex, f64)> = ctx
        .world
        .incidents()
        .filter(|c| {
            c.state.status.is_open()
                && ctx.visibility.grid(c.place.grid)
                && contains(near, c.place.lon, c.place.lat)
        })
        .map(|c| (c.place.cell, 1.0))
        .collect();
    aggregate(tile, "incident_density", &cells)
}

fn household_density(ctx: &RenderCtx<'_>, tile: &mut TileBuilder) -> Result<(), MvtError> {
    let b = aggregate_bounds(ctx);
    let cells: Vec<(CellIndex, f64)> = ctx
        .world
        .buildings_in_bbox([b.min().x, b.min().y, b.max().x, b.max().y])
        .filter(|x| x.grid.is_some_and(|g| ctx.visibility.grid(g)))
        .map(|x| (x.cell, f64::from(x.households)))
        .collect();
    aggregate(tile, "household_density", &cells)
}

fn patrol_coverage(ctx: &RenderCtx<'_>, tile: &mut TileBuilder) -> Result<(), MvtError> {
    let window = chrono::Duration::hours(super::COVERAGE_WINDOW_H);
    let mut cells = Vec::new();
    for &(cell, at) in &ctx.patrol_visits {
        if at + window < ctx.now
            || !ctx
                .world
                .grid_of_cell(cell)
                .is_some_and(|g| ctx.visibility.grid(g))
        {
            continue;
        }
        // A visit leaves the window with no event: the tile holds until the oldest drawn one does.
        ctx.expire_at(at + window);
        cells.push((cell, 1.0));
    }
    aggregate(tile, "patrol_coverage", &cells)
}

/// Cameras are city-wide (not scoped to grids): every reader of the map sees them, as `/api/cameras`.
fn cameras(ctx: &RenderCtx<'_>, tile: &mut TileBuilder) -> Result<(), MvtError> {
    let bounds = buffered_bounds(ctx);
    let props = |c: &crate::domain::camera::Camera| {
        vec![
            ("id", Value::Int(c.id.0)),
            ("name", Value::from(c.name.as_str())),
            ("kind", Value::from(c.kind.as_str())),
            ("status", Value::from(c.status.as_str())),
            ("heading_deg", Value::Double(c.heading_deg)),
            ("fov_deg", Value::Double(c.fov_deg)),
            ("range_m", Value::Double(c.range_m)),
        ]
    };
    let near: Vec<_> = ctx
        .world
        .cameras()
        .filter(|p| meets(bounds, p.sector.bounding_rect()))
        .filter(|p| visible_camera(ctx, p))
        .collect();
    let layer = tile.layer("cameras")?;
    for placed in near
        .iter()
        .filter(|p| contains(bounds, p.camera.lon, p.camera.lat))
    {
        let c = &placed.camera;
        layer.add_feature_with_id(
            id(c.id.0),
            &Geometry::Point(Point::new(c.lon, c.lat)),
            &props(c),
        )?;
    }
    let layer = tile.layer("camera_sectors")?;
    for placed in &near {
        layer.add_feature_with_id(
            id(placed.camera.id.0),
            &Geometry::Polygon(placed.sector.clone()),
            &props(&placed.camera),
        )?;
    }
    Ok(())
}

/// The fields of both warning layers.
const WARNING_FIELDS: &[(&str, &str)] = &[
    ("key", "String"),
    ("kind", "String"),
    ("group", "String"),
    ("observed", "Number"),
    ("expected", "Number"),
    ("p_value", "Number"),
    ("cases", "Number"),
    ("raised_at", "String"),
];

/// The warnings in force whose grids the caller sees: a point at the centre of each one's cells
/// (`warnings`) and the outline of its cells (`warning_cells`).
fn warnings(ctx: &RenderCtx<'_>, tile: &mut TileBuilder) -> Result<(), MvtError> {
    let bounds = buffered_bounds(ctx);
    let shown: Vec<_> = ctx
        .world
        .warnings()
        .values()
        .filter(|w| {
            ctx.visibility
                .any(w.grids.iter().map(|&g| crate::domain::GridId(g)))
        })
        .map(|w| {
            let cells: Vec<CellIndex> = w.cells.iter().filter_map(|c| c.parse().ok()).collect();
            (w, gridwatch_geodata::cells::outline(&cells))
        })
        .filter(|(_, outline)| meets(bounds, outline.bounding_rect()))
        .collect();
    let props = |w: &crate::warnings::Warning| {
        vec![
            ("key", Value::from(w.key.as_str())),
            ("kind", Value::from(w.kind.as_str())),
            ("group", Value::from(w.group.as_str())),
            ("observed", Value::Uint(w.observed)),
            ("expected", Value::Double(w.expected)),
            ("p_value", Value::Double(w.p_value)),
            ("cases", n(w.cases.len())),
            ("raised_at", Value::from(w.raised_at.to_rfc3339().as_str())),
        ]
    };
    let layer = tile.layer("warnings")?;
    for (warning, _) in &shown {
        if let Some((lat, lon)) = crate::api::warnings::centre(warning)
            && contains(bounds, lon, lat)
        {
            layer.add_feature(&Geometry::Point(Point::new(lon, lat)), &props(warning))?;
        }
    }
    let layer = tile.layer("warning_cells")?;
    for (warning, outline) in &shown {
        layer.add_feature(&Geometry::MultiPolygon(outline.clone()), &props(warning))?;
    }
    Ok(())
}

fn camera_coverage(ctx: &RenderCtx<'_>, tile: &mut TileBuilder) -> Result<(), MvtError> {
    let bounds = aggregate_bounds(ctx);
    let mut cells = Vec::new();
    for placed in ctx.world.cameras() {
        if placed.camera.status != crate::domain::camera::CameraStatus::Online
            || !meets(bounds, placed.sector.bounding_rect())
            || !visible_camera(ctx, placed)
        {
            continue;
        }
        cells.extend(placed.cells.iter().map(|&c| (c, 1.0)));
    }
    aggregate(tile, "camera_coverage", &cells)
}

/// Whether the caller's scope covers the camera's position, as `/api/cameras` decides.
fn visible_camera(ctx: &RenderCtx<'_>, placed: &crate::world::PlacedCamera) -> bool {
    ctx.world
        .point_visible(ctx.visibility, placed.camera.lat, placed.camera.lon)
}

fn aggregate(
    tile: &mut TileBuilder,
    name: &str,
    cells: &[(CellIndex, f64)],
) -> Result<(), MvtError> {
    match add_h3_layer(tile, name, cells, Aggregation::Sum) {
        Err(gridwatch_tiles::H3AggError::Mvt(e)) => Err(e),
        // Counts and households are always finite, so `NonFiniteValue` cannot happen.
        _ => Ok(()),
    }
}

// The base map's roads and areas need no rule in `tiles::touched`: only a city import writes them, an
// import refuses a store that already holds a city, and the world (with an empty tile cache) is built
// from the snapshot after it, at start, with an empty cache.
fn basemap(ctx: &RenderCtx<'_>, tile: &mut TileBuilder) -> Result<(), MvtError> {
    let b = buffered_bounds(ctx);
    let bbox = [b.min().x, b.min().y, b.max().x, b.max().y];
    let (water, land): (Vec<_>, Vec<_>) = ctx
        .world
        .base_areas_in_bbox(bbox)
        .partition(|a| a.kind == "water");
    for (name, areas) in [("landuse", land), ("water", water)] {
        let layer = tile.layer(name)?;
        for area in areas {
            layer.add_feature(
                &Geometry::MultiPolygon(area.geometry.clone()),
                &named(&area.kind, area.name.as_deref()),
            )?;
        }
    }
    let (waterways, roads): (Vec<_>, Vec<_>) = ctx
        .world
        .base_lines_in_bbox(bbox)
        .partition(|l| l.is_waterway());
    for (name, lines) in [("waterway", waterways), ("road", roads)] {
        let layer = tile.layer(name)?;
        for line in lines {
            layer.add_feature(
                &Geometry::MultiLineString(line.geometry.clone()),
                &named(&line.kind, line.name.as_deref()),
            )?;
        }
    }
    let layer = tile.layer("building")?;
    for building in ctx
        .world
        .buildings_in_bbox([b.min().x, b.min().y, b.max().x, b.max().y])
    {
        layer.add_feature(
            &Geometry::MultiPolygon(building.footprint.clone()),
            &[("kind", Value::from(building.kind.as_str()))],
        )?;
    }
    let layer = tile.layer("boundary")?;
    for r in ctx
        .world
        .regions()
        .filter(|r| meets(b, r.boundary.bounding_rect()))
    {
        let outline: Vec<geo::LineString<f64>> = r
            .boundary
            .iter()
            .flat_map(|p| {
                std::iter::once(p.exterior().clone()).chain(p.interiors().iter().cloned())
            })
            .collect();
        layer.add_feature(
            &Geometry::MultiLineString(geo::MultiLineString(outline)),
            &[
                ("level", Value::from(r.level.as_str())),
                ("name", Value::from(r.name.as_str())),
            ],
        )?;
    }
    let layer = tile.layer("place")?;
    for r in ctx.world.regions() {
        let Some(at) = r.boundary.interior_point() else {
            continue;
        };
        if contains(b, at.x(), at.y()) {
            layer.add_feature(
                &Geometry::Point(at),
                &[
                    ("level", Value::from(r.level.as_str())),
                    ("name", Value::from(r.name.as_str())),
                ],
            )?;
        }
    }
    Ok(())
}

/// A base-map feature's properties: its kind, and its name when it has one.
fn named(kind: &str, name: Option<&str>) -> Vec<(&'static str, Value)> {
    let mut props = vec![("kind", Value::from(kind))];
    if let Some(name) = name {
        props.push(("name", Value::from(name)));
    }
    props
}

#[cfg(test)]
mod tests {
    use geo::BoundingRect;
    use gridwatch_geodata::{PartitionRules, Preset, plan_city, synthetic_city};
    use gridwatch_tiles::{TileId, tiles_covering};
    use rustc_hash::FxHashSet;

    use super::*;
    use crate::city::{snapshot_of, to_new_city};
    use crate::tiles::render;
    use crate::world::{Visibility, World};

    /// The grids layer as it was drawn before the world kept projected outlines: every grid's box
    /// computed, every outline handed over in degrees.
    fn grids_from_degrees(ctx: &RenderCtx<'_>, tile: &mut TileBuilder) -> Result<(), MvtError> {
        let bounds = buffered_bounds(ctx);
        let mut primary = HashMap::new();
        for w in ctx.world.workers() {
            for d in w
                .grids
                .iter()
                .filter(|d| d.responsibility == Responsibility::Primary)
            {
                primary.insert(d.grid_id, w);
            }
        }
        let layer = tile.layer("grids")?;
        for g in ctx
            .world
            .grids()
            .filter(|g| ctx.visibility.grid(g.id) && meets(bounds, g.boundary.bounding_rect()))
        {
            let mut props = vec![
                ("id", Value::Int(g.id.0)),
                ("code", Value::from(g.code.as_str())),
                ("name", Value::from(g.name.as_str())),
                ("households", Value::Uint(u64::from(g.households))),
                ("open_cases", n(ctx.world.open_cases_of_grid(g.id))),
            ];
            if let Some(w) = primary.get(&g.id) {
                props.push(("worker_id", Value::Int(w.id.0)));
                props.push(("worker", Value::from(w.name.as_str())));
            }
            layer.add_feature_with_id(
                id(g.id.0),
                &Geometry::MultiPolygon(g.boundary.clone()),
                &props,
            )?;
        }
        Ok(())
    }

    fn dongjie() -> World {
        let dataset = synthetic_city(Preset::Dongjie, 1);
        let plan = plan_city(
            &dataset,
            h3o::Resolution::Twelve,
            &PartitionRules::default(),
        )
        .expect("a plan");
        World::from_snapshot(snapshot_of(&to_new_city(&dataset, &plan)))
    }

    fn city_bounds(world: &World) -> Rect<f64> {
        let boxes: Vec<Rect<f64>> = world
            .grids()
            .filter_map(|g| g.boundary.bounding_rect())
            .collect();
        let fold = |f: fn(f64, f64) -> f64, pick: fn(&Rect<f64>) -> f64| {
            boxes.iter().map(pick).reduce(f).expect("grids")
        };
        Rect::new(
            Coord {
                x: fold(f64::min, |r| r.min().x),
                y: fold(f64::min, |r| r.min().y),
            },
            Coord {
                x: fold(f64::max, |r| r.max().x),
                y: fold(f64::max, |r| r.max().y),
            },
        )
    }

    #[test]
    fn grids_tiles_are_the_bytes_of_drawing_every_outline_from_degrees() {
        let world = dongjie();
        // Half the grids, as a scoped token sees them.
        let some: FxHashSet<_> = world.grids().map(|g| g.id).step_by(2).collect();
        let spec = &LAYERS[crate::tiles::layer_index("grids").expect("grids")];
        let reference = LayerSpec {
            render: grids_from_degrees,
            ..*spec
        };
        let bounds = widen(city_bounds(&world), 0.05);
        let (mut tiles, mut drawn) = (0, 0);
        for z in 12..=17 {
            for tile in tiles_covering(bounds, z).expect("valid bounds") {
                for visibility in [Visibility::All, Visibility::Grids(some.clone())] {
                    let ctx = |t: TileId| RenderCtx {
                        world: &world,
                        visibility: &visibility,
                        tile: t,
                        now: chrono::Utc::now(),
                        patrol_visits: Vec::new(),
                        expires: std::cell::Cell::new(None),
                    };
                    let ours = render(spec, &ctx(tile)).expect("renders");
                    assert_eq!(
                        ours,
                        render(&reference, &ctx(tile)).expect("renders"),
                        "grids tile {tile}"
                    );
                    tiles += 1;
                    drawn += usize::from(!ours.is_empty());
                }
            }
        }
        assert!(
            tiles > 300 && drawn * 2 > tiles,
            "{drawn} of {tiles} tiles drawn"
        );
    }

    #[test]
    fn grid_boxes_find_exactly_the_grids_whose_outline_box_meets_a_box() {
        let world = dongjie();
        let city = city_bounds(&world);
        let mut state: u64 = 7;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            f64::from(u32::try_from(state >> 40).expect("24 bits")) / f64::from(1u32 << 24)
        };
        for g in world.grids() {
            let shape = &world
                .grids_in_bbox([-180.0, -90.0, 180.0, 90.0])
                .into_iter()
                .find(|(x, _)| x.id == g.id)
                .expect("every grid")
                .1;
            assert_eq!(Some(shape.bbox), g.boundary.bounding_rect());
            assert_eq!(
                shape.projected.as_ref(),
                Some(
                    &gridwatch_tiles::ProjectedPolygons::from_degrees(&g.boundary).expect("finite")
                )
            );
        }
        for _ in 0..2000 {
            let (w, h) = (city.width() * next() * 0.3, city.height() * next() * 0.3);
            let x = city.min().x - w + next() * (city.width() + w);
            let y = city.min().y - h + next() * (city.height() + h);
            let bbox = Rect::new(Coord { x, y }, Coord { x: x + w, y: y + h });
            let expected: Vec<_> = world
                .grids()
                .filter(|g| meets(bbox, g.boundary.bounding_rect()))
                .map(|g| g.id)
                .collect();
            let found: Vec<_> = world
                .grids_in_bbox([x, y, x + w, y + h])
                .into_iter()
                .map(|(g, _)| g.id)
                .collect();
            assert_eq!(found, expected, "{bbox:?}");
        }
        // A box touching a grid's box only at its edge still meets it, as before.
        let g = world.grids().next().expect("a grid");
        let r = g.boundary.bounding_rect().expect("an outline");
        let edge = [r.max().x, r.max().y, r.max().x + 0.01, r.max().y + 0.01];
        assert!(world.grids_in_bbox(edge).iter().any(|(x, _)| x.id == g.id));
    }
}
