//! Repeat reports (重复投诉): one building, or one spot, reported again and again.
//!
//! A report with a building is matched by building; one without (a pothole, an overflowing bin) by
//! place: a spot is every such report within `repeat_radius_m` of one of them. Overlapping spots are
//! one finding, the fullest first. Groups never mix: a noise complaint and a broken lamp at one
//! address are not a repeat.

use std::collections::BTreeMap;

use super::model::{Config, Report};

/// Mean Earth radius, meters (IUGG).
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Distance between two points in degrees (EPSG:4326), in meters: the equirectangular
/// approximation, within 0.1% of the great circle at the tens of meters it is used for.
#[must_use]
pub fn distance_m(lat_a: f64, lon_a: f64, lat_b: f64, lon_b: f64) -> f64 {
    let phi = f64::midpoint(lat_a, lat_b).to_radians();
    let dx = (lon_b - lon_a).to_radians() * phi.cos();
    let dy = (lat_b - lat_a).to_radians();
    EARTH_RADIUS_M * dx.hypot(dy)
}

/// Where a repeat is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Anchor {
    Building(i64),
    /// The report whose neighbourhood it is, degrees (EPSG:4326).
    Spot {
        lat: f64,
        lon: f64,
    },
}

/// A repeat: its group, where, and its reports (indices into the input, in input order).
#[derive(Debug, Clone, PartialEq)]
pub struct Repeat {
    pub group: String,
    pub anchor: Anchor,
    pub reports: Vec<usize>,
}

/// The repeats among `reports` (all inside the repeat window), in a stable order: by group, then
/// buildings by id, then spots fullest first.
#[must_use]
pub fn find(config: &Config, reports: &[&Report]) -> Vec<Repeat> {
    let mut by_group: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in reports.iter().enumerate() {
        by_group.entry(config.group_of(r)).or_default().push(i);
    }
    let mut out = Vec::new();
    for (group, members) in by_group {
        let mut buildings: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        let mut loose: Vec<usize> = Vec::new();
        for &i in &members {
            match reports[i].building {
                Some(b) => buildings.entry(b).or_default().push(i),
                None => loose.push(i),
            }
        }
        for (building, list) in buildings {
            if list.len() >= config.repeat_count {
                out.push(Repeat {
                    group: group.to_owned(),
                    anchor: Anchor::Building(building),
                    reports: list,
                });
            }
        }
        out.extend(
            spots(config, reports, &loose)
                .into_iter()
                .map(|(anchor, list)| Repeat {
                    group: group.to_owned(),
                    anchor,
                    reports: list,
                }),
        );
    }
    out
}

/// Spots of at least `repeat_count` among the `loose` reports, disjoint, fullest first.
fn spots(config: &Config, reports: &[&Report], loose: &[usize]) -> Vec<(Anchor, Vec<usize>)> {
    let mut candidates: Vec<(usize, Vec<usize>)> = loose
        .iter()
        .map(|&i| {
            let near: Vec<usize> = loose
                .iter()
                .copied()
                .filter(|&j| {
                    distance_m(
                        reports[i].lat,
                        reports[i].lon,
                        reports[j].lat,
                        reports[j].lon,
                    ) <= config.repeat_radius_m
                })
                .collect();
            (i, near)
        })
        .filter(|(_, near)| near.len() >= config.repeat_count)
        .collect();
    candidates.sort_by(|(a, na), (b, nb)| {
        nb.len()
            .cmp(&na.len())
            .then_with(|| reports[*a].id.cmp(&reports[*b].id))
    });
    let mut taken = vec![false; reports.len()];
    let mut out = Vec::new();
    for (anchor, near) in candidates {
        if near.iter().any(|&j| taken[j]) {
            continue;
        }
        for &j in &near {
            taken[j] = true;
        }
        let r = reports[anchor];
        out.push((
            Anchor::Spot {
                lat: r.lat,
                lon: r.lon,
            },
            near,
        ));
    }
    out
}

/// How many of `reports` still hold the repeat at `anchor` in `group`.
#[must_use]
pub fn count_at(config: &Config, reports: &[&Report], group: &str, anchor: Anchor) -> usize {
    reports
        .iter()
        .filter(|r| config.group_of(r) == group)
        .filter(|r| match anchor {
            Anchor::Building(b) => r.building == Some(b),
            Anchor::Spot { lat, lon } => {
                r.building.is_none() && distance_m(lat, lon, r.lat, r.lon) <= config.repeat_radius_m
            }
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone as _, Utc};
    use h3o::{LatLng, Resolution};

    /// A report `north_m` meters north of Dongjie's centre.
    fn report(id: i64, group: &str, building: Option<i64>, north_m: f64) -> Report {
        let lat = 36.19 + north_m / 111_000.0;
        Report {
            id,
            at: Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap(),
            lat,
            lon: 113.11,
            cell: LatLng::new(lat, 113.11)
                .unwrap()
                .to_cell(Resolution::Twelve),
            grid: 1,
            group: group.into(),
            building,
        }
    }

    #[test]
    fn distance_matches_the_great_circle() {
        // One thousandth of a degree of latitude is 111.2 m on a sphere of the mean radius.
        let d = distance_m(36.19, 113.11, 36.191, 113.11);
        assert!((d - 111.195).abs() < 0.01, "{d}");
        let d = distance_m(36.19, 113.11, 36.19, 113.111);
        assert!(
            (d - 111.195 * 36.19_f64.to_radians().cos()).abs() < 0.01,
            "{d}"
        );
    }

    #[test]
    fn three_reports_of_one_building_are_a_repeat_two_are_not() {
        let config = Config::default();
        let rs = [
            report(1, "g", Some(7), 0.0),
            report(2, "g", Some(7), 500.0),
            report(3, "g", Some(8), 0.0),
            report(4, "g", Some(7), 900.0),
            report(5, "h", Some(7), 0.0),
        ];
        let refs: Vec<&Report> = rs.iter().collect();
        let found = find(&config, &refs);
        assert_eq!(
            found,
            vec![Repeat {
                group: "g".into(),
                anchor: Anchor::Building(7),
                reports: vec![0, 1, 3],
            }]
        );
        assert_eq!(count_at(&config, &refs, "g", Anchor::Building(7)), 3);
        assert!(find(&config, &refs[..3]).is_empty());
    }

    #[test]
    fn reports_within_50_m_are_a_spot_and_farther_ones_are_not() {
        let config = Config::default();
        let rs = [
            report(1, "g", None, 0.0),
            report(2, "g", None, 30.0),
            report(3, "g", None, 45.0),
            report(4, "g", None, 120.0),
            report(5, "g", None, 200.0),
        ];
        let refs: Vec<&Report> = rs.iter().collect();
        let found = find(&config, &refs);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].reports, vec![0, 1, 2]);
        // A report with a building does not join a spot.
        let rs = [
            report(1, "g", None, 0.0),
            report(2, "g", Some(3), 10.0),
            report(3, "g", None, 20.0),
        ];
        let refs: Vec<&Report> = rs.iter().collect();
        assert!(find(&config, &refs).is_empty());
    }

    #[test]
    fn a_chain_of_reports_is_split_into_disjoint_spots() {
        let config = Config::default();
        // Seven reports 20 m apart: the fullest neighbourhood (reports 0–4 around report 2) is
        // taken; no other spot may share a report, and the two left over are not a repeat.
        let rs: Vec<Report> = (0..7_i32)
            .map(|i| report(i.into(), "g", None, 20.0 * f64::from(i)))
            .collect();
        let refs: Vec<&Report> = rs.iter().collect();
        let found = find(&config, &refs);
        let mut seen: Vec<usize> = found.iter().flat_map(|r| r.reports.clone()).collect();
        let total = seen.len();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), total);
        assert!(found.iter().all(|r| r.reports.len() >= 3));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].reports, vec![0, 1, 2, 3, 4]);
    }
}
