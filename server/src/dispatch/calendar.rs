//! Working-hours calendar: deadlines that count working time (限时办结), and working time between two
//! instants for KPIs ("mean hours to accept").
//!
//! Owns the rules that say when an office works: a fixed UTC offset (no time-zone database — Chinese
//! deployments have no daylight saving), the opening hours, an optional lunch break, the weekend, public
//! holidays and the extra workdays that swap with them (调休). It must not read clocks, configuration files
//! or the store: instants come in as arguments and the calendar comes in as plain (serde) data.
//!
//! Every working day has the same hours. Intervals are half-open: a day with hours 08:30–17:30 works at
//! 08:30:00 and no longer at 17:30:00.

use std::collections::BTreeSet;

use chrono::{
    DateTime, Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc, Weekday,
};
use serde::{Deserialize, Serialize};

/// Largest UTC offset accepted by [`WorkCalendar::validate`], in minutes (±14 h, the widest in use).
pub const MAX_TZ_OFFSET_MINUTES: i32 = 14 * 60;

/// Upper bound on weeks skipped in one arithmetic step, so week counts always fit an `i32` and date
/// arithmetic stays far from chrono's limits; longer durations simply take several steps.
const MAX_WEEKS_PER_STEP: i64 = 100_000;

const ALL_WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// When an office works. Deserialise it from a deployment's configuration and call
/// [`validate`](Self::validate) once before use.
///
/// Missing fields take their value from [`Default`]: a Chinese street office (街道办事处) on Beijing time,
/// 08:30–17:30 with lunch 12:00–13:30 (7 h 30 min of work a day), Saturday and Sunday off, no holidays.
/// Holidays and 调休 workdays change every year with the State Council's notice, so a deployment lists
/// them itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkCalendar {
    /// Offset of local time from UTC, in minutes east of Greenwich (+480 for China, UTC+8).
    pub tz_offset_minutes: i32,
    /// Local time the working day starts.
    pub day_start: NaiveTime,
    /// Local time the working day ends (exclusive).
    pub day_end: NaiveTime,
    /// Local lunch break `(start, end)` inside the working day, not counted as working time.
    pub lunch: Option<(NaiveTime, NaiveTime)>,
    /// Days of the week that are not working days (unless listed in `extra_workdays`).
    pub weekend: Vec<Weekday>,
    /// Local dates that are not working days even on a weekday (法定节假日).
    pub holidays: BTreeSet<NaiveDate>,
    /// Local dates that are working days even on a weekend day (调休上班).
    pub extra_workdays: BTreeSet<NaiveDate>,
}

impl Default for WorkCalendar {
    fn default() -> Self {
        let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN);
        Self {
            tz_offset_minutes: 8 * 60,
            day_start: hm(8, 30),
            day_end: hm(17, 30),
            lunch: Some((hm(12, 0), hm(13, 30))),
            weekend: vec![Weekday::Sat, Weekday::Sun],
            holidays: BTreeSet::new(),
            extra_workdays: BTreeSet::new(),
        }
    }
}

/// Why a [`WorkCalendar`] is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("the working day must start before it ends, got {day_start}–{day_end}")]
    DayBounds {
        day_start: NaiveTime,
        day_end: NaiveTime,
    },
    #[error("lunch {start}–{end} must lie strictly inside the working day {day_start}–{day_end}")]
    LunchOutsideDay {
        start: NaiveTime,
        end: NaiveTime,
        day_start: NaiveTime,
        day_end: NaiveTime,
    },
    #[error("UTC offset {minutes} min is outside ±{MAX_TZ_OFFSET_MINUTES} min (±14 h)")]
    OffsetOutOfRange { minutes: i32 },
    #[error("every day of the week is in the weekend, so there are no regular working days")]
    NoWorkingWeekday,
    #[error("{date} is listed both as a holiday and as an extra workday")]
    HolidayAndWorkday { date: NaiveDate },
}

impl WorkCalendar {
    /// Checks that the calendar makes sense: `day_start < day_end`, the lunch break strictly inside the
    /// day, the UTC offset within ±14 h, at least one weekday not in the weekend, and no date both a
    /// holiday and an extra workday.
    pub fn validate(&self) -> Result<(), CalendarError> {
        if self.tz_offset_minutes.abs() > MAX_TZ_OFFSET_MINUTES {
            return Err(CalendarError::OffsetOutOfRange {
                minutes: self.tz_offset_minutes,
            });
        }
        if self.day_start >= self.day_end {
            return Err(CalendarError::DayBounds {
                day_start: self.day_start,
                day_end: self.day_end,
            });
        }
        if let Some((start, end)) = self.lunch
            && !(self.day_start < start && start < end && end < self.day_end)
        {
            return Err(CalendarError::LunchOutsideDay {
                start,
                end,
                day_start: self.day_start,
                day_end: self.day_end,
            });
        }
        if ALL_WEEKDAYS.iter().all(|day| self.weekend.contains(day)) {
            return Err(CalendarError::NoWorkingWeekday);
        }
        if let Some(&date) = self.holidays.intersection(&self.extra_workdays).next() {
            return Err(CalendarError::HolidayAndWorkday { date });
        }
        Ok(())
    }

    /// Whether `at` falls inside working time.
    #[must_use]
    pub fn is_working(&self, at: DateTime<Utc>) -> bool {
        let Some(local) = self.to_local(at) else {
            return false;
        };
        self.is_working_day(local.date())
            && self
                .intervals()
                .iter()
                .any(|&(start, end)| start <= local.time() && local.time() < end)
    }

    /// Whether the local date `date` is a working day: an extra workday always is; otherwise a holiday
    /// or weekend day is not.
    #[must_use]
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.extra_workdays.contains(&date)
            || !(self.holidays.contains(&date) || self.weekend.contains(&date.weekday()))
    }

    /// Working time in one working day (7 h 30 min for the default calendar).
    #[must_use]
    pub fn daily_working_time(&self) -> TimeDelta {
        self.intervals()
            .iter()
            .map(|&(start, end)| (end - start).max(TimeDelta::zero()))
            .sum()
    }

    /// The deadline for a limit of `duration` working time starting at `start`: the earliest instant by
    /// which `duration` of working time has elapsed since `start`.
    ///
    /// A `start` outside working time effectively begins at the next working moment; a limit that runs
    /// out exactly at the end of a working interval ends there (17:30, not the next morning). A zero or
    /// negative `duration` returns `start`.
    ///
    /// Whole weeks are skipped arithmetically (holidays and 调休 days corrected from the sets), so the
    /// cost grows with the number of holidays in range, not with the duration.
    ///
    /// Saturates: if the calendar can never supply that much working time (no working hours, or only a
    /// finite list of extra workdays), or the deadline lies beyond chrono's range, it returns
    /// [`DateTime::<Utc>::MAX_UTC`] — "never". Use [`checked_add_working_time`](Self::checked_add_working_time)
    /// to tell that case apart.
    #[must_use]
    pub fn add_working_time(&self, start: DateTime<Utc>, duration: TimeDelta) -> DateTime<Utc> {
        self.checked_add_working_time(start, duration)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// As [`add_working_time`](Self::add_working_time), but `None` where that saturates.
    #[must_use]
    pub fn checked_add_working_time(
        &self,
        start: DateTime<Utc>,
        duration: TimeDelta,
    ) -> Option<DateTime<Utc>> {
        if duration <= TimeDelta::zero() {
            return Some(start);
        }
        if self.daily_working_time() <= TimeDelta::zero() {
            return None;
        }
        let local = self.to_local(start)?;
        let mut remaining = duration;
        if let Some(end) = self.consume_day(local.date(), local.time(), &mut remaining) {
            return self.to_utc(end);
        }
        let mut date = local.date().succ_opt()?;
        loop {
            date = self.skip_whole_weeks(date, &mut remaining)?;
            if let Some(end) = self.consume_day(date, NaiveTime::MIN, &mut remaining) {
                return self.to_utc(end);
            }
            date = date.succ_opt()?;
        }
    }

    /// Working time in `[from, to)`; zero if `to <= from`. The inverse of
    /// [`add_working_time`](Self::add_working_time): `working_time_between(s, add_working_time(s, d)) == d`.
    #[must_use]
    pub fn working_time_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TimeDelta {
        if to <= from {
            return TimeDelta::zero();
        }
        let (Some(from), Some(to)) = (self.to_local(from), self.to_local(to)) else {
            return TimeDelta::zero();
        };
        if from.date() == to.date() {
            return self.work_on_day(from.date(), from.time(), Some(to.time()));
        }
        let Some(first_whole_day) = from.date().succ_opt() else {
            return TimeDelta::zero();
        };
        self.work_on_day(from.date(), from.time(), None)
            + self.work_in_days(first_whole_day, to.date())
            + self.work_on_day(to.date(), NaiveTime::MIN, Some(to.time()))
    }

    /// The day's working intervals in local time, half-open; the second is empty without a lunch break.
    /// Clamped so that even an unvalidated calendar never yields overlapping or inverted intervals.
    fn intervals(&self) -> [(NaiveTime, NaiveTime); 2] {
        match self.lunch {
            Some((lunch_start, lunch_end)) => [
                (self.day_start, lunch_start.min(self.day_end)),
                (lunch_end.max(lunch_start).max(self.day_start), self.day_end),
            ],
            None => [(self.day_start, self.day_end), (self.day_end, self.day_end)],
        }
    }

    fn offset(&self) -> TimeDelta {
        TimeDelta::minutes(i64::from(self.tz_offset_minutes))
    }

    fn to_local(&self, at: DateTime<Utc>) -> Option<NaiveDateTime> {
        at.naive_utc().checked_add_signed(self.offset())
    }

    fn to_utc(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        local
            .checked_sub_signed(self.offset())
            .map(|utc| utc.and_utc())
    }

    /// Working time on `date` between local times `from` and `to` (`None`: end of day).
    fn work_on_day(&self, date: NaiveDate, from: NaiveTime, to: Option<NaiveTime>) -> TimeDelta {
        if !self.is_working_day(date) {
            return TimeDelta::zero();
        }
        self.intervals()
            .iter()
            .map(|&(start, end)| {
                let end = to.map_or(end, |to| end.min(to));
                (end - start.max(from)).max(TimeDelta::zero())
            })
            .sum()
    }

    /// Spends `remaining` on `date` from local time `from`. Returns the local instant where it runs out,
    /// or `None` (with `remaining` reduced by the day's working time) if it lasts past the day.
    fn consume_day(
        &self,
        date: NaiveDate,
        from: NaiveTime,
        remaining: &mut TimeDelta,
    ) -> Option<NaiveDateTime> {
        if !self.is_working_day(date) {
            return None;
        }
        for (start, end) in self.intervals() {
            let start = start.max(from);
            if end <= start {
                continue;
            }
            let available = end - start;
            if *remaining <= available {
                return date.and_time(start).checked_add_signed(*remaining);
            }
            *remaining -= available;
        }
        None
    }

    /// Working time a week brings when it holds no holiday or extra workday.
    fn regular_weekly_working_time(&self) -> TimeDelta {
        let working_weekdays = ALL_WEEKDAYS
            .iter()
            .filter(|day| !self.weekend.contains(day))
            .count();
        self.daily_working_time() * i32::try_from(working_weekdays).unwrap_or(0)
    }

    /// Working time in the whole local days `[from, to)`, in O(log n + holidays in range).
    fn work_in_days(&self, from: NaiveDate, to: NaiveDate) -> TimeDelta {
        let days = (to - from).num_days();
        if days <= 0 {
            return TimeDelta::zero();
        }
        let daily = self.daily_working_time();
        let weeks = days / 7;
        let mut total = i32::try_from(weeks)
            .ok()
            .and_then(|weeks| self.regular_weekly_working_time().checked_mul(weeks))
            .unwrap_or(TimeDelta::MAX);
        let mut date = from
            .checked_add_days(Days::new(days.unsigned_abs() / 7 * 7))
            .unwrap_or(to);
        while date < to {
            if !self.weekend.contains(&date.weekday()) {
                total += daily;
            }
            let Some(next) = date.succ_opt() else { break };
            date = next;
        }
        // The count above assumed every weekday works and every weekend day rests; correct it.
        for date in self.extra_workdays.range(from..to) {
            if self.weekend.contains(&date.weekday()) {
                total += daily;
            }
        }
        for date in self.holidays.range(from..to) {
            if !self.extra_workdays.contains(date) && !self.weekend.contains(&date.weekday()) {
                total -= daily;
            }
        }
        total
    }

    /// From the start of local day `date`, skips as many whole weeks as leave some of `remaining` still
    /// to spend, and returns the day to continue from. `None` if no working day can ever come.
    fn skip_whole_weeks(
        &self,
        mut date: NaiveDate,
        remaining: &mut TimeDelta,
    ) -> Option<NaiveDate> {
        let weekly = self.regular_weekly_working_time();
        if weekly <= TimeDelta::zero() {
            // Only extra workdays carry working time; jump straight to the next one.
            return self.extra_workdays.range(date..).next().copied();
        }
        loop {
            let mut weeks = weeks_strictly_below(*remaining, weekly);
            loop {
                if weeks == 0 {
                    return Some(date);
                }
                let end = date.checked_add_days(Days::new(weeks.unsigned_abs() * 7));
                // Extra workdays can make the span hold more than `weeks * weekly`: then try fewer weeks.
                if let Some(end) = end {
                    let work = self.work_in_days(date, end);
                    if work < *remaining {
                        *remaining -= work;
                        date = end;
                        break;
                    }
                }
                weeks /= 2;
            }
        }
    }
}

/// The largest whole number of weeks `k` with `k * weekly < remaining`, capped at [`MAX_WEEKS_PER_STEP`].
fn weeks_strictly_below(remaining: TimeDelta, weekly: TimeDelta) -> i64 {
    let nanos =
        |d: TimeDelta| i128::from(d.num_seconds()) * 1_000_000_000 + i128::from(d.subsec_nanos());
    let (remaining, weekly) = (nanos(remaining), nanos(weekly));
    if remaining <= 0 || weekly <= 0 {
        return 0;
    }
    i64::try_from((remaining - 1) / weekly)
        .map_or(MAX_WEEKS_PER_STEP, |weeks| weeks.min(MAX_WEEKS_PER_STEP))
}

#[cfg(test)]
mod tests;
