//! `gridwatch-geodata`: `GeoJSON` and OSM PBF import, household estimates, a synthetic demo
//! city and the grid partitioner.
//!
//! Owns the path from raw geodata to a grid plan: a [`Dataset`] of regions, buildings, roads
//! and areas (all degrees, EPSG:4326, lon/lat order) and [`plan_city`], which covers every
//! community with contiguous grids of H3 cells of 100–150 households. It takes and returns
//! `geo` / `h3o` values and plain structs, and knows nothing of HTTP, databases or the
//! server's domain; its only IO is reading the input file.
//!
//! Code map:
//! - `model`: the plain records ([`Dataset`], [`RegionRecord`], [`BuildingRecord`], …).
//! - `geojson_reader`, `osm_reader`: the importers ([`read_geojson`], [`read_osm_pbf`]).
//! - [`households`]: the household estimate for buildings without a count.
//! - `synthetic`: the deterministic demo city ([`synthetic_city`]) and its tiled benchmark
//!   version ([`synthetic_metropolis`]).
//! - [`cells`]: H3 tiling, outlines and centroid cells.
//! - `barriers`: major roads, railways and water as the cell adjacencies they separate
//!   ([`Barriers`]), which the partitioner prefers as grid edges.
//! - `partition`: the grid partitioner ([`partition_cells`], [`partition_cells_with_barriers`]).
//! - `plan`: the whole plan, region hierarchy to grid codes ([`plan_city`]).
//! - [`validity`]: geo's polygon validity, found faster and within a deadline, for input shapes.
//!
//! # Examples
//! ```
//! use gridwatch_geodata::{PartitionRules, parse_geojson, plan_city};
//! use h3o::Resolution;
//!
//! // One community of about 400 m × 330 m with three buildings.
//! let text = r#"{"type":"FeatureCollection","features":[
//!   {"type":"Feature","properties":{"kind":"community","code":"140403001001","name":"Fuhou"},
//!    "geometry":{"type":"Polygon","coordinates":[[[113.100,36.180],[113.104,36.180],[113.104,36.183],[113.100,36.183],[113.100,36.180]]]}},
//!   {"type":"Feature","properties":{"households":60},
//!    "geometry":{"type":"Polygon","coordinates":[[[113.1005,36.1805],[113.1008,36.1805],[113.1008,36.1807],[113.1005,36.1807],[113.1005,36.1805]]]}},
//!   {"type":"Feature","properties":{"households":70},
//!    "geometry":{"type":"Polygon","coordinates":[[[113.1030,36.1820],[113.1033,36.1820],[113.1033,36.1822],[113.1030,36.1822],[113.1030,36.1820]]]}},
//!   {"type":"Feature","properties":{"building":"office"},
//!    "geometry":{"type":"Polygon","coordinates":[[[113.1020,36.1810],[113.1023,36.1810],[113.1023,36.1812],[113.1020,36.1812],[113.1020,36.1810]]]}}
//! ]}"#;
//! let dataset = parse_geojson(text)?;
//! let plan = plan_city(&dataset, Resolution::Twelve, &PartitionRules::default())?;
//! // 130 households: one grid, coded after its community.
//! assert_eq!(plan.grids.len(), 1);
//! assert_eq!(plan.grids[0].code, "140403001001001");
//! assert_eq!(plan.grids[0].households, 130);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod barriers;
pub mod cells;
mod geojson_reader;
pub mod households;
mod model;
mod osm_reader;
mod partition;
mod plan;
mod synthetic;
#[cfg(test)]
mod test_support;
pub mod validity;

pub use barriers::{BarrierClass, Barriers, BorderShare};
pub use geojson_reader::{GeoJsonError, parse_geojson, read_geojson};
pub use model::{
    AreaRecord, BuildingRecord, Dataset, Level, LineRecord, RegionRecord, is_valid_region_code,
};
pub use osm_reader::{OSM_ATTRIBUTION, OsmError, read_osm_pbf};
pub use partition::{CellLoad, PartitionRules, partition_cells, partition_cells_with_barriers};
pub use plan::{
    CityPlan, GridFlag, GridReport, OutOfRange, PlanError, PlanReport, PlannedGrid, PlannedRegion,
    grid_figures, plan_city, plan_report,
};
pub use synthetic::{DONGJIE_HOUSEHOLDS, Preset, synthetic_city, synthetic_metropolis};
