//! `gridwatch-geodata`: `GeoJSON` and OSM PBF import, household estimates, a synthetic demo
//! city and the grid partitioner.
//!
//! Owns the path from raw geodata to a grid plan: a [`Dataset`] of regions, buildings, roads
//! and areas (all degrees, EPSG:4326, lon/lat order) and [`plan_city`], which covers every
//! community with contiguous grids of H3 cells of 100–150 households. It takes and returns
//! `geo` / `h3o` values and plain structs, and knows nothing of HTTP, databases or the
//! server's domain; its only IO is reading the input file.

pub mod cells;
mod geojson_reader;
pub mod households;
mod model;
mod osm_reader;
mod partition;
mod plan;
mod synthetic;

pub use geojson_reader::{GeoJsonError, parse_geojson, read_geojson};
pub use model::{AreaRecord, BuildingRecord, Dataset, Level, LineRecord, RegionRecord, is_valid_region_code};
pub use osm_reader::{OSM_ATTRIBUTION, OsmError, read_osm_pbf};
pub use partition::{CellLoad, PartitionRules, partition_cells};
pub use plan::{CityPlan, GridFlag, PlanError, PlannedGrid, PlannedRegion, plan_city};
pub use synthetic::{DONGJIE_HOUSEHOLDS, Preset, synthetic_city};
