//! The base map (底图) of an imported city: roads, railways, waterways, water and parks.
//!
//! Read-only after an import: nothing but a city import writes these, so they carry no ids the API
//! hands out. Geometry in degrees (EPSG:4326, lon/lat order).

use geo::{MultiLineString, MultiPolygon};

/// One base-map feature: what it is, its name, its shape in degrees (EPSG:4326, lon/lat order).
#[derive(Debug, Clone, PartialEq)]
pub struct BaseFeature<G> {
    /// Lines: the source's highway / railway / waterway value (`primary`, `rail`, `river`, ...).
    /// Areas: `water`, `park`, ...
    pub kind: String,
    pub name: Option<String>,
    pub geometry: G,
}

/// A road, railway or waterway.
pub type BaseLine = BaseFeature<MultiLineString<f64>>;

/// Water, a park, ...
pub type BaseArea = BaseFeature<MultiPolygon<f64>>;

/// Line kinds that are waterways rather than roads or railways (OSM `waterway=*` values).
pub const WATERWAY_KINDS: &[&str] = &[
    "river",
    "stream",
    "canal",
    "drain",
    "ditch",
    "brook",
    "tidal_channel",
];

impl BaseLine {
    /// Whether this line is a waterway (drawn with water, not with roads).
    #[must_use]
    pub fn is_waterway(&self) -> bool {
        WATERWAY_KINDS.contains(&self.kind.as_str())
    }
}
