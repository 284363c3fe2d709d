//! The household estimate for buildings that carry no household count.
//!
//! Owns the one table of constants behind the estimate ([`KIND_RULES`], [`DWELLING_SIZE_M2`]).
//! It takes a footprint area already measured in square meters and must not touch geometry,
//! files or the planner.
//!
//! `households = round(footprint_m2 × levels × residential_share ÷ DWELLING_SIZE_M2)`
//!
//! - `footprint_m2`: the geodesic footprint area in m² (callers measure it on the WGS84
//!   ellipsoid; see [`footprint_area_m2`]).
//! - `levels`: the storeys above ground; when unknown, the kind's default storeys.
//! - `residential_share`: the share of the floor area that is dwellings: 1 for housing kinds,
//!   [`MIXED_USE_SHARE`] for the generic `building=yes` (in city centres the ground floor is
//!   shops and offices, the floors above often flats) and for kinds not in the table, 0 for
//!   non-residential kinds.
//! - `DWELLING_SIZE_M2`: the gross floor area of one dwelling, stairs and walls included.

use geo::orient::Direction;
use geo::{GeodesicArea as _, MultiPolygon, Orient as _};

/// Gross floor area of one dwelling in m², circulation and walls included.
pub const DWELLING_SIZE_M2: f64 = 75.0;

/// Residential share of `building=yes` and of kinds missing from [`KIND_RULES`].
pub const MIXED_USE_SHARE: f64 = 0.5;

/// Default storeys of `building=yes` and of kinds missing from [`KIND_RULES`].
pub const MIXED_USE_LEVELS: u32 = 3;

/// How one building kind (the OSM `building=*` value) turns floor area into households.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KindRule {
    /// The OSM `building=*` value, lowercase.
    pub kind: &'static str,
    /// Share of the floor area that is dwellings, 0–1.
    pub residential_share: f64,
    /// Storeys assumed when the building has no `levels`.
    pub default_levels: u32,
}

const fn rule(kind: &'static str, residential_share: f64, default_levels: u32) -> KindRule {
    KindRule {
        kind,
        residential_share,
        default_levels,
    }
}

/// The estimate's table: residential share and default storeys per building kind.
pub const KIND_RULES: &[KindRule] = &[
    // Housing: every floor is dwellings.
    rule("apartments", 1.0, 5),
    rule("residential", 1.0, 5),
    rule("dormitory", 1.0, 5),
    rule("house", 1.0, 2),
    rule("detached", 1.0, 2),
    rule("semidetached_house", 1.0, 2),
    rule("terrace", 1.0, 2),
    rule("bungalow", 1.0, 1),
    rule("cabin", 1.0, 1),
    rule("farm", 1.0, 2),
    rule("static_caravan", 1.0, 1),
    rule("houseboat", 1.0, 1),
    // Generic building: mixed use, shops below, flats above.
    rule("yes", MIXED_USE_SHARE, MIXED_USE_LEVELS),
    // Non-residential: no households.
    rule("commercial", 0.0, 1),
    rule("retail", 0.0, 1),
    rule("office", 0.0, 1),
    rule("industrial", 0.0, 1),
    rule("warehouse", 0.0, 1),
    rule("manufacture", 0.0, 1),
    rule("supermarket", 0.0, 1),
    rule("kiosk", 0.0, 1),
    rule("church", 0.0, 1),
    rule("chapel", 0.0, 1),
    rule("cathedral", 0.0, 1),
    rule("mosque", 0.0, 1),
    rule("temple", 0.0, 1),
    rule("synagogue", 0.0, 1),
    rule("shrine", 0.0, 1),
    rule("religious", 0.0, 1),
    rule("monastery", 0.0, 1),
    rule("school", 0.0, 1),
    rule("kindergarten", 0.0, 1),
    rule("college", 0.0, 1),
    rule("university", 0.0, 1),
    rule("public", 0.0, 1),
    rule("civic", 0.0, 1),
    rule("government", 0.0, 1),
    rule("hospital", 0.0, 1),
    rule("hotel", 0.0, 1),
    rule("museum", 0.0, 1),
    rule("train_station", 0.0, 1),
    rule("transportation", 0.0, 1),
    rule("parking", 0.0, 1),
    rule("garage", 0.0, 1),
    rule("garages", 0.0, 1),
    rule("carport", 0.0, 1),
    rule("shed", 0.0, 1),
    rule("roof", 0.0, 1),
    rule("service", 0.0, 1),
    rule("toilets", 0.0, 1),
    rule("fire_station", 0.0, 1),
    rule("sports_hall", 0.0, 1),
    rule("sports_centre", 0.0, 1),
    rule("stadium", 0.0, 1),
    rule("grandstand", 0.0, 1),
    rule("pavilion", 0.0, 1),
    rule("hangar", 0.0, 1),
    rule("barn", 0.0, 1),
    rule("cowshed", 0.0, 1),
    rule("stable", 0.0, 1),
    rule("greenhouse", 0.0, 1),
    rule("boathouse", 0.0, 1),
    rule("bunker", 0.0, 1),
    rule("bridge", 0.0, 1),
    rule("construction", 0.0, 1),
    rule("ruins", 0.0, 1),
    rule("transformer_tower", 0.0, 1),
    rule("water_tower", 0.0, 1),
    rule("storage_tank", 0.0, 1),
    rule("silo", 0.0, 1),
    rule("tower", 0.0, 1),
    rule("no", 0.0, 1),
];

/// The rule for a kind (case-insensitive); kinds missing from the table are treated as
/// `building=yes` (mixed use).
#[must_use]
pub fn rule_for(kind: &str) -> KindRule {
    let kind = kind.trim();
    KIND_RULES
        .iter()
        .find(|rule| rule.kind.eq_ignore_ascii_case(kind))
        .copied()
        .unwrap_or(rule("yes", MIXED_USE_SHARE, MIXED_USE_LEVELS))
}

/// Estimated households of a building.
///
/// `footprint_m2` is the footprint area in square meters (geodesic); `levels` the storeys
/// above ground (`None`: the kind's default; 0 counts as 1); `kind` the OSM `building=*`
/// value. A non-finite or negative area gives 0. Rounds to the nearest integer.
///
/// # Examples
/// ```
/// use gridwatch_geodata::households::estimate;
/// // 1,000 m² × 6 storeys of flats ÷ 75 m² per dwelling = 80 households.
/// assert_eq!(estimate(1000.0, Some(6), "apartments"), 80);
/// assert_eq!(estimate(1000.0, Some(6), "office"), 0);
/// ```
#[must_use]
pub fn estimate(footprint_m2: f64, levels: Option<u32>, kind: &str) -> u32 {
    if !footprint_m2.is_finite() || footprint_m2 <= 0.0 {
        return 0;
    }
    let rule = rule_for(kind);
    let levels = levels.unwrap_or(rule.default_levels).max(1);
    round_to_u32(footprint_m2 * f64::from(levels) * rule.residential_share / DWELLING_SIZE_M2)
}

/// The geodesic (WGS84 ellipsoid) area in m² of a footprint given in degrees
/// (EPSG:4326, lon/lat order). Ring winding does not matter: rings are oriented first.
#[must_use]
pub fn footprint_area_m2(footprint: &MultiPolygon<f64>) -> f64 {
    // The geodesic area reads a clockwise exterior as "the whole Earth but this".
    footprint
        .orient(Direction::Default)
        .geodesic_area_unsigned()
}

/// Rounds a non-negative value to the nearest `u32`, saturating; NaN and negatives give 0.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "the value is clamped to the u32 range first"
)]
pub(crate) fn round_to_u32(value: f64) -> u32 {
    if value.is_nan() || value <= 0.0 {
        return 0;
    }
    value.round().min(f64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn housing_uses_whole_floor_area() {
        // 1000 m² × 5 storeys ÷ 75 m² = 66.67 → 67.
        assert_eq!(estimate(1000.0, Some(5), "apartments"), 67);
        assert_eq!(estimate(150.0, Some(2), "house"), 4);
        assert_eq!(estimate(300.0, Some(3), "terrace"), 12);
    }

    #[test]
    fn missing_levels_take_the_kind_default() {
        // apartments default 5 storeys, house 2.
        assert_eq!(
            estimate(1000.0, None, "apartments"),
            estimate(1000.0, Some(5), "apartments")
        );
        assert_eq!(estimate(150.0, None, "house"), 4);
        assert_eq!(
            estimate(600.0, None, "yes"),
            estimate(600.0, Some(MIXED_USE_LEVELS), "yes")
        );
    }

    #[test]
    fn generic_building_is_mixed_use() {
        // 600 m² × 4 × 0.5 ÷ 75 = 16.
        assert_eq!(estimate(600.0, Some(4), "yes"), 16);
    }

    #[test]
    fn unknown_kinds_count_as_mixed_use() {
        assert_eq!(estimate(600.0, Some(4), "something_new"), 16);
    }

    #[test]
    fn non_residential_kinds_have_no_households() {
        for kind in [
            "commercial",
            "retail",
            "office",
            "church",
            "school",
            "industrial",
            "warehouse",
            "public",
            "civic",
            "hospital",
            "hotel",
            "train_station",
            "parking",
            "garage",
            "garages",
            "shed",
            "roof",
        ] {
            assert_eq!(estimate(5000.0, Some(10), kind), 0, "{kind}");
        }
    }

    #[test]
    fn kinds_are_case_insensitive() {
        assert_eq!(estimate(1000.0, Some(5), " Apartments "), 67);
        assert_eq!(estimate(1000.0, Some(5), "OFFICE"), 0);
    }

    #[test]
    fn zero_levels_count_as_one() {
        assert_eq!(estimate(750.0, Some(0), "apartments"), 10);
    }

    #[test]
    fn rounds_to_nearest() {
        // 112.5 m² → 1.5 → 2; 108 m² → 1.44 → 1.
        assert_eq!(estimate(112.5, Some(1), "apartments"), 2);
        assert_eq!(estimate(108.0, Some(1), "apartments"), 1);
    }

    #[test]
    fn bad_areas_give_zero() {
        assert_eq!(estimate(f64::NAN, Some(5), "apartments"), 0);
        assert_eq!(estimate(-10.0, Some(5), "apartments"), 0);
        assert_eq!(estimate(f64::INFINITY, Some(5), "apartments"), 0);
    }

    #[test]
    fn table_has_no_duplicate_kinds() {
        let mut kinds: Vec<_> = KIND_RULES.iter().map(|r| r.kind).collect();
        kinds.sort_unstable();
        let before = kinds.len();
        kinds.dedup();
        assert_eq!(before, kinds.len());
    }

    #[test]
    fn footprint_area_is_geodesic_m2() {
        // A 0.001° × 0.001° square at the equator is about 111.3 m × 110.6 m.
        let square = geo::MultiPolygon::new(vec![geo::Polygon::new(
            geo::LineString::from(vec![
                (0.0, 0.0),
                (0.001, 0.0),
                (0.001, 0.001),
                (0.0, 0.001),
                (0.0, 0.0),
            ]),
            vec![],
        )]);
        let area = footprint_area_m2(&square);
        assert!((area - 111.32 * 110.57).abs() < 30.0, "{area}");
        // The same square wound clockwise has the same area.
        let clockwise = geo::MultiPolygon::new(vec![geo::Polygon::new(
            geo::LineString::from(vec![
                (0.0, 0.0),
                (0.0, 0.001),
                (0.001, 0.001),
                (0.001, 0.0),
                (0.0, 0.0),
            ]),
            vec![],
        )]);
        assert!((footprint_area_m2(&clockwise) - area).abs() < 1e-6);
    }
}
