//! The simulation's script: what is reported next, from where, after how long, and how fast each case
//! is handled. Pure: a seeded RNG in, plain draws out; it never looks at the world, so the same seed
//! plays the same script whatever the city answers. The caller maps each draw's indices onto what the
//! world holds (grids, cameras, walkers).
//!
//! Must not: read a clock, the world or the store.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::domain::incident::{Priority, Source};

/// The first reports, one from each source, close together: a newcomer sees the map change within
/// seconds, and every source shows up early.
const OPENING: [Source; 5] = [
    Source::Hotline,
    Source::Worker,
    Source::Camera,
    Source::Citizen,
    Source::Patrol,
];

/// Mean time between two reports after the opening: a few a minute.
const MEAN_INTERVAL_S: f64 = 15.0;
/// Bounds on the time between two reports, seconds.
const INTERVAL_S: (f64, f64) = (4.0, 45.0);
/// Share of cases handled on the spot, at a pace a newcomer watches from report to closure.
const QUICK_SHARE: f64 = 0.35;
/// Share of the slower cases whose first verification fails (返工).
const REWORK_SHARE: f64 = 0.1;

/// One report to make.
#[derive(Debug, Clone, PartialEq)]
pub struct Draw {
    /// How long after the previous report.
    pub after: Duration,
    pub source: Source,
    /// Indices the caller reduces modulo what it has: the category among those the source reports
    /// (then among the active ones), the reporter, camera or grid, and the cell in the grid.
    pub category: u32,
    pub who: u32,
    pub cell: u32,
    pub priority: Priority,
    /// The description among the category's.
    pub text: u32,
    /// Handled on the spot, step after step a few seconds apart.
    pub quick: bool,
    /// The first verification fails and the handler works it again.
    pub rework: bool,
}

/// The reports, one after another.
pub struct Script {
    rng: StdRng,
    made: usize,
}

impl Script {
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            made: 0,
        }
    }

    /// The next report.
    pub fn next_report(&mut self) -> Draw {
        let rng = &mut self.rng;
        let opening = OPENING.get(self.made).copied();
        let (after, source) = if let Some(source) = opening {
            // At 1, 2.5, 4, 5.5 and 7 s: the first arrive before a page has finished loading.
            let ms = if self.made == 0 { 1000 } else { 1500 };
            (Duration::from_millis(ms), source)
        } else {
            // Exponential gaps (a Poisson stream of reports), bounded.
            let u: f64 = rng.random_range(f64::EPSILON..1.0);
            let s = (-u.ln() * MEAN_INTERVAL_S).clamp(INTERVAL_S.0, INTERVAL_S.1);
            (
                Duration::from_secs_f64(s),
                source_of(rng.random_range(0..100)),
            )
        };
        let priority = match rng.random_range(0..20) {
            0 => Priority::Urgent,
            1..=3 => Priority::High,
            4..=5 => Priority::Low,
            _ => Priority::Normal,
        };
        // The opening's first three are quick, so a case is closed within a minute of the start.
        let quick = self.made < 3 || rng.random_bool(QUICK_SHARE);
        let rework = !quick && rng.random_bool(REWORK_SHARE);
        self.made += 1;
        Draw {
            after,
            source,
            category: rng.random(),
            who: rng.random(),
            cell: rng.random(),
            priority,
            text: rng.random(),
            quick,
            rework,
        }
    }
}

/// Where reports come from, in a street office's day: the hotline and the grid workers bring most.
fn source_of(percent: u32) -> Source {
    match percent {
        0..30 => Source::Hotline,
        30..55 => Source::Worker,
        55..70 => Source::Citizen,
        70..85 => Source::Patrol,
        _ => Source::Camera,
    }
}

/// The steps of a case the simulation takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The command centre dispatches a case routing left in the community's queue.
    Dispatch,
    Accept,
    Start,
    Resolve,
    Verify,
}

/// How long each step of a case waits: a few seconds for a quick case, minutes for the others.
pub struct Pace {
    rng: StdRng,
}

impl Pace {
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// The wait before `stage`.
    pub fn before(&mut self, stage: Stage, quick: bool) -> Duration {
        let (low_s, high_s) = match (stage, quick) {
            (Stage::Dispatch, _) => (3.0, 10.0),
            (Stage::Accept | Stage::Start, true) => (2.0, 4.0),
            (Stage::Resolve, true) => (3.0, 6.0),
            (Stage::Verify, true) => (2.0, 5.0),
            (Stage::Accept, false) => (15.0, 90.0),
            (Stage::Start, false) => (15.0, 120.0),
            (Stage::Resolve, false) => (60.0, 360.0),
            (Stage::Verify, false) => (20.0, 180.0),
        };
        Duration::from_secs_f64(self.rng.random_range(low_s..high_s))
    }

    /// A draw in `0..n` (`n` > 0), for the simulation's other small choices.
    pub fn pick(&mut self, n: usize) -> usize {
        self.rng.random_range(0..n.max(1))
    }
}

/// The categories a source mostly reports, most likely first; the caller keeps those that exist.
#[must_use]
pub fn categories_of(source: Source) -> &'static [&'static str] {
    match source {
        Source::Camera => &["street_order", "city_appearance", "public_safety"],
        Source::Patrol => &["public_safety", "hazard", "street_order"],
        Source::Worker => &["city_appearance", "hazard", "construction", "advertising"],
        Source::Hotline => &["livelihood", "dispute", "emergency", "construction"],
        Source::Citizen | Source::Open311 => &["livelihood", "city_appearance", "other"],
    }
}

/// What a report says, by category (the reports of a street office, in its language).
#[must_use]
pub fn texts_of(category: &str) -> &'static [&'static str] {
    match category {
        "city_appearance" => &[
            "垃圾桶满溢，周边散落垃圾",
            "楼道堆放杂物，影响通行",
            "路面油污一片，需要清理",
        ],
        "advertising" => &["电线杆上张贴小广告", "墙面喷涂办证广告"],
        "construction" => &["施工围挡倒伏，占用人行道", "夜间施工噪音扰民"],
        "street_order" => &["占道经营，摊位堵住路口", "非机动车乱停放，堵塞消防通道"],
        "emergency" => &["居民反映楼道有燃气味", "路边电缆井冒烟"],
        "dispute" => &["邻里因漏水发生纠纷", "停车位归属争执"],
        "public_safety" => &["深夜有人在小区门口聚集喧哗", "电动车在楼道内充电"],
        "hazard" => &[
            "窨井盖缺失",
            "外墙瓷砖松动有坠落危险",
            "路灯不亮，夜间行人看不清",
        ],
        "livelihood" => &[
            "独居老人家中停水，求助",
            "小区供暖不热",
            "反映公交站台座椅损坏",
        ],
        "other" => &["居民反映的其他问题，需要核实", "共享单车大量堆放在小区门口"],
        _ => &["需要到现场核实的问题"],
    }
}

/// The handler's note when reporting the work done.
#[must_use]
pub fn resolve_note(pick: usize) -> &'static str {
    const NOTES: [&str; 4] = [
        "已到现场处理完毕",
        "已协调相关单位处置",
        "已清理，现场恢复正常",
        "已与当事人沟通，问题解决",
    ];
    NOTES[pick % NOTES.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reports(seed: u64, n: usize) -> Vec<Draw> {
        let mut script = Script::new(seed);
        (0..n).map(|_| script.next_report()).collect()
    }

    #[test]
    fn the_same_seed_plays_the_same_script_and_another_seed_another() {
        assert_eq!(reports(7, 200), reports(7, 200));
        assert_ne!(reports(7, 200), reports(8, 200));
        let mut a = Pace::new(7);
        let mut b = Pace::new(7);
        for stage in [Stage::Accept, Stage::Start, Stage::Resolve, Stage::Verify] {
            assert_eq!(a.before(stage, false), b.before(stage, false));
        }
    }

    #[test]
    fn every_source_reports_in_the_opening_and_the_first_cases_are_quick() {
        let opening = reports(1, 5);
        for source in OPENING {
            assert!(opening.iter().any(|d| d.source == source), "{source}");
        }
        assert!(opening[..3].iter().all(|d| d.quick && !d.rework));
        let total: Duration = opening.iter().map(|d| d.after).sum();
        assert!(total <= Duration::from_secs(10), "{total:?}");
    }

    #[test]
    fn a_day_brings_a_few_reports_a_minute_from_every_source() {
        let day = reports(3, 2000);
        let seconds: f64 = day.iter().map(|d| d.after.as_secs_f64()).sum();
        #[allow(clippy::cast_precision_loss)]
        let per_minute = day.len() as f64 / (seconds / 60.0);
        assert!((2.0..=8.0).contains(&per_minute), "{per_minute} a minute");
        for source in OPENING {
            let share = day.iter().filter(|d| d.source == source).count();
            assert!(share > 100, "{source}: {share}");
        }
        assert!(day.iter().all(|d| d.after >= Duration::from_secs(1)));
        assert!(day.iter().any(|d| d.rework) && day.iter().any(|d| !d.quick));
    }

    #[test]
    fn every_category_a_source_reports_has_its_own_texts() {
        for source in Source::ALL {
            for code in categories_of(*source) {
                assert_ne!(texts_of(code), texts_of("no such category"), "{code}");
            }
        }
    }
}
