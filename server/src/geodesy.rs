//! Distances and offsets on the Earth, for every room that measures: domain (fixes, patrols, cameras),
//! dispatch (routing), world (cameras near a point) and the API (`nearby`, area alerts).
//!
//! Positions are WGS 84 degrees (EPSG:4326) given latitude first; distances are meters on a sphere of
//! the mean Earth radius, named `_m`; bearings are degrees clockwise from north. Pure functions, no IO.
//! Tile math (Web Mercator, its own radius) stays in `gridwatch-tiles`.

/// Mean Earth radius in meters (IUGG), the radius `geo`'s haversine uses too.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Meters in one degree of latitude (and of longitude at the equator) on the sphere of
/// [`EARTH_RADIUS_M`]: about 111,195 m.
pub const M_PER_DEG: f64 = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;

/// Whether `(lat, lon)` is a coordinate: both finite and in range (degrees).
#[must_use]
pub fn is_coordinate(lat: f64, lon: f64) -> bool {
    (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)
}

/// Great-circle distance in meters between two points given in degrees (EPSG:4326, latitude first),
/// by the haversine formula on a sphere of radius [`EARTH_RADIUS_M`].
///
/// # Examples
/// ```
/// # use gridwatch::geodesy::haversine_m;
/// // 0.01° of latitude is about 1,111.95 m.
/// assert!((haversine_m(36.0, 113.0, 36.01, 113.0) - 1111.95).abs() < 0.01);
/// ```
#[must_use]
pub fn haversine_m(a_lat_deg: f64, a_lon_deg: f64, b_lat_deg: f64, b_lon_deg: f64) -> f64 {
    let (a_lat, b_lat) = (a_lat_deg.to_radians(), b_lat_deg.to_radians());
    let d_lat = b_lat - a_lat;
    let d_lon = (b_lon_deg - a_lon_deg).to_radians();
    let h = (d_lat / 2.0).sin().powi(2) + a_lat.cos() * b_lat.cos() * (d_lon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// The point `distance_m` meters from `(lat, lon)` (degrees) along `bearing_deg`, in a local plane at
/// that latitude (equirectangular): `dlat = north_m / M`, `dlon = east_m / (M · cos lat)` with `M` =
/// [`M_PER_DEG`]. Returns `(lat, lon)` in degrees.
///
/// Longitude is scaled at the start's latitude only, so the error against a geodesic grows as
/// `distance / R · tan(lat)`: about 0.5 m at 2 km and 36° of latitude. Meant for street-scale shapes
/// (a camera's view), not for long distances or near the poles.
///
/// # Examples
/// ```
/// # use gridwatch::geodesy::{offset_deg, M_PER_DEG};
/// // 100 m due north is 100 / 111,195 degrees of latitude.
/// let (lat, lon) = offset_deg(36.19, 113.11, 0.0, 100.0);
/// assert!((lat - (36.19 + 100.0 / M_PER_DEG)).abs() < 1e-12 && (lon - 113.11).abs() < 1e-12);
/// ```
#[must_use]
pub fn offset_deg(lat: f64, lon: f64, bearing_deg: f64, distance_m: f64) -> (f64, f64) {
    let bearing = bearing_deg.to_radians();
    let (east_m, north_m) = (distance_m * bearing.sin(), distance_m * bearing.cos());
    (
        lat + north_m / M_PER_DEG,
        lon + east_m / (M_PER_DEG * lat.to_radians().cos()),
    )
}

#[cfg(test)]
mod tests {
    use geo::{Destination, Distance, Haversine, Point};

    use super::*;

    fn assert_close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual} is not within {tolerance} of {expected}"
        );
    }

    #[test]
    fn haversine_matches_hand_value_and_geo() {
        // 0.01° of latitude: 6,371,008.8 m × 0.01 × π / 180 = 1,111.9508 m.
        assert_close(haversine_m(36.19, 113.12, 36.20, 113.12), 1111.9508, 0.001);
        assert_close(haversine_m(36.19, 113.12, 36.19, 113.12), 0.0, 1e-9);
        for (a, b) in [
            ((36.19, 113.12), (36.21, 113.15)),
            ((0.0, 0.0), (-45.0, 179.0)),
            ((89.9, 10.0), (-89.9, -170.0)),
        ] {
            let reference = Haversine.distance(Point::new(a.1, a.0), Point::new(b.1, b.0));
            assert_close(
                haversine_m(a.0, a.1, b.0, b.1),
                reference,
                1e-6 * reference.max(1.0),
            );
        }
    }

    #[test]
    fn meters_per_degree_is_the_hand_value() {
        assert_close(M_PER_DEG, 111_195.08, 0.01);
    }

    #[test]
    fn a_street_scale_offset_agrees_with_geos_geodesic_destination() {
        // `geo`'s haversine destination is the independent reference: within 0.5 m at 2 km, 36° N.
        for bearing in [0.0, 45.0, 90.0, 135.0, 200.0, 315.0] {
            for distance in [10.0, 100.0, 2000.0] {
                let (lat, lon) = offset_deg(36.19, 113.11, bearing, distance);
                let reference = Haversine.destination(Point::new(113.11, 36.19), bearing, distance);
                let error_m = haversine_m(lat, lon, reference.y(), reference.x());
                assert!(error_m < 0.5, "{bearing}° {distance} m: {error_m} m off");
            }
        }
    }

    #[test]
    fn coordinates_in_range_only() {
        assert!(is_coordinate(90.0, -180.0) && is_coordinate(-90.0, 180.0));
        assert!(!is_coordinate(90.5, 0.0) && !is_coordinate(0.0, 180.5));
        assert!(!is_coordinate(f64::NAN, 0.0) && !is_coordinate(0.0, f64::INFINITY));
    }
}
