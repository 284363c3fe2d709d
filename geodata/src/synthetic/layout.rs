//! The street plan of the synthetic Dongjie: outline, seven community polygons sharing
//! their edges exactly, named roads and lanes, a park with a pond. Local meters (x east,
//! y north, origin at the street's south-west corner); owns no buildings.

use geo::{Coord, LineString, Polygon, coord};
use rand::Rng as _;
use rand_chacha::ChaCha8Rng;

/// Street extent east–west, meters.
pub(super) const WIDTH_M: f64 = 2800.0;
/// Street extent north–south, meters.
pub(super) const HEIGHT_M: f64 = 2000.0;
/// Mean y of the east–west trunk road between the two rows of communities, meters.
const MID_M: f64 = 1000.0;

/// Community names in code order: the north row west to east, then the south row.
pub(super) const COMMUNITY_NAMES: [(&str, &str); 7] = [
    ("Fuhou", "府后社区"),
    ("Chenghuang", "城隍社区"),
    ("Dongguan", "东关社区"),
    ("Beishicao", "北石槽社区"),
    ("Taihang", "太行社区"),
    ("Yingxiong", "英雄社区"),
    ("Nanjie", "南街社区"),
];
const LANE_NUMERALS: [&str; 2] = ["一", "二"];

/// A named line in local meters.
pub(super) struct Road {
    pub kind: &'static str,
    pub name: String,
    pub line: LineString<f64>,
}

/// Everything but the buildings, in local meters.
pub(super) struct Layout {
    pub street: Polygon<f64>,
    pub communities: Vec<Polygon<f64>>,
    pub roads: Vec<Road>,
    /// The lanes inside communities (also in `roads`): buildings keep off them.
    pub lanes: Vec<LineString<f64>>,
    pub park: Polygon<f64>,
    pub pond: Polygon<f64>,
}

/// y of a polyline sorted by x, at `x` (linear between vertices).
fn y_at(line: &[Coord<f64>], x: f64) -> f64 {
    for pair in line.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if x >= a.x && x <= b.x {
            let t = if b.x > a.x {
                (x - a.x) / (b.x - a.x)
            } else {
                0.0
            };
            return a.y + t * (b.y - a.y);
        }
    }
    line.last().map_or(MID_M, |c| c.y)
}

/// x of a polyline sorted by y, at `y`.
fn x_at(line: &[Coord<f64>], y: f64) -> f64 {
    for pair in line.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if y >= a.y && y <= b.y {
            let t = if b.y > a.y {
                (y - a.y) / (b.y - a.y)
            } else {
                0.0
            };
            return a.x + t * (b.x - a.x);
        }
    }
    line.last().map_or(0.0, |c| c.x)
}

/// A polyline (a road between communities), west/south end first.
type Polyline = Vec<Coord<f64>>;

/// One community's west and east sides (south end first) and its row.
struct Sides<'a> {
    west: &'a Polyline,
    east: &'a Polyline,
    north_row: bool,
}

pub(super) fn layout(rng: &mut ChaCha8Rng) -> Layout {
    // The trunk road: 8 jittered samples west to east.
    let samples: Polyline = (0..=7)
        .map(|i| coord! { x: f64::from(i) * 400.0, y: MID_M + rng.random_range(-60.0..60.0) })
        .collect();
    let mut divider = |x_base: f64, north: bool| {
        let (xb, xt) = (
            x_base + rng.random_range(-80.0..80.0),
            x_base + rng.random_range(-80.0..80.0),
        );
        let xm = f64::midpoint(xb, xt) + rng.random_range(-40.0..40.0);
        if north {
            let yb = y_at(&samples, xb);
            vec![
                coord! { x: xb, y: yb },
                coord! { x: xm, y: f64::midpoint(yb, HEIGHT_M) },
                coord! { x: xt, y: HEIGHT_M },
            ]
        } else {
            let yt = y_at(&samples, xt);
            vec![
                coord! { x: xb, y: 0.0 },
                coord! { x: xm, y: yt / 2.0 },
                coord! { x: xt, y: yt },
            ]
        }
    };
    let north: Vec<Polyline> = [700.0, 1400.0, 2100.0]
        .iter()
        .map(|&x| divider(x, true))
        .collect();
    let south: Vec<Polyline> = [930.0, 1870.0].iter().map(|&x| divider(x, false)).collect();

    // The trunk's vertices include every divider end, so both rows share them exactly.
    let mut mid: Polyline = samples.clone();
    mid.extend(north.iter().map(|d| d[0]));
    mid.extend(south.iter().map(|d| d[2]));
    mid.sort_by(|a, b| a.x.total_cmp(&b.x));
    mid.dedup_by(|a, b| a.x.total_cmp(&b.x).is_eq());
    let (west_mid, east_mid) = (mid[0], mid[mid.len() - 1]);

    // Each row's community sides, west to east: the street edge, the dividers, the edge.
    let mut north_sides = vec![vec![west_mid, coord! { x: 0.0, y: HEIGHT_M }]];
    north_sides.extend(north.iter().cloned());
    north_sides.push(vec![east_mid, coord! { x: WIDTH_M, y: HEIGHT_M }]);
    let mut south_sides = vec![vec![coord! { x: 0.0, y: 0.0 }, west_mid]];
    south_sides.extend(south.iter().cloned());
    south_sides.push(vec![coord! { x: WIDTH_M, y: 0.0 }, east_mid]);
    let sides: Vec<Sides<'_>> = north_sides
        .windows(2)
        .map(|p| Sides {
            west: &p[0],
            east: &p[1],
            north_row: true,
        })
        .chain(south_sides.windows(2).map(|p| Sides {
            west: &p[0],
            east: &p[1],
            north_row: false,
        }))
        .collect();

    let communities = sides.iter().map(|side| community(&mid, side)).collect();
    let mut outline = vec![coord! { x: 0.0, y: 0.0 }];
    outline.extend(south.iter().map(|d| d[0]));
    outline.extend([
        coord! { x: WIDTH_M, y: 0.0 },
        east_mid,
        coord! { x: WIDTH_M, y: HEIGHT_M },
    ]);
    outline.extend(north.iter().rev().map(|d| d[2]));
    outline.extend([coord! { x: 0.0, y: HEIGHT_M }, west_mid]);
    let street = Polygon::new(LineString::new(outline), vec![]);

    let mut roads = main_roads(&mid, &north, &south);
    let mut lanes = Vec::new();
    for (i, side) in sides.iter().enumerate() {
        for (name, line) in community_lanes(&mid, side, i) {
            lanes.push(LineString::new(line.clone()));
            roads.push(road("residential", &name, line));
        }
    }

    // A park with a pond in the south-west block of Yingxiong community (index 5): the
    // block between its west road, its lanes and the south edge.
    let (lane_ew, lane_ns) = (&lanes[10], &lanes[11]);
    let (west_x, lane_y, lane_x) = (lane_ew.0[0].x, lane_ew.0[0].y, lane_ns.0[0].x);
    let park_centre = coord! { x: f64::midpoint(west_x, lane_x), y: lane_y / 2.0 };
    let park = blob(rng, park_centre, (110.0, 85.0), 0.08);
    let pond = blob(rng, park_centre, (60.0, 40.0), 0.2);
    Layout {
        street,
        communities,
        roads,
        lanes,
        park,
        pond,
    }
}

/// A community's polygon, counter-clockwise, from its sides and the trunk road `mid`.
fn community(mid: &[Coord<f64>], side: &Sides<'_>) -> Polygon<f64> {
    let (west, east) = (side.west, side.east);
    let trunk_between =
        |x0: f64, x1: f64| mid.iter().copied().filter(move |c| c.x >= x0 && c.x <= x1);
    let mut vertices: Polyline;
    if side.north_row {
        // Along the trunk eastwards, up the east side, back down the west side.
        vertices = trunk_between(west[0].x, east[0].x).collect();
        vertices.extend_from_slice(&east[1..]);
        vertices.extend(west[1..].iter().rev());
    } else {
        // Along the south edge, up the east side, back west along the trunk, down the west.
        let (west_top, east_top) = (west[west.len() - 1], east[east.len() - 1]);
        vertices = vec![west[0]];
        vertices.extend_from_slice(east);
        let trunk: Polyline = trunk_between(west_top.x, east_top.x).collect();
        vertices.extend(trunk.iter().rev().skip(1));
        vertices.extend(west[1..west.len() - 1].iter().rev());
    }
    Polygon::new(LineString::new(vertices), vec![])
}

/// The trunk, the street's four edges and the five dividers, named.
fn main_roads(mid: &[Coord<f64>], north: &[Polyline], south: &[Polyline]) -> Vec<Road> {
    let (sw, se) = (coord! { x: 0.0, y: 0.0 }, coord! { x: WIDTH_M, y: 0.0 });
    let (nw, ne) = (
        coord! { x: 0.0, y: HEIGHT_M },
        coord! { x: WIDTH_M, y: HEIGHT_M },
    );
    let mut roads = vec![
        road("primary", "Taihang East Street 太行东街", mid.to_vec()),
        road("primary", "Jiefang East Street 解放东街", vec![sw, se]),
        road("secondary", "Chengbei Street 城北街", vec![nw, ne]),
        road("primary", "Yingxiong Middle Road 英雄中路", vec![sw, nw]),
        road("secondary", "Zhangze Road 漳泽路", vec![se, ne]),
    ];
    let divider_names = [
        "Fuhou Road 府后路",
        "Dongguan Road 东关路",
        "Beishicao Road 北石槽路",
        "Nanjie Road 南街路",
        "Chenghuang Road 城隍路",
    ];
    for (d, name) in north.iter().chain(south).zip(divider_names) {
        roads.push(road("tertiary", name, d.clone()));
    }
    roads
}

/// Community `i`'s two lanes, east–west then north–south through its middle, each ending on
/// the roads around it.
fn community_lanes(mid: &[Coord<f64>], side: &Sides<'_>, i: usize) -> [(String, Polyline); 2] {
    let (west, east) = (side.west, side.east);
    let xc = (west[0].x + east[0].x + west[west.len() - 1].x + east[east.len() - 1].x) / 4.0;
    let trunk_y = y_at(mid, xc);
    let (y0, y1) = if side.north_row {
        (trunk_y, HEIGHT_M)
    } else {
        (0.0, trunk_y)
    };
    let yc = f64::midpoint(y0, y1);
    let (pinyin, hanzi) = COMMUNITY_NAMES[i];
    let short = hanzi.trim_end_matches("社区");
    let name = |n: usize| format!("{pinyin} Lane {} {short}{}巷", n + 1, LANE_NUMERALS[n]);
    [
        (
            name(0),
            vec![
                coord! { x: x_at(west, yc), y: yc },
                coord! { x: x_at(east, yc), y: yc },
            ],
        ),
        (
            name(1),
            vec![coord! { x: xc, y: y0 }, coord! { x: xc, y: y1 }],
        ),
    ]
}

fn road(kind: &'static str, name: &str, line: Vec<Coord<f64>>) -> Road {
    Road {
        kind,
        name: name.to_owned(),
        line: LineString::new(line),
    }
}

/// An irregular oval: 24 vertices at `radii_m` (east–west, north–south) × (1 ± `wobble`).
fn blob(
    rng: &mut ChaCha8Rng,
    centre: Coord<f64>,
    radii_m: (f64, f64),
    wobble: f64,
) -> Polygon<f64> {
    let vertices: Polyline = (0..24)
        .map(|i| {
            let angle = f64::from(i) / 24.0 * std::f64::consts::TAU;
            let scale = 1.0 + rng.random_range(-wobble..=wobble);
            coord! { x: centre.x + radii_m.0 * scale * angle.cos(), y: centre.y + radii_m.1 * scale * angle.sin() }
        })
        .collect();
    Polygon::new(LineString::new(vertices), vec![])
}
