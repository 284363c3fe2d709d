//! Barrier classes, the adjacency test in degrees and on a graph's plane, and border shares.

use super::*;
use crate::model::{AreaRecord, LineRecord};
use geo::{LineString, Polygon};
use h3o::{LatLng, Resolution};

const LAT: f64 = 36.19;
const LON: f64 = 113.11;

/// Degrees of a point `(east_m, north_m)` from (`LON`, `LAT`).
fn at(east_m: f64, north_m: f64) -> (f64, f64) {
    let m = crate::cells::M_PER_DEG;
    (
        LON + east_m / (m * LAT.to_radians().cos()),
        LAT + north_m / m,
    )
}

fn line(kind: &str, points: &[(f64, f64)]) -> LineRecord {
    LineRecord {
        kind: kind.to_owned(),
        name: None,
        geometry: LineString::from(points.iter().map(|&(e, n)| at(e, n)).collect::<Vec<_>>()),
    }
}

fn disk(k: u32) -> Vec<CellIndex> {
    LatLng::new(LAT, LON)
        .expect("valid")
        .to_cell(Resolution::Twelve)
        .grid_disk(k)
}

#[test]
fn classes_follow_the_kind() {
    assert_eq!(BarrierClass::of_line("primary"), Some(BarrierClass::Major));
    assert_eq!(BarrierClass::of_line("rail"), Some(BarrierClass::Major));
    assert_eq!(BarrierClass::of_line("river"), Some(BarrierClass::Major));
    assert_eq!(
        BarrierClass::of_line("residential"),
        Some(BarrierClass::Minor)
    );
    assert_eq!(BarrierClass::of_line("footway"), None);
    assert_eq!(BarrierClass::of_line("tram"), None);
    assert_eq!(BarrierClass::of_area("water"), Some(BarrierClass::Major));
    assert_eq!(BarrierClass::of_area("park"), None);
    assert!(BarrierClass::Major > BarrierClass::Minor);
    assert!(BarrierClass::Major.cut_cost() < BarrierClass::Minor.cut_cost());
    assert!(BarrierClass::Minor.cut_cost() < PLAIN_CUT_COST);
}

#[test]
fn a_line_separates_the_cells_on_either_side_and_water_its_cells() {
    // A north–south primary road 3 m east of the centre, a footway further east, a pond
    // 150 m west.
    let lines = [
        line("primary", &[(3.0, -500.0), (3.0, 500.0)]),
        line("footway", &[(60.0, -500.0), (60.0, 500.0)]),
    ];
    let pond = Polygon::new(
        LineString::from(vec![
            at(-170.0, -20.0),
            at(-130.0, -20.0),
            at(-130.0, 20.0),
            at(-170.0, 20.0),
            at(-170.0, -20.0),
        ]),
        vec![],
    );
    let areas = [AreaRecord {
        kind: "water".to_owned(),
        name: None,
        geometry: MultiPolygon::new(vec![pond]),
    }];
    let barriers = Barriers::new(&lines, &areas);
    assert!(!barriers.is_empty());
    let cells = disk(12);
    let side = |c: CellIndex| cell_center(c).0 > at(3.0, 0.0).0;
    let in_pond = |c: CellIndex| {
        let (lon, lat) = cell_center(c);
        let (w, s) = at(-170.0, -20.0);
        let (e, n) = at(-130.0, 20.0);
        (w..=e).contains(&lon) && (s..=n).contains(&lat)
    };
    let (mut crossing, mut wet) = (0, 0);
    for &a in &cells {
        for b in crate::cells::neighbours(a) {
            let expected = if in_pond(a) || in_pond(b) || side(a) != side(b) {
                Some(BarrierClass::Major)
            } else {
                None
            };
            assert_eq!(barriers.between(a, b), expected, "{a} {b}");
            if side(a) != side(b) {
                crossing += 1;
            }
            if in_pond(a) || in_pond(b) {
                wet += 1;
            }
        }
    }
    assert!(crossing > 20 && wet > 10, "{crossing} {wet}");

    // The graph's classes, decided on its metric plane, agree with `between` in degrees.
    let graph = CellGraph::new(&cells);
    let found = barriers.classify(&graph);
    for i in (0_u32..).take(graph.len()) {
        for (k, &j) in graph.neighbours(i).iter().enumerate() {
            let expected = barriers.between(graph.cells[i as usize], graph.cells[j as usize]);
            assert_eq!(found.classes[graph.slot(i, k)], expected);
        }
    }
    // One road direction: its normal points east.
    assert_eq!(found.normals.len(), 1);
    assert!(
        (found.normals[0].0 - 1.0).abs() < 1e-6,
        "{:?}",
        found.normals
    );
}

#[test]
fn border_share_counts_each_border_edge_once() {
    let barriers = Barriers::new(&[line("rail", &[(3.0, -500.0), (3.0, 500.0)])], &[]);
    let cells = disk(6);
    let (east, west): (Vec<CellIndex>, Vec<CellIndex>) = cells
        .iter()
        .partition(|&&c| cell_center(c).0 > at(3.0, 0.0).0);
    let share = barriers.border_share(&[&east, &west]);
    assert!(share.edges > 5);
    assert_eq!(
        share.on_major, share.edges,
        "the halves meet only along the rail"
    );
    assert!((share.major_share() - 1.0).abs() < f64::EPSILON);
    assert_eq!(barriers.border_share(&[&cells]), BorderShare::default());
}

#[test]
fn the_graph_classes_of_short_segments_in_any_direction_agree_with_between() {
    // Short pieces across the disk in several directions: each segment is tested only
    // against the cells in the band of y beside it, which must hold every crossing.
    let lines = [
        line("primary", &[(-100.0, 20.0), (100.0, 23.0)]),
        line("secondary", &[(-80.0, -80.0), (40.0, -10.0)]),
        line(
            "residential",
            &[(-150.0, 90.0), (-120.0, 60.0), (-90.0, 75.0), (-60.0, 40.0)],
        ),
        line("rail", &[(120.0, -150.0), (125.0, 150.0)]),
    ];
    let barriers = Barriers::new(&lines, &[]);
    let graph = CellGraph::new(&disk(14));
    let found = barriers.classify(&graph);
    let mut crossings = 0;
    for i in (0_u32..).take(graph.len()) {
        for (k, &j) in graph.neighbours(i).iter().enumerate() {
            let expected = barriers.between(graph.cells[i as usize], graph.cells[j as usize]);
            assert_eq!(found.classes[graph.slot(i, k)], expected, "{i} {j}");
            crossings += usize::from(expected.is_some());
        }
    }
    assert!(crossings > 60, "{crossings}");
    assert!(found.normals.len() >= 3, "{:?}", found.normals);
}
