//! What a subscriber asked to watch (`Filter`), what a change is about (`Item`), and whether one admits
//! the other. Pure functions over plain values, so the rules are tested without sockets.
//!
//! The spatial parts of a filter (`bbox`, `grids`, `communities`, `near`, `mine`) are a union: a command
//! centre watches its viewport *or* its grids. `layers` narrows what kinds of things arrive. The caller's
//! scope is applied on top of both: a worker never receives another grid's items, except the cases
//! assigned to or handled by them.

use rustc_hash::FxHashSet;
use serde::Deserialize;

use crate::domain::{GridId, RegionId, WorkerId};
use crate::geodesy::haversine_m;
use crate::world::Visibility;

/// The kinds of things a map shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    Incidents,
    Workers,
    Patrols,
    Cameras,
    Grids,
    /// Area alerts (应急联动): always delivered to the workers they name, whatever they subscribed to.
    Alerts,
    /// The command centre's alarms (`crate::alarms`): only when named in `layers` (a client that names
    /// none gets the map's layers, as before alarms), only for roles that may read alarms, and from the
    /// whole scope whatever the spatial filter: an alarm off screen is still an alarm.
    Alarms,
    /// The early warnings (`crate::warnings`): as [`Layer::Alarms`], only when named, only for roles
    /// that may read warnings, from the whole scope.
    Warnings,
}

impl Layer {
    pub const ALL: [Self; 8] = [
        Self::Incidents,
        Self::Workers,
        Self::Patrols,
        Self::Cameras,
        Self::Grids,
        Self::Alerts,
        Self::Alarms,
        Self::Warnings,
    ];

    /// What a filter that names no layer gets: all but [`Layer::Alarms`] and [`Layer::Warnings`],
    /// which are asked for by name.
    fn by_default(self) -> bool {
        !self.is_command()
    }

    /// A layer of the command centre's ([`Layer::Alarms`], [`Layer::Warnings`]): from the whole scope,
    /// whatever the viewport.
    #[must_use]
    pub fn is_command(self) -> bool {
        matches!(self, Self::Alarms | Self::Warnings)
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Incidents => "incidents",
            Self::Workers => "workers",
            Self::Patrols => "patrols",
            Self::Cameras => "cameras",
            Self::Grids => "grids",
            Self::Alerts => "alerts",
            Self::Alarms => "alarms",
            Self::Warnings => "warnings",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A circle: `near {lat, lon, radius_m}`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Near {
    pub lat: f64,
    pub lon: f64,
    pub radius_m: f64,
}

/// The largest `near` radius, meters: a street office's area, not a province.
pub const MAX_NEAR_RADIUS_M: f64 = 50_000.0;

/// How far (m) beyond `mine`'s radius a phone's subscription is indexed: the worker view subscribes
/// again after moving 300 m (`RESUBSCRIBE_M` in `web-map/src/js/worker.js`).
pub const MINE_MARGIN_M: f64 = 500.0;

/// A checked subscription filter.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    /// `[minLon, minLat, maxLon, maxLat]`.
    pub bbox: Option<[f64; 4]>,
    /// The grids asked for, with every grid of the communities asked for.
    pub grids: FxHashSet<GridId>,
    pub near: Option<Near>,
    /// The worker whose own cases are asked for (`mine`).
    pub mine: Option<WorkerId>,
    /// With `mine`: open cases within this distance (m) of the worker's latest position come too.
    pub mine_radius_m: Option<f64>,
    /// With `mine`: where the worker was when they subscribed, `(lat, lon)`. The subscription is indexed
    /// around it ([`Filter::areas`]) so the cases near the worker reach it whatever their grid; the phone
    /// subscribes again once it has moved [`MINE_MARGIN_M`] less a good part.
    pub mine_at: Option<(f64, f64)>,
    /// Bit set of `Layer`s; every layer when none was named.
    layers: u8,
    /// Whether the subscriber wants `tiles_invalidated` messages.
    pub tiles: bool,
}

/// A subscription as the client sends it, before checks.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterRequest {
    pub bbox: Option<[f64; 4]>,
    #[serde(default)]
    pub grids: Vec<GridId>,
    #[serde(default)]
    pub communities: Vec<RegionId>,
    pub layers: Option<Vec<Layer>>,
    #[serde(default)]
    pub mine: bool,
    pub near: Option<Near>,
    /// Also send `tiles_invalidated` (coalesced) when vector tiles change.
    #[serde(default)]
    pub tiles: bool,
}

/// Most grids or communities one filter may name.
pub const MAX_FILTER_IDS: usize = 10_000;

impl Filter {
    /// Checks a request. `grids_of` expands a community to its grids (`None` if there is no such
    /// region); `grid_exists` checks a grid id; `me` is the caller's worker, needed for `mine`.
    pub fn check<'a, G>(
        request: FilterRequest,
        grid_exists: impl Fn(GridId) -> bool,
        grids_of: impl Fn(RegionId) -> Option<G>,
        me: Option<WorkerId>,
    ) -> Result<Self, String>
    where
        G: Iterator<Item = GridId> + 'a,
    {
        if request.grids.len() > MAX_FILTER_IDS || request.communities.len() > MAX_FILTER_IDS {
            return Err(format!(
                "at most {MAX_FILTER_IDS} grids and {MAX_FILTER_IDS} communities"
            ));
        }
        if let Some(bbox) = request.bbox {
            check_bbox(bbox)?;
        }
        if let Some(near) = request.near {
            check_point(near.lat, near.lon)?;
            if !(near.radius_m.is_finite()
                && near.radius_m > 0.0
                && near.radius_m <= MAX_NEAR_RADIUS_M)
            {
                return Err(format!(
                    "near.radius_m must be in (0, {MAX_NEAR_RADIUS_M}] meters"
                ));
            }
        }
        let mut grids = FxHashSet::default();
        for grid in request.grids {
            if !grid_exists(grid) {
                return Err(format!("unknown grid {grid}"));
            }
            grids.insert(grid);
        }
        for community in request.communities {
            grids.extend(
                grids_of(community).ok_or_else(|| format!("unknown community {community}"))?,
            );
        }
        let mine = if request.mine {
            Some(me.ok_or("mine needs a token that acts for a worker")?)
        } else {
            None
        };
        let layers = match request.layers {
            None => Layer::ALL
                .iter()
                .filter(|l| l.by_default())
                .fold(0, |bits, l| bits | l.bit()),
            Some(list) if list.is_empty() => {
                return Err("layers, when given, must name at least one layer".into());
            }
            Some(list) => list.iter().fold(0, |bits, l| bits | l.bit()),
        };
        Ok(Self {
            bbox: request.bbox,
            grids,
            near: request.near,
            mine,
            mine_radius_m: None,
            mine_at: None,
            layers,
            tiles: request.tiles,
        })
    }

    /// Whether the filter names any place at all; without one it covers the caller's whole scope.
    #[must_use]
    pub fn is_spatial(&self) -> bool {
        self.bbox.is_some() || !self.grids.is_empty() || self.near.is_some() || self.mine.is_some()
    }

    #[must_use]
    pub fn has_layer(&self, layer: Layer) -> bool {
        self.layers & layer.bit() != 0
    }

    /// Whether `item` belongs in this filter for a caller who sees `visibility` and acts for `me`.
    #[must_use]
    pub fn admits(&self, item: &Item, visibility: &Visibility, me: Option<WorkerId>) -> bool {
        self.admits_at(item, visibility, me, None)
    }

    /// As [`Filter::admits`], knowing where the caller's worker is (`(lat, lon)`), for `mine`'s radius.
    #[must_use]
    pub fn admits_at(
        &self,
        item: &Item,
        visibility: &Visibility,
        me: Option<WorkerId>,
        me_at: Option<(f64, f64)>,
    ) -> bool {
        let own = me.is_some() && item.workers.contains(&me);
        if item.layer == Layer::Alerts {
            return own;
        }
        if item.layer.is_command() {
            // The whole scope, whatever the viewport; an alarm with no grid only for the unrestricted.
            return self.has_layer(item.layer) && visibility.any(item.grids.iter().copied());
        }
        // A case within the routing radius of where the worker is may be routed to them (the nearest
        // worker on duty takes a grid's case when its own worker cannot), whatever grid it lies in: the
        // worker view's nearby tab. Its summary carries no description and no resident's details.
        let in_scope =
            own || self.near_me(item, me_at) || visibility.any(item.grids.iter().copied());
        in_scope && self.has_layer(item.layer) && (!self.is_spatial() || self.covers(item, me_at))
    }

    /// A case within `mine`'s radius of where the worker is, open or not: its closing is news too, so a
    /// phone drops a case from its nearby tab when it closes.
    fn near_me(&self, item: &Item, me_at: Option<(f64, f64)>) -> bool {
        item.layer == Layer::Incidents
            && self.mine.is_some()
            && matches!((self.mine_radius_m, me_at, item.point), (Some(r), Some((a, b)), Some((lat, lon))) if haversine_m(a, b, lat, lon) <= r)
    }

    fn covers(&self, item: &Item, me_at: Option<(f64, f64)>) -> bool {
        let at = item.point;
        self.near_me(item, me_at)
            || self.bbox.zip(at).is_some_and(|(b, (lat, lon))| {
                b[0] <= lon && lon <= b[2] && b[1] <= lat && lat <= b[3]
            })
            || item.grids.iter().any(|g| self.grids.contains(g))
            || self
                .near
                .zip(at)
                .is_some_and(|(n, (lat, lon))| haversine_m(n.lat, n.lon, lat, lon) <= n.radius_m)
            || self.mine.is_some_and(|w| item.workers.contains(&Some(w)))
    }

    /// The box a bbox or circle needs from the coarse-cell index: `None` when the filter has neither.
    #[must_use]
    pub fn areas(&self) -> Vec<[f64; 4]> {
        let mut out: Vec<[f64; 4]> = self.bbox.into_iter().collect();
        let mine = self
            .mine_radius_m
            .zip(self.mine_at)
            .map(|(r, (lat, lon))| Near {
                lat,
                lon,
                radius_m: r + MINE_MARGIN_M,
            });
        for n in self.near.into_iter().chain(mine) {
            // Meters to degrees, generously: one degree of latitude is at least 110,574 m.
            let dlat = n.radius_m / 110_000.0;
            let dlon = dlat / n.lat.to_radians().cos().max(0.01);
            out.push([
                (n.lon - dlon).max(-180.0),
                (n.lat - dlat).max(-90.0),
                (n.lon + dlon).min(180.0),
                (n.lat + dlat).min(90.0),
            ]);
        }
        out
    }
}

fn check_point(lat: f64, lon: f64) -> Result<(), String> {
    if lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
    {
        Ok(())
    } else {
        Err(format!(
            "({lat}, {lon}) is not a latitude in -90..90 and a longitude in -180..180"
        ))
    }
}

fn check_bbox(b: [f64; 4]) -> Result<(), String> {
    check_point(b[1], b[0])?;
    check_point(b[3], b[2])?;
    if b[0] > b[2] || b[1] > b[3] {
        return Err("bbox is [minLon, minLat, maxLon, maxLat] with min ≤ max".into());
    }
    Ok(())
}

/// What one change is about, as far as routing it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub layer: Layer,
    /// `(lat, lon)`, when the thing has a place.
    pub point: Option<(f64, f64)>,
    /// The grids it belongs to (a case's grid; a worker's grids).
    pub grids: Vec<GridId>,
    /// The workers it is personally about (a case's assignee and handler, and the worker a reassignment
    /// took it from; the worker itself).
    pub workers: [Option<WorkerId>; 3],
    /// Still open (a case being worked); always true for things that are not cases.
    pub open: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: serde_json::Value) -> FilterRequest {
        serde_json::from_value(json).expect("a well-formed request")
    }

    fn check(json: serde_json::Value) -> Result<Filter, String> {
        let grids_of =
            |r: RegionId| (r == RegionId(100)).then(|| [GridId(1), GridId(2)].into_iter());
        Filter::check(request(json), |g| g.0 < 10, grids_of, Some(WorkerId(7)))
    }

    fn case_at(lat: f64, lon: f64, grid: i64, assignee: Option<i64>) -> Item {
        Item {
            layer: Layer::Incidents,
            point: Some((lat, lon)),
            grids: vec![GridId(grid)],
            workers: [assignee.map(WorkerId), None, None],
            open: true,
        }
    }

    #[test]
    fn spatial_parts_are_a_union_and_layers_narrow() {
        let all = Visibility::All;
        let f =
            check(serde_json::json!({"bbox": [113.0, 36.0, 113.1, 36.1], "grids": [5]})).unwrap();
        assert!(
            f.admits(&case_at(36.05, 113.05, 9, None), &all, None),
            "inside the bbox"
        );
        assert!(
            f.admits(&case_at(40.0, 120.0, 5, None), &all, None),
            "in a named grid"
        );
        assert!(
            !f.admits(&case_at(40.0, 120.0, 9, None), &all, None),
            "neither"
        );
        assert!(
            f.admits(&case_at(36.0, 113.1, 9, None), &all, None),
            "the bbox edge is inside"
        );
        let f = check(serde_json::json!({"communities": [100], "layers": ["workers"]})).unwrap();
        assert_eq!(f.grids, [GridId(1), GridId(2)].into_iter().collect());
        assert!(
            !f.admits(&case_at(0.0, 0.0, 1, None), &all, None),
            "incidents were not asked for"
        );
        let worker = Item {
            layer: Layer::Workers,
            point: None,
            grids: vec![GridId(2)],
            workers: [Some(WorkerId(3)), None, None],
            open: true,
        };
        assert!(f.admits(&worker, &all, None));
        // No place named: the whole scope.
        let f = check(serde_json::json!({})).unwrap();
        assert!(f.admits(&case_at(-33.0, 151.0, 9, None), &all, None));
    }

    #[test]
    fn alarms_come_only_when_named_and_from_the_whole_scope() {
        let alarm = |grid: Option<i64>| Item {
            layer: Layer::Alarms,
            point: Some((40.0, 120.0)),
            grids: grid.map(GridId).into_iter().collect(),
            workers: [None, None, None],
            open: true,
        };
        let all = Visibility::All;
        let mine = Visibility::Grids([GridId(1)].into_iter().collect());
        let f = check(serde_json::json!({})).unwrap();
        assert!(
            !f.admits(&alarm(Some(1)), &all, None),
            "not named: not sent"
        );
        let f = check(serde_json::json!({"bbox": [113.0, 36.0, 113.1, 36.1], "layers": ["incidents", "alarms"]}))
            .unwrap();
        assert!(
            f.admits(&alarm(Some(1)), &mine, None),
            "outside the bbox, in scope"
        );
        assert!(!f.admits(&alarm(Some(2)), &mine, None), "out of scope");
        assert!(
            !f.admits(&alarm(None), &mine, None),
            "no grid: the unrestricted only"
        );
        assert!(f.admits(&alarm(None), &all, None));
    }

    #[test]
    fn near_is_a_circle_in_meters() {
        let all = Visibility::All;
        // 0.001° of latitude is 111.2 m (mean Earth radius 6,371,008.8 m): in at 112 m, out at 110 m.
        let f = check(serde_json::json!({"near": {"lat": 36.0, "lon": 113.0, "radius_m": 112.0}}))
            .unwrap();
        assert!(f.admits(&case_at(36.001, 113.0, 9, None), &all, None));
        let f = check(serde_json::json!({"near": {"lat": 36.0, "lon": 113.0, "radius_m": 110.0}}))
            .unwrap();
        assert!(!f.admits(&case_at(36.001, 113.0, 9, None), &all, None));
        let area = f.areas()[0];
        // The box holds the circle: 110 m is 0.000989° of latitude and 0.001224° of longitude at 36°N.
        assert!(
            area[1] <= 36.0 - 0.000_989 && area[3] >= 36.0 + 0.000_989,
            "{area:?}"
        );
        assert!(
            area[0] <= 113.0 - 0.001_224 && area[2] >= 113.0 + 0.001_224,
            "{area:?}"
        );
    }

    #[test]
    fn scope_applies_on_top_and_own_cases_always_reach_their_worker() {
        let mine = Visibility::Grids([GridId(1)].into_iter().collect());
        let f = check(serde_json::json!({"bbox": [-180.0, -90.0, 180.0, 90.0]})).unwrap();
        assert!(f.admits(&case_at(36.0, 113.0, 1, None), &mine, Some(WorkerId(7))));
        assert!(
            !f.admits(&case_at(36.0, 113.0, 2, None), &mine, Some(WorkerId(7))),
            "another grid's case"
        );
        assert!(
            f.admits(&case_at(36.0, 113.0, 2, Some(7)), &mine, Some(WorkerId(7))),
            "assigned to me"
        );
        let f = check(serde_json::json!({"mine": true})).unwrap();
        assert!(
            !f.admits(&case_at(36.0, 113.0, 1, None), &mine, Some(WorkerId(7))),
            "in scope but not mine"
        );
        assert!(f.admits(&case_at(36.0, 113.0, 2, Some(7)), &mine, Some(WorkerId(7))));
    }

    #[test]
    fn mine_adds_open_cases_within_the_radius_of_where_the_worker_is() {
        let mine = Visibility::Grids([GridId(1)].into_iter().collect());
        let mut f = check(serde_json::json!({"mine": true})).unwrap();
        f.mine_radius_m = Some(1000.0);
        let me = Some(WorkerId(7));
        // 0.009° of latitude is 1,000.8 m: just out; 0.0089° is 989.6 m: in.
        let here = Some((36.0, 113.0));
        assert!(f.admits_at(&case_at(36.0089, 113.0, 1, None), &mine, me, here));
        assert!(!f.admits_at(&case_at(36.009, 113.0, 1, None), &mine, me, here));
        assert!(
            !f.admits_at(&case_at(36.0089, 113.0, 1, None), &mine, me, None),
            "no position, no radius"
        );
        assert!(
            f.admits_at(&case_at(36.0089, 113.0, 2, None), &mine, me, here),
            "another grid's case within the radius: routing may give it to me"
        );
        assert!(
            !f.admits_at(&case_at(36.009, 113.0, 2, None), &mine, me, here),
            "another grid's case beyond the radius"
        );
        assert!(
            !f.admits(&case_at(36.0089, 113.0, 2, None), &mine, me),
            "no position, only my grids"
        );
        let closed = Item {
            open: false,
            ..case_at(36.0089, 113.0, 2, None)
        };
        assert!(
            f.admits_at(&closed, &mine, me, here),
            "a closing near me reaches the phone, which drops the case"
        );
    }

    #[test]
    fn mine_is_indexed_around_where_the_worker_subscribed() {
        let mut f = check(serde_json::json!({"mine": true})).unwrap();
        f.mine_radius_m = Some(1000.0);
        assert!(
            f.areas().is_empty(),
            "no position yet: the worker's grids only"
        );
        f.mine_at = Some((36.0, 113.0));
        let areas = f.areas();
        assert_eq!(areas.len(), 1);
        // The radius and the margin, 1,500 m, each way: at least 0.0135° of latitude.
        let [west, south, east, north] = areas[0];
        assert!(south < 36.0 - 0.0135 && north > 36.0 + 0.0135, "{areas:?}");
        assert!(west < 113.0 - 0.0135 && east > 113.0 + 0.0135, "{areas:?}");
        assert!(north < 36.02, "not much more: {areas:?}");
    }

    #[test]
    fn bad_filters_are_refused_with_a_reason() {
        for bad in [
            serde_json::json!({"bbox": [113.1, 36.0, 113.0, 36.1]}),
            serde_json::json!({"bbox": [113.0, 36.0, 113.1, 91.0]}),
            serde_json::json!({"bbox": [-181.0, 36.0, 113.1, 36.1]}),
            serde_json::json!({"near": {"lat": 36.0, "lon": 113.0, "radius_m": 0.0}}),
            serde_json::json!({"near": {"lat": 36.0, "lon": 113.0, "radius_m": 1e9}}),
            serde_json::json!({"near": {"lat": 95.0, "lon": 113.0, "radius_m": 10.0}}),
            serde_json::json!({"grids": [10]}),
            serde_json::json!({"communities": [101]}),
            serde_json::json!({"layers": []}),
        ] {
            assert!(check(bad.clone()).is_err(), "{bad}");
        }
        let no_worker = Filter::check(
            request(serde_json::json!({"mine": true})),
            |_| true,
            |_| None::<std::iter::Empty<GridId>>,
            None,
        );
        assert!(no_worker.is_err());
        for malformed in [
            serde_json::json!({"bbox": [1.0, 2.0, 3.0]}),
            serde_json::json!({"layers": ["weather"]}),
            serde_json::json!({"grids": ["a"]}),
            serde_json::json!({"zoom": 3}),
        ] {
            assert!(
                serde_json::from_value::<FilterRequest>(malformed.clone()).is_err(),
                "{malformed}"
            );
        }
    }
}
