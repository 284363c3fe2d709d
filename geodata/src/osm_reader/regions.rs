//! Codes and parents for administrative boundaries read from OSM.
//!
//! OSM carries no codes in the 6 + 3 + 3 digit pattern, so they are made here, in a stable
//! order (level, then relation id): districts `000001`, `000002`, …; a street gets its
//! containing district's code + a 3-digit sequence (`000000` + sequence when no district
//! contains it); a community gets its containing street's code + a sequence, or its
//! containing district's code + `000` + a sequence when no street contains it, or
//! `000000000` + a sequence. "Contains" is tested on the child's interior point, in degrees
//! (EPSG:4326, lon/lat order). Regions past 999 siblings are dropped.

use crate::model::{Level, RegionRecord};
use geo::{Contains as _, InteriorPoint as _, MultiPolygon};
use std::collections::HashMap;

/// Turns `(relation id, level, name, boundary)` into coded regions with parents.
pub(super) fn assign_codes(
    mut admin: Vec<(i64, Level, String, MultiPolygon<f64>)>,
) -> Vec<RegionRecord> {
    let rank = |level: Level| match level {
        Level::District => 0,
        Level::Street => 1,
        Level::Community => 2,
    };
    admin.sort_by_key(|(id, level, ..)| (rank(*level), *id));
    let mut out: Vec<RegionRecord> = Vec::with_capacity(admin.len());
    let mut next_seq: HashMap<String, u32> = HashMap::new();
    for (id, level, name, boundary) in admin {
        let point = boundary.interior_point();
        let containing = |wanted: Level| {
            out.iter()
                .find(|r| {
                    r.level == wanted
                        && point
                            .is_some_and(|p| r.boundary.as_ref().is_some_and(|b| b.contains(&p)))
                })
                .map(|r| r.code.clone())
        };
        let (parent_code, prefix) = match level {
            Level::District => (None, String::new()),
            Level::Street => {
                let parent = containing(Level::District);
                let prefix = parent.clone().unwrap_or_else(|| "000000".to_owned());
                (parent, prefix)
            }
            Level::Community => match containing(Level::Street) {
                Some(street) => (Some(street.clone()), street),
                None => (
                    None,
                    containing(Level::District).unwrap_or_else(|| "000000".to_owned()) + "000",
                ),
            },
        };
        let seq = next_seq.entry(prefix.clone()).or_insert(0);
        *seq += 1;
        let width = if level == Level::District { 6 } else { 3 };
        if (level == Level::District && *seq > 999_999) || (level != Level::District && *seq > 999)
        {
            continue;
        }
        let code = format!("{prefix}{seq:0width$}");
        let name = if name.is_empty() {
            format!("relation {id}")
        } else {
            name
        };
        out.push(RegionRecord {
            level,
            code,
            name,
            parent_code,
            boundary: Some(boundary),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, Polygon};

    fn square(x: f64, y: f64, size: f64) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![Polygon::new(
            LineString::from(vec![
                (x, y),
                (x + size, y),
                (x + size, y + size),
                (x, y + size),
                (x, y),
            ]),
            vec![],
        )])
    }

    #[test]
    fn codes_follow_containment() {
        let regions = assign_codes(vec![
            (30, Level::Community, "c".into(), square(0.1, 0.1, 0.1)),
            (20, Level::Street, "s".into(), square(0.0, 0.0, 0.5)),
            (10, Level::District, "d".into(), square(0.0, 0.0, 1.0)),
            (40, Level::Community, String::new(), square(0.6, 0.6, 0.1)),
            (50, Level::Street, "far".into(), square(5.0, 5.0, 0.1)),
        ]);
        let codes: Vec<(&str, Option<&str>)> = regions
            .iter()
            .map(|r| (r.code.as_str(), r.parent_code.as_deref()))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("000001", None),
                ("000001001", Some("000001")),
                ("000000001", None),
                ("000001001001", Some("000001001")),
                ("000001000001", None),
            ]
        );
        assert_eq!(regions[4].name, "relation 40");
        for r in &regions {
            assert!(
                crate::model::is_valid_region_code(r.level, &r.code),
                "{}",
                r.code
            );
        }
    }
}
