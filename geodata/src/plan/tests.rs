//! Invariant tests of the planner on the synthetic Dongjie, the Helsinki extract and small
//! hand-made datasets.

use super::*;
use crate::synthetic::{DONGJIE_HOUSEHOLDS, Preset, synthetic_city};
use geo::{LineString, MultiPolygon, Polygon};
use std::collections::{HashMap, HashSet};

use crate::test_support::is_contiguous;

/// Checks what must hold for every plan; returns the share of grids in range.
#[expect(clippy::cast_precision_loss, reason = "small counts")]
fn check_plan(dataset: &Dataset, plan: &CityPlan, rules: &PartitionRules) -> f64 {
    let mut owner: HashMap<CellIndex, &str> = HashMap::new();
    let mut codes = HashSet::new();
    for grid in &plan.grids {
        assert_eq!(grid.code.len(), 15, "{}", grid.code);
        assert!(grid.code.bytes().all(|b| b.is_ascii_digit()));
        assert!(grid.code.starts_with(&grid.community_code));
        assert!(
            codes.insert(grid.code.clone()),
            "duplicate code {}",
            grid.code
        );
        assert!(
            is_contiguous(&grid.cells),
            "grid {} is not contiguous",
            grid.code
        );
        for &cell in &grid.cells {
            assert!(
                owner.insert(cell, &grid.code).is_none(),
                "{cell} is in two grids"
            );
        }
    }
    // A community's grids are exactly its cells.
    for region in plan
        .regions
        .iter()
        .filter(|r| r.record.level == Level::Community)
    {
        let mine: HashSet<CellIndex> = plan
            .grids
            .iter()
            .filter(|g| g.community_code == region.record.code)
            .flat_map(|g| g.cells.iter().copied())
            .collect();
        let cells: HashSet<CellIndex> = region.cells.iter().copied().collect();
        assert_eq!(mine, cells, "community {}", region.record.code);
    }
    for region in &plan.regions {
        assert!(
            region.record.boundary.is_some(),
            "{} has a boundary",
            region.record.code
        );
    }
    // All households and buildings land in a grid.
    let grid_households: u64 = plan.grids.iter().map(|g| u64::from(g.households)).sum();
    assert_eq!(grid_households, dataset.total_households());
    let grid_buildings: usize = plan.grids.iter().map(|g| g.building_count as usize).sum();
    assert_eq!(grid_buildings, dataset.buildings.len());
    for (_, cell) in &plan.buildings {
        assert!(owner.contains_key(cell), "a building's cell is in no grid");
    }
    // Flags agree with the counts.
    for grid in &plan.grids {
        let in_range = (rules.min_households..=rules.max_households).contains(&grid.households);
        assert_eq!(
            grid.flag.is_none(),
            in_range,
            "{} {:?}",
            grid.code,
            grid.flag
        );
    }
    // The report agrees with the grids.
    let report = &plan.report;
    assert_eq!(report.per_grid.len(), plan.grids.len());
    for (grid, figures) in plan.grids.iter().zip(&report.per_grid) {
        assert_eq!(figures.code, grid.code);
        assert_eq!(
            figures.reason.is_none(),
            grid.flag.is_none(),
            "{}",
            grid.code
        );
        assert!(
            figures.polsby_popper > 0.0 && figures.polsby_popper <= 1.0,
            "{} {}",
            grid.code,
            figures.polsby_popper
        );
        // Measured on the community's cell graph while cutting: the figure of the cells.
        let direct = cells::polsby_popper(&grid.cells);
        assert!(
            figures.polsby_popper.to_bits() == direct.to_bits(),
            "{}: reported {} vs {direct}",
            grid.code,
            figures.polsby_popper
        );
    }
    let in_range = plan.grids.iter().filter(|g| g.flag.is_none()).count();
    assert_eq!(report.in_range, in_range);
    in_range as f64 / plan.grids.len().max(1) as f64
}

/// Every grid out of range is forced out by the input (a tower, an island too small, …),
/// and every grid that can be in range is.
fn assert_only_forced(plan: &CityPlan) {
    let unresolved: Vec<&GridReport> = plan
        .report
        .per_grid
        .iter()
        .filter(|g| g.reason.is_some_and(|r| !r.is_forced()))
        .collect();
    assert!(unresolved.is_empty(), "{unresolved:?}");
    assert!((plan.report.share_in_range_of_possible - 1.0).abs() < f64::EPSILON);
}

/// The Dongjie (seed 1) plan at resolution 12, made once: tiling is slow in debug builds
/// (h3o checks every inner cell with a debug assertion).
fn dongjie() -> &'static (Dataset, CityPlan) {
    static PLAN: std::sync::OnceLock<(Dataset, CityPlan)> = std::sync::OnceLock::new();
    PLAN.get_or_init(|| {
        let dataset = synthetic_city(Preset::Dongjie, 1);
        let plan =
            plan_city(&dataset, Resolution::Twelve, &PartitionRules::default()).expect("plans");
        (dataset, plan)
    })
}

#[test]
fn dongjie_plan() {
    let (dataset, plan) = dongjie();
    let rules = PartitionRules::default();
    let share = check_plan(dataset, plan, &rules);
    let cells: usize = plan.grids.iter().map(|g| g.cells.len()).sum();
    eprintln!(
        "dongjie: {} grids over {cells} cells, {:.1}% in range",
        plan.grids.len(),
        share * 100.0
    );
    assert!(
        (88..=108).contains(&plan.grids.len()),
        "{} grids",
        plan.grids.len()
    );
    let flagged: Vec<&PlannedGrid> = plan.grids.iter().filter(|g| g.flag.is_some()).collect();
    assert_eq!(
        flagged.len(),
        2,
        "only the towers: {:?}",
        flagged.iter().map(|g| g.flag).collect::<Vec<_>>()
    );
    assert_only_forced(plan);
    assert!(
        plan.report.polsby_popper_min > 0.2,
        "{:?}",
        plan.report.polsby_popper_min
    );
    for grid in flagged {
        assert!(
            matches!(grid.flag, Some(GridFlag::SingleBuildingOverMax { households }) if (160..=220).contains(&households))
        );
        assert_eq!(grid.cells.len(), 1);
        assert_eq!(grid.building_count, 1);
    }
    assert_eq!(
        plan.grids
            .iter()
            .map(|g| u64::from(g.households))
            .sum::<u64>(),
        u64::from(DONGJIE_HOUSEHOLDS)
    );
    // The given regions are kept: 1 district, 1 street, 7 communities.
    let count = |level| {
        plan.regions
            .iter()
            .filter(|r| r.record.level == level)
            .count()
    };
    assert_eq!(
        (
            count(Level::District),
            count(Level::Street),
            count(Level::Community)
        ),
        (1, 1, 7)
    );
    // Communities together cover the street's cells (centre containment).
    let street = plan
        .regions
        .iter()
        .find(|r| r.record.level == Level::Street)
        .expect("street");
    let street_cells: HashSet<CellIndex> = crate::cells::polygon_cells(
        street.record.boundary.as_ref().expect("boundary"),
        Resolution::Twelve,
    )
    .into_iter()
    .collect();
    let community_cells: HashSet<CellIndex> = plan
        .regions
        .iter()
        .filter(|r| r.record.level == Level::Community)
        .flat_map(|r| r.cells.iter().copied())
        .collect();
    assert_eq!(community_cells, street_cells);
}

#[test]
fn dongjie_plan_is_deterministic() {
    let (_, shared) = dongjie();
    let again = plan_city(
        &synthetic_city(Preset::Dongjie, 1),
        Resolution::Twelve,
        &PartitionRules::default(),
    )
    .expect("plans");
    assert_eq!(&again, shared);
}

#[test]
#[expect(clippy::cast_precision_loss, reason = "small counts")]
fn grid_codes_follow_reading_order() {
    let (_, plan) = dongjie();
    let community = &plan.grids[0].community_code;
    let grids: Vec<&PlannedGrid> = plan
        .grids
        .iter()
        .filter(|g| &g.community_code == community)
        .collect();
    let centre = |g: &PlannedGrid| {
        let n = g.cells.len() as f64;
        g.cells
            .iter()
            .map(|&c| crate::cells::cell_center(c))
            .fold((0.0, 0.0), |a, c| (a.0 + c.0 / n, a.1 + c.1 / n))
    };
    // The first grid is in the northern band; the last in the southern one.
    let lats: Vec<f64> = grids.iter().map(|g| centre(g).1).collect();
    let (north, south) = (
        lats.iter().copied().fold(f64::MIN, f64::max),
        lats.iter().copied().fold(f64::MAX, f64::min),
    );
    let band = (north - south) / 3.0;
    assert!(lats[0] > north - band, "first grid is in the north");
    assert!(
        lats[lats.len() - 1] < south + band,
        "last grid is in the south"
    );
}

#[test]
fn helsinki_plan() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/helsinki.osm.pbf");
    let dataset = crate::read_osm_pbf(&path).expect("reads");
    let rules = PartitionRules::default();
    let plan = plan_city(&dataset, Resolution::Twelve, &rules).expect("plans");
    let share = check_plan(&dataset, &plan, &rules);
    let flags = |f: fn(&GridFlag) -> bool| {
        plan.grids
            .iter()
            .filter(|g| g.flag.as_ref().is_some_and(f))
            .count()
    };
    eprintln!(
        "helsinki: {} households, {} communities, {} grids, {:.1}% in range; single-building {}, cell {}, under {}, over {}",
        dataset.total_households(),
        plan.regions
            .iter()
            .filter(|r| r.record.level == Level::Community)
            .count(),
        plan.grids.len(),
        share * 100.0,
        flags(|f| matches!(f, GridFlag::SingleBuildingOverMax { .. })),
        flags(|f| matches!(f, GridFlag::CellOverMax { .. })),
        flags(|f| matches!(f, GridFlag::UnderMin { .. })),
        flags(|f| matches!(f, GridFlag::OverMax { .. })),
    );
    // Only the towers are out of range (five buildings of 157–301 estimated households);
    // the two adjacent buildings of 77 and 85 households now sit in different grids.
    assert_only_forced(&plan);
    assert!(
        plan.report
            .per_grid
            .iter()
            .filter_map(|g| g.reason)
            .all(|r| matches!(r, OutOfRange::SingleBuilding { .. })),
        "{:?}",
        plan.report.per_grid
    );
    // No regions in the extract: one district and one street are made up.
    let district = &plan.regions[0].record;
    assert_eq!(
        (district.code.as_str(), district.name.as_str()),
        ("000000", "helsinki")
    );
    assert!(plan.regions.iter().any(|r| r.record.code == "000000001"));
    assert!(
        plan.regions
            .iter()
            .filter(|r| r.record.level == Level::Community)
            .all(|r| r.record.name.starts_with("Community "))
    );
}

fn square(lon: f64, lat: f64, size: f64) -> MultiPolygon<f64> {
    MultiPolygon::new(vec![Polygon::new(
        LineString::from(vec![
            (lon, lat),
            (lon + size, lat),
            (lon + size, lat + size),
            (lon, lat + size),
            (lon, lat),
        ]),
        vec![],
    )])
}

fn building(lon: f64, lat: f64, households: u32) -> BuildingRecord {
    BuildingRecord {
        source_id: None,
        footprint: square(lon, lat, 0.0001),
        kind: "residential".to_owned(),
        levels: None,
        households,
    }
}

fn region(
    level: Level,
    code: &str,
    parent: Option<&str>,
    boundary: Option<MultiPolygon<f64>>,
) -> RegionRecord {
    RegionRecord {
        level,
        code: code.to_owned(),
        name: code.to_owned(),
        parent_code: parent.map(str::to_owned),
        boundary,
    }
}

#[test]
fn a_building_outside_every_community_joins_the_nearest() {
    let dataset = Dataset {
        name: "tiny".to_owned(),
        regions: vec![
            region(
                Level::Community,
                "140403001001",
                None,
                Some(square(113.100, 36.180, 0.003)),
            ),
            region(
                Level::Community,
                "140403001002",
                None,
                Some(square(113.103, 36.180, 0.003)),
            ),
        ],
        buildings: vec![
            building(113.1010, 36.1810, 60),
            building(113.1040, 36.1810, 60),
            // 300 m east of the second community.
            building(113.1095, 36.1815, 50),
        ],
        ..Dataset::default()
    };
    let rules = PartitionRules::default();
    let plan = plan_city(&dataset, Resolution::Twelve, &rules).expect("plans");
    check_plan(&dataset, &plan, &rules);
    let far_cell = plan.buildings[2].1;
    let home = plan
        .regions
        .iter()
        .find(|r| r.cells.contains(&far_cell))
        .expect("assigned");
    assert_eq!(home.record.code, "140403001002");
    assert!(is_contiguous(&home.cells), "joined through a line of cells");
    // Missing levels were filled: district 000000 and street 000000001 (the only ones).
    assert_eq!(plan.regions[0].record.code, "000000");
    assert_eq!(plan.regions[1].record.code, "000000001");
    assert!(
        plan.regions[2..]
            .iter()
            .all(|r| r.record.parent_code.as_deref() == Some("000000001"))
    );
}

#[test]
fn plan_errors() {
    let rules = PartitionRules::default();
    let with = |regions: Vec<RegionRecord>| Dataset {
        name: "x".to_owned(),
        regions,
        buildings: vec![building(113.101, 36.181, 10)],
        ..Dataset::default()
    };
    let plan = |d: &Dataset| plan_city(d, Resolution::Twelve, &rules);
    let s = Some(square(113.100, 36.180, 0.003));
    assert!(matches!(
        plan(&with(vec![region(Level::District, "14040", None, None)])),
        Err(PlanError::BadCode { .. })
    ));
    assert!(matches!(
        plan(&with(vec![
            region(Level::District, "140403", None, None),
            region(Level::District, "140403", None, None)
        ])),
        Err(PlanError::DuplicateCode { .. })
    ));
    assert!(matches!(
        plan(&with(vec![region(
            Level::Street,
            "140403001",
            Some("140404"),
            None
        )])),
        Err(PlanError::BadParent { .. })
    ));
    assert!(matches!(
        plan(&with(vec![region(
            Level::Community,
            "140403001001",
            None,
            None
        )])),
        Err(PlanError::MissingBoundary { .. })
    ));
    assert!(matches!(
        plan(&with(vec![
            region(Level::Street, "000000001", None, None),
            region(Level::Street, "000000002", None, None),
        ])),
        Err(PlanError::AmbiguousStreets { .. })
    ));
    assert!(matches!(
        plan(&with(vec![
            region(Level::Street, "000000001", None, s.clone()),
            region(Level::Street, "000000002", None, s),
            region(
                Level::Community,
                "000000001001",
                None,
                Some(square(114.0, 36.0, 0.001))
            ),
        ])),
        Err(PlanError::OrphanRegion { .. })
    ));
}
