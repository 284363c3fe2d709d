//! One subscriber's bounded queue between the hub and its socket.
//!
//! Events (which carry a sequence number) queue in order, up to a capacity; positions are coalesced, the
//! latest per worker winning, so a burst of positions never grows the queue. An event is never dropped
//! silently: when the queue is full the outbox drops everything queued, stops taking events and reports
//! `overflowed`, and the socket side tells the client to resync from the last sequence it sent. Memory
//! for a subscriber is therefore bounded by the capacity plus one position per worker.

use std::collections::VecDeque;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::domain::WorkerId;

/// What the socket side takes out in one go.
#[derive(Debug, Default)]
pub struct Drained {
    /// `(seq, message)`, in sequence order.
    pub events: Vec<(i64, Arc<str>)>,
    /// The latest position message of each worker that moved, in the order they first moved.
    pub positions: Vec<Arc<str>>,
    /// Events were lost to a full queue: resync.
    pub overflowed: bool,
}

#[derive(Debug)]
pub struct Outbox {
    capacity: usize,
    events: VecDeque<(i64, Arc<str>)>,
    positions: FxHashMap<WorkerId, usize>,
    position_order: Vec<(WorkerId, Arc<str>)>,
    /// Events at or below this sequence are already covered (by the snapshot or the replay).
    floor: i64,
    overflowed: bool,
}

impl Outbox {
    #[must_use]
    pub fn new(capacity: usize, floor: i64) -> Self {
        Self {
            capacity: capacity.max(1),
            events: VecDeque::new(),
            positions: FxHashMap::default(),
            position_order: Vec::new(),
            floor,
            overflowed: false,
        }
    }

    /// Queues an event; `false` when it was not taken because the queue has overflowed.
    pub fn push_event(&mut self, seq: i64, message: Arc<str>) -> bool {
        if self.overflowed {
            return false;
        }
        if seq <= self.floor || self.events.back().is_some_and(|(last, _)| seq < *last) {
            return true;
        }
        if self.events.len() >= self.capacity {
            self.events.clear();
            self.overflowed = true;
            return false;
        }
        self.events.push_back((seq, message));
        true
    }

    /// Queues a worker's position, replacing any not yet sent.
    pub fn push_position(&mut self, worker: WorkerId, message: Arc<str>) {
        if let Some(&i) = self.positions.get(&worker) {
            self.position_order[i].1 = message;
        } else {
            self.positions.insert(worker, self.position_order.len());
            self.position_order.push((worker, message));
        }
    }

    /// Raises the floor: events at or below `seq` will be skipped (they were sent another way).
    pub fn raise_floor(&mut self, seq: i64) {
        self.floor = self.floor.max(seq);
        while self.events.front().is_some_and(|(s, _)| *s <= self.floor) {
            self.events.pop_front();
        }
    }

    /// Takes everything queued.
    pub fn drain(&mut self) -> Drained {
        self.positions.clear();
        let drained = Drained {
            events: self.events.drain(..).collect(),
            positions: self.position_order.drain(..).map(|(_, m)| m).collect(),
            overflowed: self.overflowed,
        };
        if let Some((seq, _)) = drained.events.last() {
            self.floor = self.floor.max(*seq);
        }
        drained
    }

    /// Messages held now (events plus coalesced positions): what bounds a subscriber's memory.
    #[must_use]
    pub fn len(&self) -> usize {
        self.events.len() + self.position_order.len()
    }

    #[must_use]
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(text: &str) -> Arc<str> {
        Arc::from(text)
    }

    #[test]
    fn events_keep_order_and_skip_what_the_floor_covers() {
        let mut out = Outbox::new(10, 5);
        assert!(out.push_event(4, m("old")));
        assert!(out.push_event(6, m("six")));
        assert!(out.push_event(7, m("seven")));
        out.raise_floor(6);
        let d = out.drain();
        assert_eq!(d.events.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [7]);
        assert!(!d.overflowed);
        assert!(out.push_event(7, m("again")), "a duplicate is skipped, not an overflow");
        assert!(out.is_empty());
    }

    #[test]
    fn positions_coalesce_latest_wins_in_first_moved_order() {
        let mut out = Outbox::new(2, 0);
        for i in 0..1000 {
            out.push_position(WorkerId(1), m(&format!("w1 at {i}")));
            out.push_position(WorkerId(2), m(&format!("w2 at {i}")));
        }
        assert_eq!(out.len(), 2, "a thousand moves of two workers hold two messages");
        let d = out.drain();
        assert_eq!(d.positions, vec![m("w1 at 999"), m("w2 at 999")]);
        assert!(out.is_empty());
    }

    #[test]
    fn a_full_queue_overflows_once_and_takes_nothing_more() {
        let mut out = Outbox::new(3, 0);
        for seq in 1..=3 {
            assert!(out.push_event(seq, m("e")));
        }
        assert!(!out.push_event(4, m("e")), "the fourth does not fit");
        assert!(!out.push_event(5, m("e")));
        assert_eq!(out.len(), 0, "the queue is dropped, so memory stays bounded");
        let d = out.drain();
        assert!(d.overflowed && d.events.is_empty());
    }
}
