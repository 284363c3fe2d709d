//! Hand-built test data: a small city around lat 36.19, lon 113.11 at resolution 12, and a synthetic one
//! of city size. Geometries in degrees (EPSG:4326, lon/lat order); grid outlines come from h3o.

use geo::{MultiLineString, MultiPolygon, line_string, polygon};
use gridwatch::domain::{BaseArea, BaseLine, GridFlag, RegionLevel};
use gridwatch::store::{NewBuilding, NewCity, NewGrid, NewRegion};
use h3o::geom::SolventBuilder;
use h3o::{CellIndex, LatLng, Resolution};

pub const RESOLUTION: Resolution = Resolution::Twelve;
pub const DISTRICT: &str = "140402";
pub const STREET: &str = "140402001";
pub const COMMUNITY_1: &str = "140402001001";
pub const COMMUNITY_2: &str = "140402001002";
pub const GRID_A: &str = "140402001001001";
pub const GRID_B: &str = "140402001001002";
pub const GRID_C: &str = "140402001002001";

/// The cell at lat 36.19, lon 113.11.
pub fn centre() -> CellIndex {
    LatLng::new(36.19, 113.11)
        .expect("valid point")
        .to_cell(RESOLUTION)
}

/// The outline of a set of cells, degrees.
pub fn outline(cells: &[CellIndex]) -> MultiPolygon<f64> {
    SolventBuilder::new()
        .build()
        .dissolve(cells.iter().copied())
        .expect("cells dissolve")
}

/// A square footprint about 9 m across around a cell's centre, degrees.
pub fn footprint(cell: CellIndex) -> MultiPolygon<f64> {
    let c = LatLng::from(cell);
    let d = 0.000_04;
    MultiPolygon(vec![polygon![
        (x: c.lng() - d, y: c.lat() - d),
        (x: c.lng() + d, y: c.lat() - d),
        (x: c.lng() + d, y: c.lat() + d),
        (x: c.lng() - d, y: c.lat() + d),
    ]])
}

pub fn building(
    source: &str,
    cell: CellIndex,
    households: u32,
    levels: Option<u32>,
) -> NewBuilding {
    NewBuilding {
        source_id: Some(source.to_owned()),
        footprint: footprint(cell),
        kind: "residential".to_owned(),
        levels,
        households,
        cell,
    }
}

fn region(level: RegionLevel, code: &str, name: &str, cells: &[CellIndex]) -> NewRegion {
    NewRegion {
        level,
        code: code.to_owned(),
        name: name.to_owned(),
        boundary: outline(cells),
    }
}

fn grid(
    code: &str,
    community: &str,
    cells: Vec<CellIndex>,
    households: u32,
    count: u32,
    flag: Option<GridFlag>,
) -> NewGrid {
    NewGrid {
        code: code.to_owned(),
        name: format!("网格 {}", &code[12..]),
        community_code: community.to_owned(),
        boundary: outline(&cells),
        cells,
        households,
        building_count: count,
        flag,
    }
}

/// Grid A is the centre cell and its first ring, B the second ring (an annulus, so its outline has a
/// hole), C the third ring in another community. Five buildings, one outside every grid.
pub fn city() -> NewCity {
    let c = centre();
    let a: Vec<CellIndex> = c.grid_disk(1);
    let b: Vec<CellIndex> = c.grid_ring(2);
    let d: Vec<CellIndex> = c.grid_ring(3);
    let community_1: Vec<CellIndex> = a.iter().chain(&b).copied().collect();
    let all: Vec<CellIndex> = c.grid_disk(3);
    let outside = c.grid_ring::<Vec<_>>(5)[0];
    NewCity {
        name: "东街 test".to_owned(),
        attribution: Some("synthetic".to_owned()),
        resolution: RESOLUTION,
        regions: vec![
            (
                region(RegionLevel::District, DISTRICT, "潞州区", &all),
                None,
            ),
            (
                region(RegionLevel::Street, STREET, "东街街道", &all),
                Some(DISTRICT.to_owned()),
            ),
            (
                region(RegionLevel::Community, COMMUNITY_1, "一社区", &community_1),
                Some(STREET.to_owned()),
            ),
            (
                region(RegionLevel::Community, COMMUNITY_2, "二社区", &d),
                Some(STREET.to_owned()),
            ),
        ],
        grids: vec![
            grid(
                GRID_A,
                COMMUNITY_1,
                a.clone(),
                70,
                2,
                Some(GridFlag::UnderMin { households: 70 }),
            ),
            grid(GRID_B, COMMUNITY_1, b.clone(), 120, 1, None),
            grid(
                GRID_C,
                COMMUNITY_2,
                d.clone(),
                160,
                1,
                Some(GridFlag::OverMax { households: 160 }),
            ),
        ],
        buildings: vec![
            (
                building("osm:way/1", c, 40, Some(5)),
                Some(GRID_A.to_owned()),
            ),
            (
                building("osm:way/2", a[3], 30, None),
                Some(GRID_A.to_owned()),
            ),
            (
                building("osm:way/3", b[4], 120, Some(6)),
                Some(GRID_B.to_owned()),
            ),
            (
                building("osm:way/4", d[7], 160, Some(18)),
                Some(GRID_C.to_owned()),
            ),
            (building("osm:way/5", outside, 3, Some(1)), None),
        ],
        base_lines: base_lines(),
        base_areas: base_areas(),
    }
}

/// Three base-map lines near the centre, degrees. The first is a 3-4-5 triangle's hypotenuse scaled
/// by 0.001°, so its planar length is exactly 0.005° (the `PostGIS` check uses this); the second has
/// two parts and no name; coordinates carry full `f64` digits to catch a lossy round trip.
pub fn base_lines() -> Vec<BaseLine> {
    vec![
        BaseLine {
            kind: "primary".to_owned(),
            name: Some("太行东街 Taihang East Street".to_owned()),
            geometry: MultiLineString::new(vec![line_string![
                (x: 113.11, y: 36.19),
                (x: 113.113, y: 36.194),
            ]]),
        },
        BaseLine {
            kind: "rail".to_owned(),
            name: None,
            geometry: MultiLineString::new(vec![
                line_string![(x: 113.108_123_456_789_01, y: 36.188_765_432_101_23), (x: 113.109_3, y: 36.189_1), (x: 113.110_7, y: 36.188_9)],
                line_string![(x: 113.111_1, y: 36.191_1), (x: 113.112_2, y: 36.192_2)],
            ]),
        },
        BaseLine {
            kind: "river".to_owned(),
            name: Some("漳河".to_owned()),
            geometry: MultiLineString::new(vec![
                line_string![(x: 113.105, y: 36.185), (x: 113.115, y: 36.195)],
            ]),
        },
    ]
}

/// A pond with an island and a park, degrees.
pub fn base_areas() -> Vec<BaseArea> {
    vec![
        BaseArea {
            kind: "water".to_owned(),
            name: Some("莲花池".to_owned()),
            geometry: MultiPolygon(vec![polygon!(
                exterior: [
                    (x: 113.106, y: 36.186),
                    (x: 113.108, y: 36.186),
                    (x: 113.108, y: 36.188),
                    (x: 113.106, y: 36.188),
                    (x: 113.106, y: 36.186),
                ],
                interiors: [[
                    (x: 113.106_9, y: 36.186_9),
                    (x: 113.107_1, y: 36.186_9),
                    (x: 113.107_1, y: 36.187_1),
                    (x: 113.106_9, y: 36.186_9),
                ]],
            )]),
        },
        BaseArea {
            kind: "park".to_owned(),
            name: None,
            geometry: MultiPolygon(vec![polygon![
                (x: 113.112_345_678_9, y: 36.192),
                (x: 113.114, y: 36.192),
                (x: 113.114, y: 36.193_987_654_321),
                (x: 113.112_345_678_9, y: 36.192),
            ]]),
        },
    ]
}

/// A city the size of dongjie: 61 grids of 343 cells (the resolution-12 children of resolution-9
/// cells), 20 923 cells, one building in every tenth cell, six communities.
pub fn big_city() -> NewCity {
    let parents: Vec<CellIndex> = centre()
        .parent(Resolution::Nine)
        .expect("coarser")
        .grid_disk(4);
    let communities: Vec<String> = (1..=6).map(|i| format!("{STREET}{i:03}")).collect();
    let mut grids = Vec::new();
    let mut buildings = Vec::new();
    let mut community_cells = vec![Vec::new(); communities.len()];
    for (i, parent) in parents.iter().enumerate() {
        let cells: Vec<CellIndex> = parent.children(RESOLUTION).collect();
        let community = i % communities.len();
        community_cells[community].extend(&cells);
        let code = format!("{}{:03}", communities[community], i + 1);
        let mine: Vec<NewBuilding> = cells
            .iter()
            .step_by(10)
            .enumerate()
            .map(|(j, &cell)| building(&format!("osm:way/{i}{j:03}"), cell, 3, Some(2)))
            .collect();
        let households = mine.iter().map(|b| b.households).sum();
        let count = u32::try_from(mine.len()).expect("small");
        buildings.extend(mine.into_iter().map(|b| (b, Some(code.clone()))));
        grids.push(grid(
            &code,
            &communities[community],
            cells,
            households,
            count,
            None,
        ));
    }
    let all: Vec<CellIndex> = community_cells.concat();
    let mut regions = vec![
        (
            region(RegionLevel::District, DISTRICT, "潞州区", &all),
            None,
        ),
        (
            region(RegionLevel::Street, STREET, "东街街道", &all),
            Some(DISTRICT.to_owned()),
        ),
    ];
    for (code, cells) in communities.iter().zip(&community_cells) {
        regions.push((
            region(RegionLevel::Community, code, code, cells),
            Some(STREET.to_owned()),
        ));
    }
    NewCity {
        name: "big".to_owned(),
        attribution: None,
        resolution: RESOLUTION,
        regions,
        grids,
        buildings,
        base_lines: Vec::new(),
        base_areas: Vec::new(),
    }
}
