//! Administrative areas above grids: district (区) → street (街道) → community (社区).

use geo::MultiPolygon;
use serde::{Deserialize, Serialize};

use super::RegionId;

/// The level of a region in the hierarchy; a grid sits below a community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RegionLevel {
    District,
    Street,
    Community,
}

impl RegionLevel {
    /// The stored and serialised name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::District => "district",
            Self::Street => "street",
            Self::Community => "community",
        }
    }

    /// Parses the stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "district" => Some(Self::District),
            "street" => Some(Self::Street),
            "community" => Some(Self::Community),
            _ => None,
        }
    }

    /// The level directly above, if any.
    #[must_use]
    pub fn parent(self) -> Option<Self> {
        match self {
            Self::District => None,
            Self::Street => Some(Self::District),
            Self::Community => Some(Self::Street),
        }
    }

    /// Digits of the municipal code at this level: 6 for a district, +3 for a street, +3 for a community.
    #[must_use]
    pub fn code_len(self) -> usize {
        match self {
            Self::District => 6,
            Self::Street => 9,
            Self::Community => 12,
        }
    }
}

/// A district, street or community with its municipal code and boundary.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    pub id: RegionId,
    pub level: RegionLevel,
    /// Municipal code: 6 digits (district), 9 (street), 12 (community); each extends its parent's.
    pub code: String,
    pub name: String,
    pub parent: Option<RegionId>,
    /// Boundary in degrees (EPSG:4326, lon/lat order).
    pub boundary: MultiPolygon<f64>,
}
