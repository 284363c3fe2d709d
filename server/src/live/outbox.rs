//! One subscriber's bounded queue between the hub and its socket.
//!
//! Events (which carry a sequence number) queue in order, up to a count and a byte size; positions are
//! coalesced, the latest per worker winning, so a burst of positions never grows the queue. An event is
//! never dropped silently: when the queue is full, or the bytes queued to every socket together reach
//! the server-wide [`Budget`], the outbox drops everything queued, stops taking events and reports
//! `overflowed`, and the socket side tells the client to resync from the last sequence it sent. Memory
//! for a subscriber is therefore bounded by its byte cap plus one position per worker, and for all of
//! them by the budget.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

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
    /// One `tiles_invalidated` message per layer with tiles touched since the last drain.
    pub tiles: Vec<Arc<str>>,
}

/// The bytes of events queued to every websocket together, against a server-wide cap.
#[derive(Debug)]
pub struct Budget {
    used: AtomicUsize,
    cap: usize,
}

impl Budget {
    #[must_use]
    pub fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            used: AtomicUsize::new(0),
            cap,
        })
    }

    /// Takes `bytes` from the budget; `false` (and nothing taken) when they do not fit.
    fn take(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|&total| total <= self.cap)
            })
            .is_ok()
    }

    fn give(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// Bytes of events queued now, over every subscriber.
    #[must_use]
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    /// The server-wide cap.
    #[must_use]
    pub fn cap(&self) -> usize {
        self.cap
    }
}

/// How much one outbox may hold.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Events queued at most.
    pub events: usize,
    /// Bytes of events queued at most.
    pub bytes: usize,
    /// The server-wide budget this outbox draws on.
    pub budget: Arc<Budget>,
}

impl Limits {
    /// Limits of `events` and `bytes`, drawing on a budget of its own as large as `bytes` (for tests).
    #[must_use]
    pub fn alone(events: usize, bytes: usize) -> Self {
        Self {
            events,
            bytes,
            budget: Budget::new(bytes),
        }
    }
}

#[derive(Debug)]
pub struct Outbox {
    capacity: usize,
    max_bytes: usize,
    budget: Arc<Budget>,
    /// Bytes of the events queued (taken from the budget).
    bytes: usize,
    events: VecDeque<(i64, Arc<str>)>,
    positions: FxHashMap<WorkerId, usize>,
    position_order: Vec<(WorkerId, Arc<str>)>,
    /// Events at or below this sequence are already covered (by the snapshot or the replay).
    floor: i64,
    overflowed: bool,
    /// Tiles touched since the last drain, per layer: coalesced, so a burst costs one message a layer.
    tiles: std::collections::BTreeMap<&'static str, PendingTiles>,
}

/// Most single tiles a pending `tiles_invalidated` lists before it falls back to per-zoom ranges.
pub const MAX_LISTED_TILES: usize = 256;

/// Tiles of one layer waiting to be announced: single tiles, or (past [`MAX_LISTED_TILES`]) one
/// covering range per zoom.
#[derive(Debug, Default)]
struct PendingTiles {
    tiles: std::collections::BTreeSet<(u8, u32, u32)>,
    /// Per zoom: `[x0, y0, x1, y1]`, inclusive.
    ranges: std::collections::BTreeMap<u8, [u32; 4]>,
}

impl PendingTiles {
    fn add_range(&mut self, z: u8, r: [u32; 4]) {
        let e = self.ranges.entry(z).or_insert(r);
        *e = [
            e[0].min(r[0]),
            e[1].min(r[1]),
            e[2].max(r[2]),
            e[3].max(r[3]),
        ];
    }

    fn add(&mut self, rects: &[crate::tiles::TileRect]) {
        for r in rects {
            if self.ranges.contains_key(&r.z) || r.count() > MAX_LISTED_TILES as u64 {
                self.add_range(r.z, [r.x0, r.y0, r.x1, r.y1]);
                continue;
            }
            for t in r.tiles() {
                self.tiles.insert((t.z(), t.x(), t.y()));
            }
        }
        if self.tiles.len() > MAX_LISTED_TILES {
            for (z, x, y) in std::mem::take(&mut self.tiles) {
                self.add_range(z, [x, y, x, y]);
            }
        }
        // Tiles at a zoom that has a range already are inside it or widen it.
        let ranged: Vec<(u8, u32, u32)> = self
            .tiles
            .iter()
            .copied()
            .filter(|(z, _, _)| self.ranges.contains_key(z))
            .collect();
        for (z, x, y) in ranged {
            self.tiles.remove(&(z, x, y));
            self.add_range(z, [x, y, x, y]);
        }
    }

    fn message(&self, layer: &str) -> Arc<str> {
        let tiles: Vec<[u32; 3]> = self
            .tiles
            .iter()
            .map(|&(z, x, y)| [u32::from(z), x, y])
            .collect();
        let ranges: Vec<serde_json::Value> = self
            .ranges
            .iter()
            .map(|(z, r)| serde_json::json!({"z": z, "x": [r[0], r[2]], "y": [r[1], r[3]]}))
            .collect();
        Arc::from(serde_json::json!({"type": "tiles_invalidated", "layer": layer, "tiles": tiles, "ranges": ranges}).to_string())
    }
}

impl Outbox {
    #[must_use]
    pub fn new(limits: Limits, floor: i64) -> Self {
        Self {
            capacity: limits.events.max(1),
            max_bytes: limits.bytes,
            budget: limits.budget,
            bytes: 0,
            events: VecDeque::new(),
            positions: FxHashMap::default(),
            position_order: Vec::new(),
            floor,
            overflowed: false,
            tiles: std::collections::BTreeMap::new(),
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
        let size = message.len();
        if self.events.len() >= self.capacity
            || self.bytes + size > self.max_bytes
            || !self.budget.take(size)
        {
            self.events.clear();
            self.forget(self.bytes);
            self.overflowed = true;
            return false;
        }
        self.bytes += size;
        self.events.push_back((seq, message));
        true
    }

    /// Gives `bytes` of events no longer queued back to the budget.
    fn forget(&mut self, bytes: usize) {
        self.budget.give(bytes);
        self.bytes -= bytes;
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

    /// Notes tiles of `layer` to announce in the next drain, merged with those already waiting.
    pub fn push_tiles(&mut self, layer: &'static str, rects: &[crate::tiles::TileRect]) {
        self.tiles.entry(layer).or_default().add(rects);
    }

    /// Raises the floor: events at or below `seq` will be skipped (they were sent another way).
    pub fn raise_floor(&mut self, seq: i64) {
        self.floor = self.floor.max(seq);
        let mut dropped = 0;
        while self.events.front().is_some_and(|(s, _)| *s <= self.floor) {
            dropped += self.events.pop_front().map_or(0, |(_, m)| m.len());
        }
        self.forget(dropped);
    }

    /// Takes everything queued.
    pub fn drain(&mut self) -> Drained {
        self.positions.clear();
        let drained = Drained {
            events: self.events.drain(..).collect(),
            positions: self.position_order.drain(..).map(|(_, m)| m).collect(),
            overflowed: self.overflowed,
            tiles: std::mem::take(&mut self.tiles)
                .iter()
                .map(|(layer, p)| p.message(layer))
                .collect(),
        };
        self.forget(self.bytes);
        if let Some((seq, _)) = drained.events.last() {
            self.floor = self.floor.max(*seq);
        }
        drained
    }

    /// Bytes of the events queued now.
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Messages held now (events plus coalesced positions): what bounds a subscriber's memory.
    #[must_use]
    pub fn len(&self) -> usize {
        self.events.len() + self.position_order.len() + self.tiles.len()
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

impl Drop for Outbox {
    fn drop(&mut self) {
        self.budget.give(self.bytes);
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
        let mut out = Outbox::new(Limits::alone(10, 1 << 20), 5);
        assert!(out.push_event(4, m("old")));
        assert!(out.push_event(6, m("six")));
        assert!(out.push_event(7, m("seven")));
        out.raise_floor(6);
        let d = out.drain();
        assert_eq!(d.events.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [7]);
        assert!(!d.overflowed);
        assert!(
            out.push_event(7, m("again")),
            "a duplicate is skipped, not an overflow"
        );
        assert!(out.is_empty());
    }

    #[test]
    fn positions_coalesce_latest_wins_in_first_moved_order() {
        let mut out = Outbox::new(Limits::alone(2, 1 << 20), 0);
        for i in 0..1000 {
            out.push_position(WorkerId(1), m(&format!("w1 at {i}")));
            out.push_position(WorkerId(2), m(&format!("w2 at {i}")));
        }
        assert_eq!(
            out.len(),
            2,
            "a thousand moves of two workers hold two messages"
        );
        let d = out.drain();
        assert_eq!(d.positions, vec![m("w1 at 999"), m("w2 at 999")]);
        assert!(out.is_empty());
    }

    #[test]
    fn tiles_coalesce_per_layer_and_fall_back_to_ranges() {
        use crate::tiles::TileRect;
        let mut out = Outbox::new(Limits::alone(2, 1 << 20), 0);
        for x in 0..10 {
            out.push_tiles(
                "workers",
                &[TileRect {
                    z: 16,
                    x0: x,
                    y0: 7,
                    x1: x,
                    y1: 7,
                }],
            );
            out.push_tiles(
                "workers",
                &[TileRect {
                    z: 16,
                    x0: x,
                    y0: 7,
                    x1: x,
                    y1: 7,
                }],
            );
        }
        assert_eq!(out.len(), 1, "twenty touches of one layer hold one message");
        let d = out.drain();
        let m: serde_json::Value = serde_json::from_str(&d.tiles[0]).expect("json");
        assert_eq!(m["tiles"].as_array().map(Vec::len), Some(10));
        assert_eq!(m["tiles"][3], serde_json::json!([16, 3, 7]));
        out.push_tiles(
            "grids",
            &[TileRect {
                z: 18,
                x0: 0,
                y0: 0,
                x1: 99,
                y1: 99,
            }],
        );
        out.push_tiles(
            "grids",
            &[TileRect {
                z: 18,
                x0: 200,
                y0: 5,
                x1: 200,
                y1: 5,
            }],
        );
        let m: serde_json::Value = serde_json::from_str(&out.drain().tiles[0]).expect("json");
        assert_eq!(m["tiles"], serde_json::json!([]));
        assert_eq!(
            m["ranges"],
            serde_json::json!([{"z": 18, "x": [0, 200], "y": [0, 99]}])
        );
    }

    #[test]
    fn a_full_queue_overflows_once_and_takes_nothing_more() {
        let mut out = Outbox::new(Limits::alone(3, 1 << 20), 0);
        for seq in 1..=3 {
            assert!(out.push_event(seq, m("e")));
        }
        assert!(!out.push_event(4, m("e")), "the fourth does not fit");
        assert!(!out.push_event(5, m("e")));
        assert_eq!(
            out.len(),
            0,
            "the queue is dropped, so memory stays bounded"
        );
        let d = out.drain();
        assert!(d.overflowed && d.events.is_empty());
    }

    #[test]
    fn a_queue_past_its_bytes_overflows_and_gives_them_back() {
        let budget = Budget::new(1000);
        let limits = Limits {
            events: 100,
            bytes: 25,
            budget: Arc::clone(&budget),
        };
        let mut out = Outbox::new(limits, 0);
        assert!(out.push_event(1, m("0123456789")));
        assert!(out.push_event(2, m("0123456789")));
        assert_eq!((out.bytes(), budget.used()), (20, 20));
        assert!(
            !out.push_event(3, m("0123456789")),
            "30 bytes do not fit in 25"
        );
        assert_eq!((out.bytes(), budget.used()), (0, 0));
        assert!(out.drain().overflowed);
    }

    #[test]
    fn the_server_wide_budget_overflows_the_queue_that_would_pass_it() {
        let budget = Budget::new(25);
        let limits = |events| Limits {
            events,
            bytes: 1 << 20,
            budget: Arc::clone(&budget),
        };
        let mut a = Outbox::new(limits(100), 0);
        let mut b = Outbox::new(limits(100), 0);
        assert!(a.push_event(1, m("0123456789")));
        assert!(b.push_event(1, m("0123456789")));
        assert!(!a.push_event(2, m("0123456789")), "the budget is 25 bytes");
        assert_eq!(budget.used(), 10, "a gave its bytes back; b keeps its own");
        assert!(b.push_event(2, m("0123")));
        let d = b.drain();
        assert_eq!(d.events.len(), 2);
        assert_eq!(budget.used(), 0, "drained events leave the budget");
        assert!(b.push_event(3, m("0123456789")));
        drop(b);
        assert_eq!(
            budget.used(),
            0,
            "a subscriber that leaves gives its bytes back"
        );
        assert!(a.drain().overflowed);
    }
}
