//! The alarms the world holds (`crate::alarms`): each alarm raised by a recent event, with its
//! acknowledgement if any, applied in event order from every event the world takes — its own commits,
//! other writers' events (`follow`), and at start the last [`KEEP_OPEN`] of the log.
//!
//! Bounded three ways, all by the events' own times so every node keeps the same: an acknowledged
//! alarm leaves [`KEEP_ACKNOWLEDGED`] after its acknowledgement, an open one [`KEEP_OPEN`] after it was
//! raised, and past [`MAX_ALARMS`] the oldest go first. Applying is idempotent (an alarm raised twice is
//! kept once; of two acknowledgements the log's first wins), so a world may take an event again.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::alarm::{Acknowledgement, AlarmAcknowledged};
use crate::domain::{Alarm, AlarmId};

/// How long an acknowledged alarm stays listed after its acknowledgement: a day, so the next shift
/// sees what the last one handled.
pub const KEEP_ACKNOWLEDGED: TimeDelta = TimeDelta::hours(24);
/// How long an alarm nobody acknowledged stays: a week. A restart reads this much of the log again.
pub const KEEP_OPEN: TimeDelta = TimeDelta::days(7);
/// The most alarms held at once; past it the oldest leave first (a flood of urgent cases must not
/// grow memory without bound).
pub const MAX_ALARMS: usize = 10_000;

/// An alarm and its acknowledgement: serialised as the alarm's fields and `acknowledged` (`null`, or
/// `{by, at, seq}`), the form `GET /api/alarms` lists and the live `alarms` layer sends.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Entry {
    #[serde(flatten)]
    pub alarm: Alarm,
    #[serde(rename = "acknowledged")]
    pub ack: Option<Acknowledgement>,
}

impl Entry {
    /// Whether it is still listed at `now`.
    #[must_use]
    pub fn current(&self, now: DateTime<Utc>) -> bool {
        self.until() >= now
    }

    /// The last moment it is listed.
    fn until(&self) -> DateTime<Utc> {
        match &self.ack {
            Some(ack) => ack.at + KEEP_ACKNOWLEDGED,
            None => self.alarm.at + KEEP_OPEN,
        }
    }
}

/// The alarms, by id (event order).
#[derive(Debug, Clone, Default)]
pub struct AlarmBook {
    entries: BTreeMap<AlarmId, Entry>,
    /// No entry leaves before this (`None`: none held), so pruning after each event is a comparison
    /// until something is due, not a walk over every alarm.
    next_due: Option<DateTime<Utc>>,
}

impl AlarmBook {
    /// An alarm raised (kept once, whatever the number of times its event is applied).
    pub fn raise(&mut self, alarm: Alarm) {
        let entry = self
            .entries
            .entry(alarm.id)
            .or_insert(Entry { alarm, ack: None });
        let until = entry.until();
        self.due(until);
    }

    /// Notes that an entry leaves after `at`.
    fn due(&mut self, at: DateTime<Utc>) {
        self.next_due = Some(self.next_due.map_or(at, |d| d.min(at)));
    }

    /// An acknowledgement recorded by the event `seq`. An alarm not held (its raise is older than the
    /// book, or not yet applied) is taken from the payload; of two acknowledgements the lower seq wins.
    pub fn acknowledge(&mut self, ack: &AlarmAcknowledged, seq: i64) {
        let entry = self.entries.entry(ack.alarm.id).or_insert_with(|| Entry {
            alarm: ack.alarm.clone(),
            ack: None,
        });
        if entry.ack.as_ref().is_none_or(|held| held.seq > seq) {
            entry.ack = Some(Acknowledgement {
                by: ack.by.clone(),
                at: ack.at,
                seq,
            });
        }
        let until = entry.until();
        self.due(until);
    }

    /// Drops what is no longer current at `now`, then the oldest past [`MAX_ALARMS`].
    pub fn prune(&mut self, now: DateTime<Utc>) {
        if self.next_due.is_some_and(|due| due < now) {
            self.entries.retain(|_, e| e.current(now));
            self.next_due = self.entries.values().map(Entry::until).min();
        }
        while self.entries.len() > MAX_ALARMS {
            self.entries.pop_first();
        }
    }

    #[must_use]
    pub fn get(&self, id: AlarmId) -> Option<&Entry> {
        self.entries.get(&id)
    }

    /// Every alarm held, newest first.
    pub fn newest_first(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values().rev()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::alarm::AcknowledgedBy;
    use crate::domain::{AlarmKind, IncidentId, Role};

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("a time")
    }

    fn alarm(seq: i64, when: &str) -> Alarm {
        Alarm {
            id: AlarmId {
                seq,
                case: Some(IncidentId(seq)),
            },
            kind: AlarmKind::Urgent,
            at: at(when),
            seq,
            case: Some(IncidentId(seq)),
            lat: 36.0,
            lon: 113.0,
            grid: None,
            community: None,
            street: None,
            district: None,
            title: String::new(),
        }
    }

    fn ack(alarm: &Alarm, when: &str, name: &str) -> AlarmAcknowledged {
        AlarmAcknowledged {
            alarm: alarm.clone(),
            by: AcknowledgedBy {
                user: None,
                token: None,
                name: Some(name.into()),
                role: Role::Commander,
            },
            at: at(when),
        }
    }

    #[test]
    fn raising_twice_keeps_one_and_the_first_acknowledgement_in_the_log_wins() {
        let mut book = AlarmBook::default();
        let a = alarm(5, "2026-12-07T08:00:00Z");
        book.raise(a.clone());
        book.raise(a.clone());
        assert_eq!(book.len(), 1);
        // Applied out of order (a node's own commit before another writer's earlier one).
        book.acknowledge(&ack(&a, "2026-12-07T08:02:00Z", "second"), 9);
        book.acknowledge(&ack(&a, "2026-12-07T08:01:00Z", "first"), 8);
        book.acknowledge(&ack(&a, "2026-12-07T08:03:00Z", "third"), 10);
        let held = book
            .get(a.id)
            .and_then(|e| e.ack.clone())
            .expect("acknowledged");
        assert_eq!((held.seq, held.by.name.as_deref()), (8, Some("first")));
    }

    #[test]
    fn acknowledged_alarms_leave_after_a_day_and_open_ones_after_a_week() {
        let mut book = AlarmBook::default();
        let old = alarm(1, "2026-12-01T08:00:00Z");
        let handled = alarm(2, "2026-12-07T08:00:00Z");
        book.raise(old.clone());
        book.raise(handled.clone());
        book.acknowledge(&ack(&handled, "2026-12-07T09:00:00Z", "x"), 3);
        book.prune(at("2026-12-08T08:00:00Z"));
        assert_eq!(book.len(), 2, "six days open, 23 h acknowledged: both stay");
        book.prune(at("2026-12-08T08:00:01Z"));
        assert!(book.get(old.id).is_none(), "open over 7 days");
        assert!(book.get(handled.id).is_some());
        book.prune(at("2026-12-08T09:00:01Z"));
        assert!(book.get(handled.id).is_none(), "acknowledged over 24 h ago");
    }

    #[test]
    fn past_the_cap_the_oldest_go_first() {
        let mut book = AlarmBook::default();
        for seq in 1..=i64::try_from(MAX_ALARMS).expect("small") + 2 {
            book.raise(alarm(seq, "2026-12-07T08:00:00Z"));
        }
        book.prune(at("2026-12-07T08:00:00Z"));
        assert_eq!(book.len(), MAX_ALARMS);
        let newest: Vec<i64> = book.newest_first().take(2).map(|e| e.alarm.seq).collect();
        assert_eq!(newest, [10_002, 10_001]);
        assert!(book.get(alarm(2, "2026-12-07T08:00:00Z").id).is_none());
        assert!(book.get(alarm(3, "2026-12-07T08:00:00Z").id).is_some());
    }
}
