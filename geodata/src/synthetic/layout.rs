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
            let t = if b.x > a.x { (x - a.x) / (b.x - a.x) } else { 0.0 };
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
            let t = if b.y > a.y { (y - a.y) / (b.y - a.y) } else { 0.0 };
            return a.x + t * (b.x - a.x);
        }
    }
    line.last().map_or(0.0, |c| c.x)
}

pub(super) fn layout(rng: &mut ChaCha8Rng) -> Layout {
    // The trunk road: 8 jittered samples west to east.
    let samples: Vec<Coord<f64>> = (0..=7)
        .map(|i| coord! { x: f64::from(i) * 400.0, y: MID_M + rng.random_range(-60.0..60.0) })
        .collect();
    let mut divider = |x_base: f64, north: bool| {
        let (xb, xt) = (x_base + rng.random_range(-80.0..80.0), x_base + rng.random_range(-80.0..80.0));
        let xm = (xb + xt) / 2.0 + rng.random_range(-40.0..40.0);
        if north {
            let yb = y_at(&samples, xb);
            vec![coord! { x: xb, y: yb }, coord! { x: xm, y: (yb + HEIGHT_M) / 2.0 }, coord! { x: xt, y: HEIGHT_M }]
        } else {
            let yt = y_at(&samples, xt);
            vec![coord! { x: xb, y: 0.0 }, coord! { x: xm, y: yt / 2.0 }, coord! { x: xt, y: yt }]
        }
    };
    let north: Vec<Vec<Coord<f64>>> = [700.0, 1400.0, 2100.0].iter().map(|&x| divider(x, true)).collect();
    let south: Vec<Vec<Coord<f64>>> = [930.0, 1870.0].iter().map(|&x| divider(x, false)).collect();

    // The trunk's vertices include every divider end, so both rows share them exactly.
    let mut mid: Vec<Coord<f64>> = samples.clone();
    mid.extend(north.iter().map(|d| d[0]));
    mid.extend(south.iter().map(|d| d[2]));
    mid.sort_by(|a, b| a.x.total_cmp(&b.x));
    mid.dedup_by(|a, b| a.x == b.x);
    let trunk_between = |x0: f64, x1: f64| -> Vec<Coord<f64>> { mid.iter().copied().filter(|c| c.x >= x0 && c.x <= x1).collect() };
    let (west_mid, east_mid) = (mid[0], mid[mid.len() - 1]);

    let mut north_sides = vec![vec![west_mid, coord! { x: 0.0, y: HEIGHT_M }]];
    north_sides.extend(north.iter().cloned());
    north_sides.push(vec![east_mid, coord! { x: WIDTH_M, y: HEIGHT_M }]);
    let mut south_sides = vec![vec![coord! { x: 0.0, y: 0.0 }, west_mid]];
    south_sides.extend(south.iter().cloned());
    south_sides.push(vec![coord! { x: WIDTH_M, y: 0.0 }, east_mid]);

    let mut communities = Vec::with_capacity(7);
    for pair in north_sides.windows(2) {
        let (left, right) = (&pair[0], &pair[1]);
        let mut ring = trunk_between(left[0].x, right[0].x);
        ring.extend_from_slice(&right[1..]);
        ring.extend(left[1..].iter().rev());
        communities.push(Polygon::new(LineString::new(ring), vec![]));
    }
    for pair in south_sides.windows(2) {
        let (left, right) = (&pair[0], &pair[1]);
        let (l_top, r_top) = (left[left.len() - 1], right[right.len() - 1]);
        let mut ring = vec![left[0]];
        ring.extend_from_slice(right);
        let trunk: Vec<Coord<f64>> = trunk_between(l_top.x, r_top.x);
        ring.extend(trunk.iter().rev().skip(1));
        ring.extend(left[1..left.len() - 1].iter().rev());
        communities.push(Polygon::new(LineString::new(ring), vec![]));
    }

    let mut outline = vec![coord! { x: 0.0, y: 0.0 }];
    outline.extend(south.iter().map(|d| d[0]));
    outline.extend([coord! { x: WIDTH_M, y: 0.0 }, east_mid, coord! { x: WIDTH_M, y: HEIGHT_M }]);
    outline.extend(north.iter().rev().map(|d| d[2]));
    outline.extend([coord! { x: 0.0, y: HEIGHT_M }, west_mid]);
    let street = Polygon::new(LineString::new(outline), vec![]);

    let mut roads = vec![
        road("primary", "Taihang East Street 太行东街", mid.clone()),
        road("primary", "Jiefang East Street 解放东街", vec![coord! { x: 0.0, y: 0.0 }, coord! { x: WIDTH_M, y: 0.0 }]),
        road("secondary", "Chengbei Street 城北街", vec![coord! { x: 0.0, y: HEIGHT_M }, coord! { x: WIDTH_M, y: HEIGHT_M }]),
        road("primary", "Yingxiong Middle Road 英雄中路", vec![coord! { x: 0.0, y: 0.0 }, coord! { x: 0.0, y: HEIGHT_M }]),
        road("secondary", "Zhangze Road 漳泽路", vec![coord! { x: WIDTH_M, y: 0.0 }, coord! { x: WIDTH_M, y: HEIGHT_M }]),
    ];
    let divider_names = [
        "Fuhou Road 府后路",
        "Dongguan Road 东关路",
        "Beishicao Road 北石槽路",
        "Nanjie Road 南街路",
        "Chenghuang Road 城隍路",
    ];
    for (d, name) in north.iter().chain(&south).zip(divider_names) {
        roads.push(road("tertiary", name, d.clone()));
    }

    // Two lanes per community through its middle, ending on the roads around it.
    let mut lanes = Vec::new();
    let sides: Vec<(&Vec<Coord<f64>>, &Vec<Coord<f64>>, bool)> = north_sides
        .windows(2)
        .map(|p| (&p[0], &p[1], true))
        .chain(south_sides.windows(2).map(|p| (&p[0], &p[1], false)))
        .collect();
    for (i, (left, right, is_north)) in sides.into_iter().enumerate() {
        let xc = (left[0].x + right[0].x + left[left.len() - 1].x + right[right.len() - 1].x) / 4.0;
        let trunk_y = y_at(&mid, xc);
        let (y0, y1) = if is_north { (trunk_y, HEIGHT_M) } else { (0.0, trunk_y) };
        let yc = (y0 + y1) / 2.0;
        let east_west = vec![coord! { x: x_at(left, yc), y: yc }, coord! { x: x_at(right, yc), y: yc }];
        let north_south = vec![coord! { x: xc, y: y0 }, coord! { x: xc, y: y1 }];
        let (pinyin, hanzi) = COMMUNITY_NAMES[i];
        let short = hanzi.trim_end_matches("社区");
        for (n, line) in [east_west, north_south].into_iter().enumerate() {
            let name = format!("{pinyin} Lane {} {short}{}巷", n + 1, LANE_NUMERALS[n]);
            lanes.push(LineString::new(line.clone()));
            roads.push(road("residential", &name, line));
        }
    }

    // A park with a pond in the south-west block of Yingxiong community (index 5): the
    // block between its west road, its lanes and the south edge.
    let (lane_ew, lane_ns) = (&lanes[10], &lanes[11]);
    let (west_x, lane_y, lane_x) = (lane_ew.0[0].x, lane_ew.0[0].y, lane_ns.0[0].x);
    let park_centre = coord! { x: (west_x + lane_x) / 2.0, y: lane_y / 2.0 };
    let park = blob(rng, park_centre, 110.0, 85.0, 0.08);
    let pond = blob(rng, park_centre, 60.0, 40.0, 0.2);
    Layout {
        street,
        communities,
        roads,
        lanes,
        park,
        pond,
    }
}

fn road(kind: &'static str, name: &str, line: Vec<Coord<f64>>) -> Road {
    Road {
        kind,
        name: name.to_owned(),
        line: LineString::new(line),
    }
}

/// An irregular oval: 24 vertices at radius `rx`/`ry` × (1 ± `wobble`).
fn blob(rng: &mut ChaCha8Rng, centre: Coord<f64>, rx: f64, ry: f64, wobble: f64) -> Polygon<f64> {
    let ring: Vec<Coord<f64>> = (0..24)
        .map(|i| {
            let angle = f64::from(i) / 24.0 * std::f64::consts::TAU;
            let scale = 1.0 + rng.random_range(-wobble..=wobble);
            coord! { x: centre.x + rx * scale * angle.cos(), y: centre.y + ry * scale * angle.sin() }
        })
        .collect();
    Polygon::new(LineString::new(ring), vec![])
}
