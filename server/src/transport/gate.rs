//! The connection cap: how many connections are open at once, and which one gives way at the cap.
//!
//! A connection is *idle* while it has no request in flight: before its first request head is complete
//! (a TLS handshake included), and between keep-alive requests. It is *busy* from a complete head until
//! its response body is sent, and for good once upgraded (a websocket). At the cap a new connection
//! takes the place of the one idle longest, so connections that send half a header cannot lock anyone
//! out: each new client pushes the oldest of them off. Only when every connection is busy is the new
//! one refused. Each connection also ends after being idle for the header-read timeout
//! ([`Slot::dismissed`]).
//!
//! Must not know HTTP: `transport` tells it when a request starts and ends.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// The open connections. Every method takes a std lock for a few map operations and never awaits.
pub struct Gate {
    max: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    /// Stamps the order connections became idle in; the smallest is the longest idle.
    next_stamp: u64,
    open: HashMap<u64, Conn>,
    /// Idle connections by the stamp of when they became idle.
    idle: BTreeMap<u64, u64>,
}

struct Conn {
    busy: u32,
    upgraded: bool,
    /// The key in `idle` while idle.
    stamp: Option<u64>,
    idle_since: Instant,
    wake: Arc<Notify>,
}

/// Why a connection should end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dismissal {
    /// Idle for the header-read timeout.
    Idle,
    /// Pushed off by a new connection at the cap.
    Evicted,
}

impl Gate {
    #[must_use]
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max: max.max(1),
            inner: Mutex::new(Inner::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Admits a new connection, evicting the longest idle one at the cap; `None` when every open
    /// connection is busy. The answer says whether one was evicted.
    pub fn admit(self: &Arc<Self>) -> Option<(Ticket, bool)> {
        let mut inner = self.lock();
        let mut evicted = false;
        if inner.open.len() >= self.max {
            let (_, id) = inner.idle.pop_first()?;
            // It no longer counts; its task ends on the notification.
            if let Some(conn) = inner.open.remove(&id) {
                conn.wake.notify_one();
                evicted = true;
            }
        }
        let id = inner.next_id;
        inner.next_id += 1;
        let stamp = inner.next_stamp;
        inner.next_stamp += 1;
        let wake = Arc::new(Notify::new());
        inner.open.insert(
            id,
            Conn {
                busy: 0,
                upgraded: false,
                stamp: Some(stamp),
                idle_since: Instant::now(),
                wake: Arc::clone(&wake),
            },
        );
        inner.idle.insert(stamp, id);
        Some((
            Ticket {
                slot: Slot {
                    gate: Arc::clone(self),
                    id,
                    wake,
                },
            },
            evicted,
        ))
    }

    /// Connections open (admitted and not yet ended or evicted).
    #[must_use]
    pub fn open(&self) -> usize {
        self.lock().open.len()
    }

    fn begin(&self, id: u64) {
        let mut inner = self.lock();
        let Some(conn) = inner.open.get_mut(&id) else {
            return;
        };
        conn.busy += 1;
        if let Some(stamp) = conn.stamp.take() {
            inner.idle.remove(&stamp);
        }
    }

    fn end(&self, id: u64) {
        let mut inner = self.lock();
        let stamp = inner.next_stamp;
        let Some(conn) = inner.open.get_mut(&id) else {
            return;
        };
        conn.busy = conn.busy.saturating_sub(1);
        if conn.busy > 0 || conn.upgraded {
            return;
        }
        conn.stamp = Some(stamp);
        conn.idle_since = Instant::now();
        conn.wake.notify_one();
        inner.next_stamp += 1;
        inner.idle.insert(stamp, id);
    }

    fn upgraded(&self, id: u64) {
        if let Some(conn) = self.lock().open.get_mut(&id) {
            conn.upgraded = true;
        }
    }

    /// `None` while busy; the instant it became idle; or why it must end.
    fn status(&self, id: u64) -> Result<Option<Instant>, Dismissal> {
        let inner = self.lock();
        match inner.open.get(&id) {
            None => Err(Dismissal::Evicted),
            Some(conn) if conn.busy > 0 || conn.upgraded => Ok(None),
            Some(conn) => Ok(Some(conn.idle_since)),
        }
    }

    fn remove(&self, id: u64) {
        let mut inner = self.lock();
        if let Some(conn) = inner.open.remove(&id)
            && let Some(stamp) = conn.stamp
        {
            inner.idle.remove(&stamp);
        }
    }
}

/// A connection's place under the cap; it frees the place when dropped. `transport` keeps it inside the
/// connection's IO, so an upgraded connection (a websocket) holds its place until the socket closes.
pub struct Ticket {
    slot: Slot,
}

impl Ticket {
    /// A handle to report requests and wait for a dismissal.
    #[must_use]
    pub fn slot(&self) -> Slot {
        self.slot.clone()
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.slot.gate.remove(self.slot.id);
    }
}

/// A handle on one admitted connection.
#[derive(Clone)]
pub struct Slot {
    gate: Arc<Gate>,
    id: u64,
    wake: Arc<Notify>,
}

impl Slot {
    /// A request is in flight until the guard drops (with its response body).
    #[must_use]
    pub fn busy(&self) -> Busy {
        self.gate.begin(self.id);
        Busy(self.clone())
    }

    /// The connection was upgraded: it is busy for the rest of its life.
    pub fn upgraded(&self) {
        self.gate.upgraded(self.id);
    }

    /// Resolves when the connection should end: evicted, or idle for `idle_limit`.
    pub async fn dismissed(&self, idle_limit: Duration) -> Dismissal {
        loop {
            let woken = self.wake.notified();
            tokio::pin!(woken);
            // Registered before reading the status, so a change between the two is not missed.
            woken.as_mut().enable();
            match self.gate.status(self.id) {
                Err(why) => return why,
                Ok(None) => woken.await,
                Ok(Some(since)) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(since + idle_limit) => {
                            if self.gate.status(self.id) == Ok(Some(since)) {
                                return Dismissal::Idle;
                            }
                        }
                        () = &mut woken => {}
                    }
                }
            }
        }
    }
}

/// A request in flight on a connection; dropping it ends the request.
pub struct Busy(Slot);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.gate.end(self.0.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_cap_the_longest_idle_gives_way_and_busy_ones_never_do() {
        let gate = Gate::new(3);
        let (a, _) = gate.admit().unwrap();
        let (b, _) = gate.admit().unwrap();
        let (c, _) = gate.admit().unwrap();
        assert_eq!(gate.open(), 3);
        // a and c are serving requests; b is idle (say, half a header).
        let _a_busy = a.slot().busy();
        let _c_busy = c.slot().busy();
        let (d, evicted) = gate.admit().unwrap();
        assert!(evicted);
        assert_eq!(gate.status(b.slot.id), Err(Dismissal::Evicted));
        assert_eq!(gate.open(), 3);
        // d is idle now, so it gives way next.
        let (_e, evicted) = gate.admit().unwrap();
        assert!(evicted);
        assert_eq!(gate.status(d.slot.id), Err(Dismissal::Evicted));
        drop(d);
        drop(b);
        assert_eq!(gate.open(), 3);
    }

    #[test]
    fn when_every_connection_is_busy_a_new_one_is_refused_until_one_ends() {
        let gate = Gate::new(2);
        let (a, _) = gate.admit().unwrap();
        let (b, _) = gate.admit().unwrap();
        let a_busy = a.slot().busy();
        b.slot().upgraded();
        let b_busy = b.slot().busy();
        drop(b_busy);
        // b is a websocket: busy for good even with no request in flight.
        assert!(gate.admit().is_none());
        drop(a_busy);
        // a is idle between requests now: it gives way.
        let (_c, evicted) = gate.admit().unwrap();
        assert!(evicted);
        drop(a);
        drop(b);
        assert_eq!(gate.open(), 1);
        let (_d, evicted) = gate.admit().unwrap();
        assert!(!evicted);
    }

    #[test]
    fn the_oldest_idle_is_the_one_idle_longest_not_the_one_admitted_first() {
        let gate = Gate::new(2);
        let (a, _) = gate.admit().unwrap();
        let (b, _) = gate.admit().unwrap();
        // a served a request and went idle again after b was admitted: b has been idle longer.
        drop(a.slot().busy());
        let (_c, evicted) = gate.admit().unwrap();
        assert!(evicted);
        assert_eq!(gate.status(b.slot.id), Err(Dismissal::Evicted));
        assert!(gate.status(a.slot.id).is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_is_dismissed_after_the_limit_and_a_busy_one_is_not() {
        let gate = Gate::new(4);
        let (a, _) = gate.admit().unwrap();
        let limit = Duration::from_secs(10);
        let started = Instant::now();
        assert_eq!(a.slot().dismissed(limit).await, Dismissal::Idle);
        assert_eq!(started.elapsed(), limit);

        // Busy for 30 s, then idle: dismissed 10 s after the request ended.
        let (b, _) = gate.admit().unwrap();
        let busy = b.slot().busy();
        let slot = b.slot();
        let waiting = tokio::spawn(async move {
            let started = Instant::now();
            let why = slot.dismissed(limit).await;
            (why, started.elapsed())
        });
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(busy);
        let (why, after) = waiting.await.unwrap();
        assert_eq!(why, Dismissal::Idle);
        assert_eq!(after, Duration::from_secs(40));
    }

    #[tokio::test(start_paused = true)]
    async fn an_evicted_connection_is_told_at_once() {
        let gate = Gate::new(1);
        let (a, _) = gate.admit().unwrap();
        let slot = a.slot();
        let waiting = tokio::spawn(async move { slot.dismissed(Duration::from_mins(1)).await });
        tokio::task::yield_now().await;
        let (_b, evicted) = gate.admit().unwrap();
        assert!(evicted);
        assert_eq!(waiting.await.unwrap(), Dismissal::Evicted);
    }
}
