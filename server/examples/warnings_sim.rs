//! Detection quality of the early-warning detector (`gridwatch::warnings`), by simulation.
//!
//! 90 days of background cases on the Dongjie demo city (`gridwatch_geodata::synthetic_city`, the
//! preset the `demo` command imports, planned into grids at resolution 12 as the demo does), drawn
//! from a seasonal Poisson process: day-of-week × hour-of-day profile (local time, UTC+8), each case
//! at a building chosen in proportion to its households (non-residential buildings count as 5).
//! 60% are `city_management` cases on the street near a building (within 40 m, no building id), 40%
//! `social_governance` cases at a building. The detector learns on days 0–28 and then runs
//! prospectively over days 28–90, evaluated every 5 minutes and relearned every midnight from the
//! previous 56 days, as the server would drive it.
//!
//! Three runs per setting and repetition, each with its own seed:
//! - background only: every rate or cluster warning is a false alarm;
//! - one single-cell outbreak a day (5 extra cases in 2 h in one random cell, one group);
//! - one three-cell outbreak a day (6–9 extra cases in 2 h over three mutually neighbouring cells).
//!
//! An outbreak is detected when a rate or cluster warning holding one of its cases is raised within
//! 2 h of its start; the delay is from its start to that warning. Repeat warnings are counted on
//! their own (they are rules, not tests: three cases at one building are a repeat by definition).
//!
//! ```sh
//! cargo run --release -p gridwatch --example warnings_sim -- --seed 1 --reps 3
//! ```
//! Options: `--seed N` (1), `--reps N` (2), `--cases-per-day X` (60), `--quick` (the default setting
//! only), `--only TEXT` (the settings whose name contains TEXT).

// A measurement tool: counts are small enough for f64, and a broken city ends the run.
#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use geo::Centroid as _;
use gridwatch::warnings::{Baseline, Config, Detector, Kind, Method, Report, Transition, Warning};
use gridwatch_geodata::{PartitionRules, Preset, plan_city, synthetic_city};
use h3o::{CellIndex, LatLng, Resolution};
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use rustc_hash::{FxHashMap, FxHashSet};

const DAYS: i64 = 90;
const LEARN_DAYS: i64 = 28;
const EVERY_MIN: i64 = 5;
const GROUPS: [&str; 2] = ["city_management", "social_governance"];
/// Relative rate per hour of day (local), before normalising: quiet nights, busy mornings and
/// afternoons.
const HOURS: [f64; 24] = [
    0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.5, 1.0, 1.6, 2.0, 2.0, 1.7, 1.2, 1.3, 1.7, 1.9, 1.8, 1.5,
    1.2, 1.0, 0.8, 0.6, 0.4, 0.25,
];
/// Relative rate per weekday, Monday first.
const WEEKDAYS: [f64; 7] = [1.15, 1.05, 1.0, 1.0, 1.05, 0.85, 0.75];

/// The city as the simulation needs it.
struct City {
    /// (lat, lon, building id, grid id, res-12 cell, weight).
    buildings: Vec<(f64, f64, i64, i64, CellIndex, f64)>,
    /// Cumulative weights, for drawing a building.
    cumulative: Vec<f64>,
    /// Buildings of each res-9 cell.
    by_cell: FxHashMap<CellIndex, Vec<usize>>,
    /// Res-9 cells with a building, sorted.
    cells: Vec<CellIndex>,
}

fn city() -> City {
    let dataset = synthetic_city(Preset::Dongjie, 1);
    let plan = plan_city(&dataset, Resolution::Twelve, &PartitionRules::default()).unwrap();
    let mut grid_of: FxHashMap<CellIndex, i64> = FxHashMap::default();
    for (i, grid) in plan.grids.iter().enumerate() {
        for &cell in &grid.cells {
            grid_of.insert(cell, i as i64 + 1);
        }
    }
    let mut buildings = Vec::new();
    for (i, (record, cell)) in plan.buildings.iter().enumerate() {
        let c = record.footprint.centroid().unwrap();
        let weight = if record.households > 0 {
            f64::from(record.households)
        } else {
            5.0
        };
        let grid = grid_of.get(cell).copied().unwrap_or(0);
        buildings.push((c.y(), c.x(), i as i64 + 1, grid, *cell, weight));
    }
    let mut total = 0.0;
    let cumulative = buildings
        .iter()
        .map(|b| {
            total += b.5;
            total
        })
        .collect();
    let mut by_cell: FxHashMap<CellIndex, Vec<usize>> = FxHashMap::default();
    for (i, b) in buildings.iter().enumerate() {
        by_cell
            .entry(b.4.parent(Resolution::Nine).unwrap())
            .or_default()
            .push(i);
    }
    let mut cells: Vec<CellIndex> = by_cell.keys().copied().collect();
    cells.sort_unstable();
    City {
        buildings,
        cumulative,
        by_cell,
        cells,
    }
}

/// Knuth's Poisson sampler: fine for the means of a few cases an hour used here.
fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> u32 {
    let limit = (-mean).exp();
    let (mut k, mut p) = (0, 1.0);
    loop {
        p *= rng.random::<f64>();
        if p <= limit {
            return k;
        }
        k += 1;
    }
}

/// A case at building `b` in `group`: street cases are moved up to 40 m off the building and carry
/// no building id.
fn case(
    rng: &mut ChaCha8Rng,
    city: &City,
    id: i64,
    at: DateTime<Utc>,
    b: usize,
    group: &str,
) -> Report {
    let (lat, lon, building, grid, _, _) = city.buildings[b];
    let street = group == "city_management";
    let spread_m = if street { 40.0 } else { 5.0 };
    let r = spread_m * rng.random::<f64>().sqrt();
    let a = std::f64::consts::TAU * rng.random::<f64>();
    let lat = lat + r * a.sin() / 111_000.0;
    let lon = lon + r * a.cos() / (111_000.0 * lat.to_radians().cos());
    Report {
        id,
        at,
        lat,
        lon,
        cell: LatLng::new(lat, lon).unwrap().to_cell(Resolution::Twelve),
        grid,
        group: group.to_owned(),
        building: (!street).then_some(building),
    }
}

fn random_group(rng: &mut ChaCha8Rng) -> &'static str {
    if rng.random::<f64>() < 0.6 {
        GROUPS[0]
    } else {
        GROUPS[1]
    }
}

/// The background: a seasonal Poisson process over the whole 90 days, sorted by time.
fn background(city: &City, cases_per_day: f64, start: DateTime<Utc>, seed: u64) -> Vec<Report> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let hour_mean = HOURS.iter().sum::<f64>() / 24.0;
    let day_mean = WEEKDAYS.iter().sum::<f64>() / 7.0;
    let total = *city.cumulative.last().unwrap();
    let mut out = Vec::new();
    for h in 0..DAYS * 24 {
        let t = start + Duration::hours(h);
        // Local time is UTC+8; `start` is local midnight on a Monday.
        let (weekday, hour) = ((h / 24) % 7, h % 24);
        let mean = cases_per_day / 24.0 * HOURS[hour as usize] / hour_mean
            * WEEKDAYS[weekday as usize]
            / day_mean;
        for _ in 0..poisson(&mut rng, mean) {
            let at = t + Duration::seconds(rng.random_range(0..3600));
            let x = rng.random::<f64>() * total;
            let b = city.cumulative.partition_point(|&c| c < x);
            let group = random_group(&mut rng);
            let id = out.len() as i64 + 1;
            out.push(case(&mut rng, city, id, at, b, group));
        }
    }
    out.sort_by_key(|r| (r.at, r.id));
    out
}

/// An injected outbreak: its start and its cases' ids.
struct Outbreak {
    start: DateTime<Utc>,
    ids: FxHashSet<i64>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Inject {
    None,
    Single,
    Triple,
}

/// One outbreak a day over the prospective days, starting at a random time before 20:00 local.
fn outbreaks(
    city: &City,
    inject: Inject,
    start: DateTime<Utc>,
    first_id: i64,
    seed: u64,
) -> (Vec<Report>, Vec<Outbreak>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut reports = Vec::new();
    let mut list = Vec::new();
    if inject == Inject::None {
        return (reports, list);
    }
    let mut id = first_id;
    for day in LEARN_DAYS..DAYS {
        let begin = start + Duration::days(day) + Duration::seconds(rng.random_range(0..20 * 3600));
        let group = random_group(&mut rng);
        let (cells, n) = match inject {
            Inject::Single => {
                let cell = city.cells[rng.random_range(0..city.cells.len())];
                (vec![cell], 5)
            }
            _ => (triple(city, &mut rng), rng.random_range(6..=9)),
        };
        let mut ids = FxHashSet::default();
        for k in 0..n {
            // Round robin first, so each of the three cells has at least two cases.
            let cell = cells[if k < 6 {
                k % cells.len()
            } else {
                rng.random_range(0..cells.len())
            }];
            let in_cell = &city.by_cell[&cell];
            let b = in_cell[rng.random_range(0..in_cell.len())];
            let at = begin + Duration::seconds(rng.random_range(0..7200));
            id += 1;
            ids.insert(id);
            reports.push(case(&mut rng, city, id, at, b, group));
        }
        list.push(Outbreak { start: begin, ids });
    }
    (reports, list)
}

/// Three mutually neighbouring cells, all with buildings.
fn triple(city: &City, rng: &mut ChaCha8Rng) -> Vec<CellIndex> {
    loop {
        let a = city.cells[rng.random_range(0..city.cells.len())];
        let around: Vec<CellIndex> = a
            .grid_disk::<Vec<_>>(1)
            .into_iter()
            .filter(|c| *c != a && city.by_cell.contains_key(c))
            .collect();
        for (i, &b) in around.iter().enumerate() {
            for &c in &around[i + 1..] {
                if b.is_neighbor_with(c).unwrap_or(false) {
                    return vec![a, b, c];
                }
            }
        }
    }
}

/// What one run raised.
struct Run {
    raised: Vec<Warning>,
    evaluations: u64,
}

/// Drives a detector over the prospective days as the server would.
fn run(config: &Config, all: &[Report], start: DateTime<Utc>) -> Run {
    let learn_end = start + Duration::days(LEARN_DAYS);
    let split = all.partition_point(|r| r.at <= learn_end);
    let mut detector = Detector::new(config.clone(), &all[..split], learn_end);
    let mut next = split;
    let mut raised = Vec::new();
    let mut evaluations = 0;
    let mut now = learn_end;
    let end = start + Duration::days(DAYS);
    while now < end {
        now += Duration::minutes(EVERY_MIN);
        while next < all.len() && all[next].at <= now {
            detector.observe(all[next].clone());
            next += 1;
        }
        // Midnight local (16:00 UTC): relearn from the stored history, as the server would.
        if (now - start).num_minutes() % (24 * 60) == 0 {
            let from = all.partition_point(|r| r.at < now - Duration::days(config.history_days));
            detector.relearn(&all[from..next], now);
        }
        evaluations += 1;
        for t in detector.evaluate(now) {
            if let Transition::Raised(w) = t {
                raised.push(w);
            }
        }
    }
    Run {
        raised,
        evaluations,
    }
}

/// A per-cell Poisson CUSUM (Lucas 1985) on 5-minute counts, the alternative the detector was
/// compared with: the same baseline (learned and relearned the same way), tuned to an outbreak
/// adding `shift` cases per 5 minutes (5 in 2 h: 5/24), alarming at `h`; after an alarm the cell is
/// reset and silent for one window. No correction, no scan, no repeats.
fn run_cusum(config: &Config, all: &[Report], start: DateTime<Utc>, h: f64) -> Run {
    let shift = 5.0 / 24.0;
    let step = Duration::minutes(EVERY_MIN);
    let learn_end = start + Duration::days(LEARN_DAYS);
    let learn = |now: DateTime<Utc>| {
        let from = now - Duration::days(config.history_days);
        let lo = all.partition_point(|r| r.at < from);
        let hi = all.partition_point(|r| r.at < now);
        Baseline::learn(config, &all[lo..hi], from, now)
    };
    let mut baseline = learn(learn_end);
    let mut score: FxHashMap<(String, CellIndex), f64> = FxHashMap::default();
    let mut quiet_until: FxHashMap<(String, CellIndex), DateTime<Utc>> = FxHashMap::default();
    let mut next = all.partition_point(|r| r.at <= learn_end);
    let (mut raised, mut evaluations) = (Vec::new(), 0);
    let mut now = learn_end;
    while now < start + Duration::days(DAYS) {
        now += step;
        if (now - start).num_minutes() % (24 * 60) == 0 {
            baseline = learn(now);
        }
        evaluations += 1;
        let mut counts: FxHashMap<(String, CellIndex), u32> = FxHashMap::default();
        while next < all.len() && all[next].at <= now {
            let r = &all[next];
            let cell = r.cell.parent(config.resolution).unwrap();
            *counts.entry((r.group.clone(), cell)).or_default() += 1;
            next += 1;
        }
        // A cell without a case loses `shift`; only cells above zero are kept.
        score.retain(|_, s| {
            *s -= shift;
            *s > 0.0
        });
        let mut keys: Vec<_> = counts.into_iter().collect();
        keys.sort();
        for ((group, cell), x) in keys {
            let e0 = baseline.expected(&group, cell, now - step, now).max(1e-12);
            let gain = f64::from(x) * ((e0 + shift) / e0).ln();
            let s = score.entry((group.clone(), cell)).or_default();
            // The decay for this step was already taken above when the cell had a score.
            *s += gain - if *s > 0.0 { 0.0 } else { shift };
            let quiet = quiet_until
                .get(&(group.clone(), cell))
                .is_some_and(|&t| t > now);
            if *s >= h && !quiet {
                *s = 0.0;
                quiet_until.insert(
                    (group.clone(), cell),
                    now + Duration::seconds(config.window_s),
                );
                let from = now - Duration::seconds(config.window_s);
                let lo = all.partition_point(|r| r.at <= from);
                let cases: Vec<i64> = all[lo..next]
                    .iter()
                    .filter(|r| r.group == group && r.cell.parent(config.resolution) == Some(cell))
                    .map(|r| r.id)
                    .collect();
                raised.push(Warning {
                    key: format!("cusum:{group}:{cell}:{}", now.timestamp()),
                    kind: Kind::Rate,
                    group,
                    cells: vec![cell.to_string()],
                    grids: Vec::new(),
                    building: None,
                    observed: cases.len() as u64,
                    expected: 0.0,
                    p_value: 1.0,
                    cases,
                    window_start: from,
                    window_end: now,
                    raised_at: now,
                });
            }
        }
    }
    Run {
        raised,
        evaluations,
    }
}

/// Figures of one setting over all repetitions.
#[derive(Default)]
struct Tally {
    single: Vec<Option<i64>>,
    triple_delays: Vec<Option<i64>>,
    triple_one: usize,
    background_false: usize,
    background_repeat: usize,
    weeks: f64,
    evaluations: u64,
    seconds: f64,
}

/// Delays (minutes) of detected outbreaks, and for each outbreak the number of rate/cluster
/// warnings raised within 2 h holding its cases.
fn score(outbreaks: &[Outbreak], raised: &[Warning]) -> Vec<(Option<i64>, usize)> {
    outbreaks
        .iter()
        .map(|o| {
            let hits: Vec<&Warning> = raised
                .iter()
                .filter(|w| w.kind != Kind::Repeat)
                .filter(|w| w.raised_at >= o.start && w.raised_at <= o.start + Duration::hours(2))
                .filter(|w| w.cases.iter().any(|id| o.ids.contains(id)))
                .collect();
            let delay = hits
                .iter()
                .map(|w| (w.raised_at - o.start).num_minutes())
                .min();
            (delay, hits.len())
        })
        .collect()
}

fn measure(setting: &Setting, city: &City, cases_per_day: f64, seed: u64, reps: u64) -> Tally {
    let config = &setting.config;
    // Local midnight (UTC+8) of Monday 2026-01-05.
    let start = Utc.with_ymd_and_hms(2026, 1, 4, 16, 0, 0).unwrap();
    let mut tally = Tally::default();
    let clock = Instant::now();
    for rep in 0..reps {
        for (k, inject) in [Inject::None, Inject::Single, Inject::Triple]
            .into_iter()
            .enumerate()
        {
            let s = seed * 1000 + rep * 10 + k as u64;
            let mut all = background(city, cases_per_day, start, s);
            let (extra, list) = outbreaks(city, inject, start, 10_000_000, s + 500);
            all.extend(extra);
            all.sort_by_key(|r| (r.at, r.id));
            let result = match setting.cusum_h {
                Some(h) => run_cusum(config, &all, start, h),
                None => run(config, &all, start),
            };
            tally.evaluations += result.evaluations;
            match inject {
                Inject::None => {
                    tally.weeks += (DAYS - LEARN_DAYS) as f64 / 7.0;
                    for w in &result.raised {
                        if w.kind == Kind::Repeat {
                            tally.background_repeat += 1;
                        } else {
                            tally.background_false += 1;
                        }
                    }
                }
                Inject::Single => {
                    tally
                        .single
                        .extend(score(&list, &result.raised).into_iter().map(|(d, _)| d));
                }
                Inject::Triple => {
                    for (delay, hits) in score(&list, &result.raised) {
                        tally.triple_delays.push(delay);
                        tally.triple_one += usize::from(hits == 1);
                    }
                }
            }
        }
    }
    tally.seconds = clock.elapsed().as_secs_f64();
    tally
}

/// Median, p90 and max of the detected delays, minutes.
fn spread(delays: &[Option<i64>]) -> String {
    let mut d: Vec<i64> = delays.iter().flatten().copied().collect();
    if d.is_empty() {
        return "–".into();
    }
    d.sort_unstable();
    let at = |q: f64| d[((d.len() - 1) as f64 * q).round() as usize];
    format!("{}/{}/{}", at(0.5), at(0.9), d[d.len() - 1])
}

fn share(delays: &[Option<i64>]) -> f64 {
    100.0 * delays.iter().flatten().count() as f64 / delays.len().max(1) as f64
}

/// One line of the table: the detector with a config, or the CUSUM alternative.
struct Setting {
    name: String,
    config: Config,
    cusum_h: Option<f64>,
}

fn settings(quick: bool) -> Vec<Setting> {
    let base = Config::default();
    let mut out = vec![Setting {
        name: "default".to_owned(),
        config: base.clone(),
        cusum_h: None,
    }];
    if quick {
        return out;
    }
    let vary = |name: &str, f: &dyn Fn(&mut Config)| {
        let mut config = base.clone();
        f(&mut config);
        Setting {
            name: name.to_owned(),
            config,
            cusum_h: None,
        }
    };
    let cusum = |h: f64| Setting {
        name: format!("per-cell Poisson CUSUM, h = {h}"),
        config: base.clone(),
        cusum_h: Some(h),
    };
    out.extend([
        vary("baseline flat", &|c| c.baseline = Method::Flat),
        vary("baseline hour-of-day", &|c| c.baseline = Method::HourOfDay),
        vary("window 1 h", &|c| c.window_s = 3600),
        vary("window 3 h", &|c| c.window_s = 3 * 3600),
        vary("BH q 0.0001", &|c| c.q = 0.0001),
        vary("BH q 0.01", &|c| c.q = 0.01),
        vary("BH q 0.05", &|c| c.q = 0.05),
        vary("min observed 4", &|c| c.min_observed = 4),
        vary("scan radius 0 (no scan)", &|c| c.scan_radius = 0),
        vary("scan radius 2", &|c| c.scan_radius = 2),
        vary("groups pooled", &|c| c.pool_groups = true),
        vary("prior 0.1 case/cell", &|c| c.prior_cases_per_cell = 0.1),
        cusum(10.0),
        cusum(12.0),
        cusum(14.0),
    ]);
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(String::as_str)
    };
    let seed: u64 = value("--seed").map_or(1, |v| v.parse().unwrap());
    let reps: u64 = value("--reps").map_or(2, |v| v.parse().unwrap());
    let cases_per_day: f64 = value("--cases-per-day").map_or(60.0, |v| v.parse().unwrap());
    let quick = args.iter().any(|a| a == "--quick");
    // `--only TEXT`: just the settings whose name contains TEXT (`default` is one).
    let only = value("--only");

    let clock = Instant::now();
    let city = city();
    println!(
        "Dongjie: {} buildings in {} res-9 cells; {cases_per_day} background cases a day; \
         seed {seed}, {reps} repetitions of 3 runs × {} prospective days; city in {:.1} s",
        city.buildings.len(),
        city.cells.len(),
        DAYS - LEARN_DAYS,
        clock.elapsed().as_secs_f64()
    );
    println!();
    println!(
        "| setting | single ≤2 h | single delay min (median/p90/max) | 3-cell ≤2 h | 3-cell as one warning | 3-cell delay min | false warnings/week (background) | repeat warnings/week (background) | run time s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let chosen = settings(quick)
        .into_iter()
        .filter(|s| only.is_none_or(|text| s.name.contains(text)));
    for setting in chosen {
        let t = measure(&setting, &city, cases_per_day, seed, reps);
        let name = &setting.name;
        println!(
            "| {name} | {:.1}% of {} | {} | {:.1}% of {} | {:.1}% | {} | {:.2} ({} in {:.1} wk) | {:.1} | {:.1} |",
            share(&t.single),
            t.single.len(),
            spread(&t.single),
            share(&t.triple_delays),
            t.triple_delays.len(),
            100.0 * t.triple_one as f64 / t.triple_delays.len().max(1) as f64,
            spread(&t.triple_delays),
            t.background_false as f64 / t.weeks,
            t.background_false,
            t.weeks,
            t.background_repeat as f64 / t.weeks,
            t.seconds,
        );
    }
    println!();
    println!("total {:.1} s", clock.elapsed().as_secs_f64());
}
