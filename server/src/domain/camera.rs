//! Cameras (视频监控点): a fixed or PTZ camera on public space, with the sector it sees, and the H3
//! cells that sector covers.
//!
//! No IO. The sector is built in a local plane in meters around the camera and turned into degrees
//! (EPSG:4326, lon/lat order) with the equirectangular approximation at the camera's latitude
//! ([`crate::geodesy::offset_deg`]): `dlat = north_m / M`, `dlon = east_m / (M · cos lat)` with
//! `M = R · π / 180` meters per degree and `R` the mean Earth radius (6,371,008.8 m). The scale of
//! longitude is taken at the camera's latitude only, so the relative error against a geodesic sector
//! grows as `range / R · tan(lat)`: about 0.5 m at the 2 km limit at 36° of latitude (Changzhi), about
//! 7 m at the 85° limit; within a GPS fix's error for street cameras.
//! `server/tests/store_suite/cameras.rs` checks sectors against PostGIS's geodesic `ST_Project` and
//! `ST_Area`.
//! `tests/reference/check_cameras.py` rebuilds every sector from the raw parameters with shapely.

use geo::{Coord, Intersects, LineString, Point, Polygon};
use h3o::{CellIndex, Resolution};
use serde::{Deserialize, Serialize};

use super::CameraId;
use crate::geodesy::offset_deg;

/// Longest view range, meters: beyond it a street camera identifies nothing.
pub const MAX_RANGE_M: f64 = 2000.0;
/// Largest angle between two consecutive points of the sector's arc, degrees.
pub const ARC_STEP_DEG: f64 = 5.0;
/// Cameras sit below this latitude (degrees, either hemisphere): the local approximation, and a
/// `cos(lat)` in a denominator, do not hold near the poles.
pub const MAX_ABS_LAT: f64 = 85.0;
/// Longest name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// A fixed camera looks one way; a PTZ (pan-tilt-zoom) camera can turn, so it covers a full circle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CameraKind {
    Fixed,
    Ptz,
}

/// Whether the camera sends pictures. Offline cameras count for no coverage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CameraStatus {
    Online,
    Offline,
}

impl CameraKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fixed => "fixed",
            Self::Ptz => "ptz",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "fixed" => Some(Self::Fixed),
            "ptz" => Some(Self::Ptz),
            _ => None,
        }
    }
}

impl CameraStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Offline => "offline",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "online" => Some(Self::Online),
            "offline" => Some(Self::Offline),
            _ => None,
        }
    }
}

/// A camera's parameters, before it has an id. Degrees (EPSG:4326) for the position; the heading is
/// clockwise from true north; the field of view is the sector's full opening; range in meters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewCamera {
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    pub heading_deg: f64,
    pub fov_deg: f64,
    pub range_m: f64,
    pub kind: CameraKind,
    pub status: CameraStatus,
}

/// A stored camera; also the payload of `camera.*` events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Camera {
    pub id: CameraId,
    pub name: String,
    /// Degrees (EPSG:4326).
    pub lat: f64,
    /// Degrees (EPSG:4326).
    pub lon: f64,
    /// Where the view's axis points, degrees clockwise from true north, in [0, 360).
    pub heading_deg: f64,
    /// The sector's full opening, degrees in [1, 360].
    pub fov_deg: f64,
    /// How far it sees, meters in (0, 2000].
    pub range_m: f64,
    pub kind: CameraKind,
    pub status: CameraStatus,
}

/// A refused camera parameter: which field and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidCamera {
    pub field: &'static str,
    pub reason: String,
}

fn refuse(field: &'static str, reason: String) -> InvalidCamera {
    InvalidCamera { field, reason }
}

impl NewCamera {
    /// Checks every parameter; trims the name.
    pub fn checked(mut self) -> Result<Self, InvalidCamera> {
        self.name = self.name.trim().into();
        let chars = self.name.chars().count();
        if chars == 0 || chars > MAX_NAME_CHARS {
            return Err(refuse(
                "name",
                format!("must have 1 to {MAX_NAME_CHARS} characters"),
            ));
        }
        if !(self.lat.is_finite() && (-MAX_ABS_LAT..=MAX_ABS_LAT).contains(&self.lat)) {
            return Err(refuse(
                "lat",
                format!(
                    "{} is not a latitude in -{MAX_ABS_LAT}..={MAX_ABS_LAT}",
                    self.lat
                ),
            ));
        }
        if !(self.lon.is_finite() && (-180.0..=180.0).contains(&self.lon)) {
            return Err(refuse(
                "lon",
                format!("{} is not a longitude in -180..=180", self.lon),
            ));
        }
        if !(self.heading_deg.is_finite() && (0.0..360.0).contains(&self.heading_deg)) {
            return Err(refuse(
                "heading_deg",
                format!("{} is not in [0, 360)", self.heading_deg),
            ));
        }
        if !(self.fov_deg.is_finite() && (1.0..=360.0).contains(&self.fov_deg)) {
            return Err(refuse(
                "fov_deg",
                format!("{} is not in [1, 360]", self.fov_deg),
            ));
        }
        if !(self.range_m.is_finite() && self.range_m > 0.0 && self.range_m <= MAX_RANGE_M) {
            return Err(refuse(
                "range_m",
                format!("{} is not in (0, {MAX_RANGE_M}] meters", self.range_m),
            ));
        }
        let sector = sector(&self);
        let crosses = sector
            .exterior()
            .coords()
            .any(|c| !(-180.0..=180.0).contains(&c.x));
        if crosses {
            return Err(refuse(
                "lon",
                "the view sector crosses the antimeridian".to_owned(),
            ));
        }
        Ok(self)
    }

    #[must_use]
    pub fn with_id(&self, id: CameraId) -> Camera {
        Camera {
            id,
            name: self.name.clone(),
            lat: self.lat,
            lon: self.lon,
            heading_deg: self.heading_deg,
            fov_deg: self.fov_deg,
            range_m: self.range_m,
            kind: self.kind,
            status: self.status,
        }
    }
}

impl Camera {
    /// The parameters, to change and check again.
    #[must_use]
    pub fn params(&self) -> NewCamera {
        NewCamera {
            name: self.name.clone(),
            lat: self.lat,
            lon: self.lon,
            heading_deg: self.heading_deg,
            fov_deg: self.fov_deg,
            range_m: self.range_m,
            kind: self.kind,
            status: self.status,
        }
    }

    #[must_use]
    pub fn is_online(&self) -> bool {
        self.status == CameraStatus::Online
    }
}

/// Whether the camera sees all around: a PTZ camera, or a field of view of 360°.
#[must_use]
pub fn full_circle(camera: &NewCamera) -> bool {
    camera.kind == CameraKind::Ptz || camera.fov_deg >= 360.0
}

/// The view sector in degrees (EPSG:4326, lon/lat order): the apex at the camera, then the arc at
/// `range_m` from `heading - fov/2` to `heading + fov/2` clockwise, sampled every ≤ 5°; a full circle
/// (72 points, no apex) for a PTZ camera or a 360° view. Meters → degrees as in the module docs.
#[must_use]
pub fn sector(camera: &NewCamera) -> Polygon<f64> {
    let at = |bearing_deg: f64| {
        let (lat, lon) = offset_deg(camera.lat, camera.lon, bearing_deg, camera.range_m);
        Coord { x: lon, y: lat }
    };
    let (start, opening, apex) = if full_circle(camera) {
        (0.0, 360.0, false)
    } else {
        (
            camera.heading_deg - camera.fov_deg / 2.0,
            camera.fov_deg,
            true,
        )
    };
    // At least one step; the quotient is at most 72.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let steps = ((opening / ARC_STEP_DEG).ceil() as u32).max(1);
    let mut ring = Vec::with_capacity(steps as usize + 3);
    if apex {
        ring.push(Coord {
            x: camera.lon,
            y: camera.lat,
        });
    }
    let last = if apex { steps } else { steps - 1 };
    for i in 0..=last {
        ring.push(at(start + opening * f64::from(i) / f64::from(steps)));
    }
    // `Polygon::new` closes the ring.
    Polygon::new(LineString::new(ring), Vec::new())
}

/// Whether the sector (degrees) contains the point; a point on its outline counts.
#[must_use]
pub fn sees(sector: &Polygon<f64>, lat: f64, lon: f64) -> bool {
    // `Intersects` rather than `Contains`: a point on the outline (the camera itself) is seen.
    sector.intersects(&Point::new(lon, lat))
}

/// The cells at `resolution` whose centre lies inside the sector (H3 centroid containment, as the
/// reference library's `polygon_to_cells`): "the camera covers a cell" means it sees the cell's centre.
/// A centre exactly on the outline (the apex of a camera mounted at a cell's centre) may fall either
/// way. Sorted, without duplicates.
#[must_use]
pub fn covered_cells(sector: &Polygon<f64>, resolution: Resolution) -> Vec<CellIndex> {
    gridwatch_geodata::cells::polygon_cells(
        &geo::MultiPolygon::new(vec![sector.clone()]),
        resolution,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn camera(heading_deg: f64, fov_deg: f64, kind: CameraKind) -> NewCamera {
        NewCamera {
            name: "gate".into(),
            lat: 36.19,
            lon: 113.11,
            heading_deg,
            fov_deg,
            range_m: 100.0,
            kind,
            status: CameraStatus::Online,
        }
    }

    #[test]
    fn a_sector_points_its_heading_with_the_right_opening() {
        // East, 90° wide: the arc runs from bearing 45° to 135°, 18 steps of 5°.
        let s = sector(&camera(90.0, 90.0, CameraKind::Fixed));
        let ring = &s.exterior().0;
        assert_eq!(ring.len(), 1 + 19 + 1, "apex, 19 arc points, closing point");
        assert_eq!(
            ring[0],
            Coord {
                x: 113.11,
                y: 36.19
            }
        );
        // 100 m east is 100 / (111,195 m · cos 36.19°) degrees of longitude.
        let m_per_deg = crate::geodesy::EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
        assert!((m_per_deg - 111_195.08).abs() < 0.01);
        let middle = ring[10];
        assert!(
            (middle.x - (113.11 + 100.0 / (m_per_deg * 36.19_f64.to_radians().cos()))).abs()
                < 1e-12
        );
        assert!((middle.y - 36.19).abs() < 1e-12);
        assert!(
            sees(&s, 36.19, 113.1105) && !sees(&s, 36.19, 113.1095),
            "east of the camera, not west"
        );
    }

    #[test]
    fn ptz_and_360_are_full_circles() {
        for c in [
            camera(0.0, 60.0, CameraKind::Ptz),
            camera(0.0, 360.0, CameraKind::Fixed),
        ] {
            let s = sector(&c);
            assert_eq!(s.exterior().0.len(), 73);
            assert!(sees(&s, 36.1905, 113.11) && sees(&s, 36.1895, 113.11));
        }
    }

    #[test]
    fn parameters_are_checked() {
        let ok = camera(0.0, 60.0, CameraKind::Fixed);
        assert!(ok.clone().checked().is_ok());
        let field = |c: NewCamera| c.checked().expect_err("refused").field;
        assert_eq!(
            field(NewCamera {
                fov_deg: 0.0,
                ..ok.clone()
            }),
            "fov_deg"
        );
        assert_eq!(
            field(NewCamera {
                fov_deg: 361.0,
                ..ok.clone()
            }),
            "fov_deg"
        );
        assert_eq!(
            field(NewCamera {
                heading_deg: 360.0,
                ..ok.clone()
            }),
            "heading_deg"
        );
        assert_eq!(
            field(NewCamera {
                range_m: 0.0,
                ..ok.clone()
            }),
            "range_m"
        );
        assert_eq!(
            field(NewCamera {
                range_m: 2000.5,
                ..ok.clone()
            }),
            "range_m"
        );
        assert_eq!(
            field(NewCamera {
                lat: f64::NAN,
                ..ok.clone()
            }),
            "lat"
        );
        assert_eq!(
            field(NewCamera {
                lat: 89.0,
                ..ok.clone()
            }),
            "lat"
        );
        assert_eq!(
            field(NewCamera {
                lon: 180.0,
                ..ok.clone()
            }),
            "lon"
        );
        assert_eq!(
            field(NewCamera {
                name: "  ".into(),
                ..ok
            }),
            "name"
        );
    }
}
