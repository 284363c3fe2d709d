//! Tests of the synthetic Dongjie: determinism, size, tiling, households, placement.

use super::*;
use geo::{
    Area as _, BooleanOps as _, Contains as _, GeodesicArea as _, Intersects as _, Validation as _,
};

fn community_polygons(dataset: &Dataset) -> Vec<&MultiPolygon<f64>> {
    dataset
        .regions
        .iter()
        .filter(|r| r.level == Level::Community)
        .filter_map(|r| r.boundary.as_ref())
        .collect()
}

fn street(dataset: &Dataset) -> &MultiPolygon<f64> {
    dataset
        .regions
        .iter()
        .find(|r| r.level == Level::Street)
        .and_then(|r| r.boundary.as_ref())
        .expect("a street with a boundary")
}

#[test]
fn same_seed_same_city() {
    assert_eq!(
        synthetic_city(Preset::Dongjie, 7),
        synthetic_city(Preset::Dongjie, 7)
    );
    assert_ne!(
        synthetic_city(Preset::Dongjie, 7),
        synthetic_city(Preset::Dongjie, 8)
    );
}

#[test]
fn dongjie_is_about_5_6_km2() {
    let dataset = synthetic_city(Preset::Dongjie, 1);
    let area_km2 = street(&dataset).geodesic_area_unsigned() / 1e6;
    assert!((area_km2 - 5.6).abs() <= 0.56, "{area_km2} km²");
    // Centred on Changzhi.
    let rect = geo::BoundingRect::bounding_rect(street(&dataset)).expect("non-empty");
    assert!((rect.center().x - 113.11).abs() < 0.005 && (rect.center().y - 36.19).abs() < 0.005);
}

#[test]
fn seven_valid_communities_tile_the_street() {
    for seed in [1, 2, 3] {
        let dataset = synthetic_city(Preset::Dongjie, seed);
        let communities = community_polygons(&dataset);
        assert_eq!(communities.len(), 7);
        let street = street(&dataset);
        assert!(street.is_valid());
        let street_m2 = street.geodesic_area_unsigned();
        let mut sum_m2 = 0.0;
        for (i, a) in communities.iter().enumerate() {
            assert!(a.is_valid(), "community {i}: {:?}", a.validation_errors());
            assert_eq!(a.0.len(), 1, "one simple polygon");
            sum_m2 += a.geodesic_area_unsigned();
            // Inside the street: nothing of it left outside.
            assert!(
                a.difference(street).unsigned_area() < 1e-12,
                "community {i} leaks out"
            );
            for b in &communities[i + 1..] {
                // Planar area in degrees²; 1e-12 deg² is about 0.01 m².
                assert!(
                    a.intersection(*b).unsigned_area() < 1e-12,
                    "communities overlap"
                );
            }
        }
        assert!(
            (sum_m2 - street_m2).abs() / street_m2 < 0.005,
            "{sum_m2} vs {street_m2}"
        );
        let names: Vec<&str> = dataset.regions.iter().map(|r| r.name.as_str()).collect();
        assert!(
            names
                .iter()
                .any(|n| n.contains("Fuhou") && n.contains("府后"))
        );
    }
}

#[test]
fn households_buildings_and_towers() {
    let dataset = synthetic_city(Preset::Dongjie, 1);
    assert_eq!(dataset.total_households(), u64::from(DONGJIE_HOUSEHOLDS));
    let towers: Vec<u32> = dataset
        .buildings
        .iter()
        .map(|b| b.households)
        .filter(|&h| h > 40)
        .collect();
    assert_eq!(towers.len(), 2, "exactly two towers: {towers:?}");
    assert!(towers.iter().all(|h| (160..=220).contains(h)));
    assert!(
        dataset
            .buildings
            .iter()
            .filter(|b| b.households == 0)
            .count()
            >= 3,
        "some non-residential"
    );
    assert!(
        dataset
            .buildings
            .iter()
            .any(|b| b.kind == "house" && b.households < 6),
        "some small houses"
    );
    let blocks = dataset
        .buildings
        .iter()
        .filter(|b| (6..=40).contains(&b.households))
        .count();
    assert!(blocks > 300, "{blocks} residential blocks");

    let communities = community_polygons(&dataset);
    let water: Vec<&MultiPolygon<f64>> = dataset.areas.iter().map(|a| &a.geometry).collect();
    assert!(dataset.areas.iter().any(|a| a.kind == "water"));
    for building in &dataset.buildings {
        assert!(building.footprint.is_valid());
        // Well inside exactly one community.
        let inside = communities
            .iter()
            .filter(|c| c.contains(&building.footprint))
            .count();
        assert_eq!(inside, 1);
        for road in &dataset.roads {
            assert!(
                !road.geometry.intersects(&building.footprint),
                "building on {:?}",
                road.name
            );
        }
        for area in &water {
            assert!(
                !area.intersects(&building.footprint),
                "building in the park or pond"
            );
        }
    }
    assert!(dataset.roads.len() >= 20 && dataset.roads.iter().all(|r| r.name.is_some()));
}

#[test]
fn a_metropolis_tiles_dongjie_streets() {
    let city = synthetic_metropolis(1, 3);
    let level_count = |level| city.regions.iter().filter(|r| r.level == level).count();
    assert_eq!(
        (
            level_count(Level::District),
            level_count(Level::Street),
            level_count(Level::Community)
        ),
        (1, 3, 21)
    );
    for region in &city.regions {
        assert!(
            crate::model::is_valid_region_code(region.level, &region.code),
            "{}",
            region.code
        );
    }
    assert_eq!(city.total_households(), 3 * u64::from(DONGJIE_HOUSEHOLDS));
    // The first street is Dongjie (seed 1) itself, in the same place.
    let dongjie = synthetic_city(Preset::Dongjie, 1);
    assert_eq!(
        city.buildings[..dongjie.buildings.len()],
        dongjie.buildings[..]
    );
    // Deterministic.
    assert_eq!(synthetic_metropolis(1, 3).buildings, city.buildings);
}
