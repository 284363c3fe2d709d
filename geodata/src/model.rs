//! Plain records the importers produce and the planner consumes.
//!
//! Owns the shape of a [`Dataset`]: regions, buildings, lines and areas, all in degrees
//! (EPSG:4326, lon/lat order). It holds no behaviour beyond small helpers and must not
//! know where the data came from (file format) or where it goes (server, store).

use geo::{LineString, MultiPolygon};

/// An administrative level above grids: district (区) → street (街道) → community (社区).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// A district (区), code of 6 digits.
    District,
    /// A street office (街道), code of 9 digits: the district code + 3.
    Street,
    /// A community (社区), code of 12 digits: the street code + 3.
    Community,
}

impl Level {
    /// The number of digits a region code has at this level (6, 9 or 12).
    #[must_use]
    pub const fn code_digits(self) -> usize {
        match self {
            Self::District => 6,
            Self::Street => 9,
            Self::Community => 12,
        }
    }

    /// The level directly above, if any.
    #[must_use]
    pub const fn parent(self) -> Option<Self> {
        match self {
            Self::District => None,
            Self::Street => Some(Self::District),
            Self::Community => Some(Self::Street),
        }
    }

    /// The lowercase name used in files: `district`, `street` or `community`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::District => "district",
            Self::Street => "street",
            Self::Community => "community",
        }
    }

    /// Parses the lowercase name used in files.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "district" => Some(Self::District),
            "street" => Some(Self::Street),
            "community" => Some(Self::Community),
            _ => None,
        }
    }
}

/// Whether `code` is made of exactly the digits a region code at `level` needs.
#[must_use]
pub fn is_valid_region_code(level: Level, code: &str) -> bool {
    code.len() == level.code_digits() && code.bytes().all(|b| b.is_ascii_digit())
}

/// An administrative region; `boundary` is in degrees (EPSG:4326, lon/lat).
#[derive(Debug, Clone, PartialEq)]
pub struct RegionRecord {
    /// District, street or community.
    pub level: Level,
    /// 6, 9 or 12 digits (see [`Level::code_digits`]).
    pub code: String,
    /// Display name.
    pub name: String,
    /// The code of the region one level up, when known.
    pub parent_code: Option<String>,
    /// The outline in degrees (EPSG:4326, lon/lat order), when known.
    pub boundary: Option<MultiPolygon<f64>>,
}

/// A building and the households living in it; `footprint` is in degrees (EPSG:4326, lon/lat).
#[derive(Debug, Clone, PartialEq)]
pub struct BuildingRecord {
    /// Where it came from, e.g. `osm:way/123`; `None` for hand-made or synthetic data.
    pub source_id: Option<String>,
    /// The footprint in degrees (EPSG:4326, lon/lat order).
    pub footprint: MultiPolygon<f64>,
    /// The OSM `building=*` value or a plain kind such as `residential`.
    pub kind: String,
    /// Storeys above ground, when known.
    pub levels: Option<u32>,
    /// Households (户) living in the building.
    pub households: u32,
}

/// A road, railway or waterway line in degrees (EPSG:4326, lon/lat) for the base map.
#[derive(Debug, Clone, PartialEq)]
pub struct LineRecord {
    /// The OSM `highway` / `railway` / `waterway` value, e.g. `primary`, `rail`, `river`.
    pub kind: String,
    /// The line's name, when it has one.
    pub name: Option<String>,
    /// The line in degrees (EPSG:4326, lon/lat order).
    pub geometry: LineString<f64>,
}

/// A polygonal base-map feature in degrees (EPSG:4326, lon/lat): water, park, ...
#[derive(Debug, Clone, PartialEq)]
pub struct AreaRecord {
    /// `water`, `park`, ...
    pub kind: String,
    /// The area's name, when it has one.
    pub name: Option<String>,
    /// The area in degrees (EPSG:4326, lon/lat order).
    pub geometry: MultiPolygon<f64>,
}

/// Everything one import produced; all geometry in degrees (EPSG:4326, lon/lat order).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dataset {
    /// A short name for the data (file stem, preset name).
    pub name: String,
    /// The licence attribution to show wherever the data goes, if the source requires one.
    pub attribution: Option<String>,
    /// Districts, streets and communities.
    pub regions: Vec<RegionRecord>,
    /// Buildings with households.
    pub buildings: Vec<BuildingRecord>,
    /// Roads, railways and waterways for the base map.
    pub roads: Vec<LineRecord>,
    /// Water, parks and similar areas for the base map.
    pub areas: Vec<AreaRecord>,
}

impl Dataset {
    /// The sum of the households of all buildings.
    #[must_use]
    pub fn total_households(&self) -> u64 {
        self.buildings.iter().map(|b| u64::from(b.households)).sum()
    }
}
