//! A deterministic synthetic demo city, for demos, tests and benchmarks without real data.
//!
//! Owns the presets. [`Preset::Dongjie`] reproduces the reference street of the grid
//! management literature (Dongjie street, Changzhi, Shanxi): about 5.6 km² (2.8 km × 2.0 km
//! centred on lon 113.11, lat 36.19), one district (`140403` Luzhou), one street
//! (`140403001` Dongjie), seven communities whose polygons tile the street exactly (shared
//! edges, no gap, no overlap), 12,250 households in residential slabs of 6–36 households,
//! small houses, a few non-residential buildings and exactly two towers of 160–220
//! households, named roads with buildings kept off them, and a park with a pond.
//!
//! Everything is drawn in local meters and mapped to degrees (EPSG:4326, lon/lat order)
//! with a per-axis linear map, so shared vertices stay identical. The same preset and seed
//! always give the same dataset (`ChaCha8Rng`). It must not plan grids.

mod buildings;
mod layout;

use crate::model::{AreaRecord, BuildingRecord, Dataset, Level, LineRecord, RegionRecord};
use geo::{Coord, LineString, MapCoords as _, MultiPolygon, Polygon};
use rand::SeedableRng as _;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// A synthetic city to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// The Dongjie street of Changzhi, Shanxi: 7 communities, about 98 grids.
    Dongjie,
}

/// Households of the Dongjie preset (98 grids of 125).
pub const DONGJIE_HOUSEHOLDS: u32 = 12_250;
/// Centre of the Dongjie preset, degrees.
const DONGJIE_CENTRE: (f64, f64) = (113.11, 36.19);

/// Generates the preset's dataset; the same `seed` always gives the same dataset.
/// Output in degrees (EPSG:4326, lon/lat order).
#[must_use]
pub fn synthetic_city(preset: Preset, seed: u64) -> Dataset {
    match preset {
        Preset::Dongjie => dongjie(seed),
    }
}

/// Local meters (x east, y north, from the street's south-west corner) to degrees.
struct Frame {
    lon0: f64,
    lat0: f64,
    m_per_deg_lon: f64,
    m_per_deg_lat: f64,
}

impl Frame {
    /// A frame whose local point `centre_m` (meters) maps to (`lon`, `lat`); meters per
    /// degree from the WGS84 series at that latitude.
    fn centred(lon: f64, lat: f64, centre_m: (f64, f64)) -> Self {
        let phi = lat.to_radians();
        let m_per_deg_lat = 111_132.92 - 559.82 * (2.0 * phi).cos() + 1.175 * (4.0 * phi).cos();
        let m_per_deg_lon =
            111_412.84 * phi.cos() - 93.5 * (3.0 * phi).cos() + 0.118 * (5.0 * phi).cos();
        Self {
            lon0: lon - centre_m.0 / m_per_deg_lon,
            lat0: lat - centre_m.1 / m_per_deg_lat,
            m_per_deg_lon,
            m_per_deg_lat,
        }
    }

    fn coord(&self, c: Coord<f64>) -> Coord<f64> {
        Coord {
            x: self.lon0 + c.x / self.m_per_deg_lon,
            y: self.lat0 + c.y / self.m_per_deg_lat,
        }
    }

    fn polygon(&self, p: &Polygon<f64>) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![p.map_coords(|c| self.coord(c))])
    }

    fn line(&self, l: &LineString<f64>) -> LineString<f64> {
        l.map_coords(|c| self.coord(c))
    }
}

fn dongjie(seed: u64) -> Dataset {
    let mut dataset = Dataset {
        name: "dongjie".to_owned(),
        attribution: None,
        regions: vec![RegionRecord {
            level: Level::District,
            code: "140403".to_owned(),
            name: "Luzhou District 潞州区".to_owned(),
            parent_code: None,
            boundary: None,
        }],
        buildings: Vec::new(),
        roads: Vec::new(),
        areas: Vec::new(),
    };
    let street = Street {
        district_code: "140403",
        code: "140403001".to_owned(),
        name: "Dongjie Street 东街街道".to_owned(),
        centre: DONGJIE_CENTRE,
    };
    add_street(&mut dataset, &street, seed);
    dataset
}

/// Districts of a [`synthetic_metropolis`] hold at most this many streets.
const STREETS_PER_DISTRICT: usize = 100;

/// A large synthetic city for benchmarks: `streets` copies of the Dongjie street, each drawn
/// with its own seed (`seed + n`), tiled west to east and north to south in rows of
/// `ceil(sqrt(streets))` around the Dongjie centre, grouped in districts of 100 streets
/// (codes `900001`, `900002`, …, each bounded by the union of its streets). About 750 buildings and exactly 12,250 households per
/// street, so 1,000,000 buildings take about 1,330 streets. Degrees (EPSG:4326, lon/lat order); the same
/// arguments always give the same dataset.
#[must_use]
pub fn synthetic_metropolis(seed: u64, streets: usize) -> Dataset {
    let mut dataset = Dataset {
        name: format!("metropolis-{streets}"),
        attribution: None,
        regions: Vec::new(),
        buildings: Vec::new(),
        roads: Vec::new(),
        areas: Vec::new(),
    };
    let columns = (1..=streets).find(|c| c * c >= streets).unwrap_or(1);
    let probe = Frame::centred(DONGJIE_CENTRE.0, DONGJIE_CENTRE.1, (0.0, 0.0));
    let (step_lon, step_lat) = (
        layout::WIDTH_M / probe.m_per_deg_lon,
        layout::HEIGHT_M / probe.m_per_deg_lat,
    );
    let mut district_codes: Vec<String> = Vec::new();
    for n in 0..streets {
        let district = n / STREETS_PER_DISTRICT;
        if district_codes.len() == district {
            let code = format!("{:06}", 900_001 + district);
            dataset.regions.push(RegionRecord {
                level: Level::District,
                code: code.clone(),
                name: format!("District {}", district + 1),
                parent_code: None,
                boundary: None,
            });
            district_codes.push(code);
        }
        let (row, column) = (n / columns, n % columns);
        #[expect(clippy::cast_precision_loss, reason = "street counts are small")]
        let centre = (
            DONGJIE_CENTRE.0 + step_lon * column as f64,
            DONGJIE_CENTRE.1 - step_lat * row as f64,
        );
        let district_code = &district_codes[district];
        let street = Street {
            district_code,
            code: format!("{district_code}{:03}", n % STREETS_PER_DISTRICT + 1),
            name: format!("Street {}", n + 1),
            centre,
        };
        add_street(
            &mut dataset,
            &street,
            seed.wrapping_add(u64::try_from(n).unwrap_or(u64::MAX)),
        );
    }
    // Each district's boundary is the union of its streets', as an import would carry it:
    // without one the planner would outline millions of cells.
    let boundaries: Vec<MultiPolygon<f64>> = district_codes
        .par_iter()
        .map(|code| {
            geo::unary_union(
                dataset
                    .regions
                    .iter()
                    .filter(|r| r.level == Level::Street && r.parent_code.as_ref() == Some(code))
                    .filter_map(|r| r.boundary.as_ref()),
            )
        })
        .collect();
    for (district, boundary) in dataset
        .regions
        .iter_mut()
        .filter(|r| r.level == Level::District)
        .zip(boundaries)
    {
        district.boundary = Some(boundary);
    }
    dataset
}

/// One street to draw: its parent, code, name and centre (degrees).
struct Street<'a> {
    district_code: &'a str,
    code: String,
    name: String,
    centre: (f64, f64),
}

/// Draws one Dongjie-like street (7 communities, roads, park, buildings) into `dataset`.
fn add_street(dataset: &mut Dataset, street: &Street<'_>, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let plan = layout::layout(&mut rng);
    let placed = buildings::place(&plan, &mut rng, DONGJIE_HOUSEHOLDS);
    let frame = Frame::centred(
        street.centre.0,
        street.centre.1,
        (layout::WIDTH_M / 2.0, layout::HEIGHT_M / 2.0),
    );

    dataset.regions.push(RegionRecord {
        level: Level::Street,
        code: street.code.clone(),
        name: street.name.clone(),
        parent_code: Some(street.district_code.to_owned()),
        boundary: Some(frame.polygon(&plan.street)),
    });
    for (n, (polygon, (pinyin, hanzi))) in
        (1..).zip(plan.communities.iter().zip(layout::COMMUNITY_NAMES))
    {
        dataset.regions.push(RegionRecord {
            level: Level::Community,
            code: format!("{}{n:03}", street.code),
            name: format!("{pinyin} Community {hanzi}"),
            parent_code: Some(street.code.clone()),
            boundary: Some(frame.polygon(polygon)),
        });
    }
    dataset
        .buildings
        .extend(placed.iter().map(|b| BuildingRecord {
            source_id: None,
            footprint: frame.polygon(&b.footprint),
            kind: b.kind.to_owned(),
            levels: Some(b.levels),
            households: b.households,
        }));
    dataset.roads.extend(plan.roads.iter().map(|r| LineRecord {
        kind: r.kind.to_owned(),
        name: Some(r.name.clone()),
        geometry: frame.line(&r.line),
    }));
    dataset.areas.push(AreaRecord {
        kind: "park".to_owned(),
        name: Some("Lianhua Park 莲花公园".to_owned()),
        geometry: frame.polygon(&plan.park),
    });
    dataset.areas.push(AreaRecord {
        kind: "water".to_owned(),
        name: Some("Lianhua Pond 莲花池".to_owned()),
        geometry: frame.polygon(&plan.pond),
    });
}

#[cfg(test)]
mod tests;
