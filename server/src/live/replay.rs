//! Replay over the websocket (回放): `{"type": "replay", from, to, speed, bbox}` plays the map back
//! from `from` to `to` at `speed` times real time, with pause, speed and seek.
//!
//! The connection first gets `replay_state` (what `GET /api/replay/state` answers at `from`, with a
//! type), then, in time order and at `speed`, each change the live stream would have sent in the bbox:
//! `replay_delta` (a live `delta` with another type) at its event's commit time, `replay_position
//! {worker, lat, lon, at}` at its fix's receipt, and `replay_clock {at}` about once a second of wall
//! time; `replay_end {at}` at `to`. During a replay the connection has no live subscription: the client
//! `subscribe`s again to go back to live.
//!
//! A [`Playback`] holds the virtual clock and a queue of messages loaded a window of [`WINDOW`] virtual
//! time at a time (at most [`PAGE`] events and fixes a window), so a week at 3,600× holds minutes of
//! messages, not the week. Its filter and scope are the live stream's own (`Filter::admits_at`).

use std::collections::VecDeque;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value, json};
use tokio::time::{Duration, Instant};

use super::filter::{Filter, FilterRequest, Item, Layer};
use super::hub::items_of;
use crate::domain::{GridId, Principal};
use crate::state::AppState;
use crate::store::StoreError;
use crate::world::Visibility;

/// The virtual time loaded at once.
const WINDOW: TimeDelta = TimeDelta::minutes(10);
/// Most events, and most fixes, loaded for one window.
const PAGE: u32 = 2_000;
/// The fastest replay: an hour a second.
pub const MAX_SPEED: u32 = 3_600;
/// How often `replay_clock` is sent, wall time.
const CLOCK_EVERY: Duration = Duration::from_secs(1);

/// A refused replay message: status, problem slug, detail.
pub type Refusal = (u16, &'static str, String);

/// A checked `replay` request.
#[derive(Debug, Clone)]
pub struct Request {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub speed: u32,
    pub bbox: [f64; 4],
}

/// Reads a time field: an RFC 3339 string.
fn time(object: &Map<String, Value>, field: &str) -> Result<DateTime<Utc>, Refusal> {
    let text = object.get(field).and_then(Value::as_str).ok_or_else(|| {
        (
            400,
            "invalid-time",
            format!("{field} must be an RFC 3339 time"),
        )
    })?;
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| (400, "invalid-time", format!("{field} {text:?}: {e}")))
}

/// Reads `speed`: a whole number in `1..=MAX_SPEED`.
pub fn speed(object: &Map<String, Value>) -> Result<u32, Refusal> {
    object
        .get("speed")
        .and_then(Value::as_u64)
        .and_then(|s| u32::try_from(s).ok())
        .filter(|s| (1..=MAX_SPEED).contains(s))
        .ok_or_else(|| {
            (
                422,
                "invalid-speed",
                format!("speed must be a whole number in 1..={MAX_SPEED} (times real time)"),
            )
        })
}

impl Request {
    /// Checks `{from, to, speed, bbox}` against `now`.
    pub fn check(object: &Map<String, Value>, now: DateTime<Utc>) -> Result<Self, Refusal> {
        if let Some(unknown) = object
            .keys()
            .find(|k| !["from", "to", "speed", "bbox"].contains(&k.as_str()))
        {
            return Err((400, "invalid-message", format!("unknown field {unknown:?}")));
        }
        let (from, to) = (time(object, "from")?, time(object, "to")?);
        if from > to {
            return Err((
                422,
                "invalid-range",
                format!("from ({from}) is after to ({to})"),
            ));
        }
        if to > now {
            return Err((
                422,
                "replay-in-future",
                format!("to ({to}) is after now ({now}); use the live map"),
            ));
        }
        let speed = speed(object)?;
        let numbers: Option<Vec<f64>> = object
            .get("bbox")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_f64).collect());
        let text = numbers
            .filter(|n| n.len() == 4 && object["bbox"].as_array().is_some_and(|a| a.len() == 4))
            .map(|n| format!("{},{},{},{}", n[0], n[1], n[2], n[3]))
            .ok_or_else(|| {
                (
                    400,
                    "invalid-bbox",
                    "bbox is [minLon, minLat, maxLon, maxLat], degrees".to_owned(),
                )
            })?;
        let bbox = crate::api::Bbox::parse(&text)
            .map_err(|e| (400, "invalid-bbox", e.detail))?
            .0;
        let max = crate::replay::MAX_SPAN_DEG;
        if bbox[2] - bbox[0] > max || bbox[3] - bbox[1] > max {
            return Err((
                422,
                "replay-area-too-large",
                format!("a replay covers at most {max}° each way"),
            ));
        }
        Ok(Self {
            from,
            to,
            speed,
            bbox,
        })
    }
}

/// A replay in progress on one connection.
#[derive(Debug)]
pub struct Playback {
    filter: Filter,
    visibility: Visibility,
    to: DateTime<Utc>,
    speed: u32,
    paused: bool,
    /// The virtual time at `anchor`.
    at: DateTime<Utc>,
    anchor: Instant,
    /// Messages due at their virtual time, in order.
    queue: VecDeque<(DateTime<Utc>, String)>,
    /// The virtual time loaded up to, and the last event loaded.
    loaded_to: DateTime<Utc>,
    loaded_seq: i64,
    clock_sent: Instant,
    pub bbox: [f64; 4],
}

impl Playback {
    /// A replay of `request`, its map at `from` read at seq `seq`.
    #[must_use]
    pub fn new(request: &Request, principal: &Principal, visibility: Visibility, seq: i64) -> Self {
        let filter = Filter::check(
            FilterRequest {
                bbox: Some(request.bbox),
                ..FilterRequest::default()
            },
            |_| true,
            |_| None::<std::iter::Empty<GridId>>,
            principal.worker,
        )
        .unwrap_or_default();
        let now = Instant::now();
        Self {
            filter,
            visibility,
            to: request.to,
            speed: request.speed,
            paused: false,
            at: request.from,
            anchor: now,
            queue: VecDeque::new(),
            loaded_to: request.from,
            loaded_seq: seq,
            clock_sent: now,
            bbox: request.bbox,
        }
    }

    /// The virtual time now.
    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        if self.paused {
            return self.at;
        }
        let wall = self.anchor.elapsed().as_secs_f64() * f64::from(self.speed);
        let virtual_ms = (wall * 1000.0).min(1e15);
        // A float of at most 1e15 ms, whole: exact in i64.
        #[allow(clippy::cast_possible_truncation)]
        let elapsed = TimeDelta::milliseconds(virtual_ms as i64);
        (self.at + elapsed).min(self.to)
    }

    /// When the connection should next look: the next message's due time, the next clock, or now when
    /// more must be loaded. `None` while paused.
    #[must_use]
    pub fn wake(&self) -> Option<Instant> {
        if self.paused {
            return None;
        }
        let clock = self.clock_sent + CLOCK_EVERY;
        let due = match self.queue.front() {
            Some((at, _)) => {
                let ahead = (*at - self.now()).num_milliseconds().max(0);
                let wall_ms = u64::try_from(ahead).unwrap_or(0) / u64::from(self.speed);
                Instant::now() + Duration::from_millis(wall_ms)
            }
            None if self.loaded_to < self.to => {
                // The next window is loaded when the clock is one window from its start, so a
                // sparse week is not read ahead all at once.
                let ahead = (self.loaded_to - WINDOW - self.now())
                    .num_milliseconds()
                    .max(0);
                let wall_ms = u64::try_from(ahead).unwrap_or(0) / u64::from(self.speed);
                Instant::now() + Duration::from_millis(wall_ms)
            }
            None => Instant::now() + Duration::from_millis(self.until_end_ms()),
        };
        Some(due.min(clock))
    }

    fn until_end_ms(&self) -> u64 {
        let ahead = (self.to - self.now()).num_milliseconds().max(0);
        u64::try_from(ahead).unwrap_or(0) / u64::from(self.speed)
    }

    pub fn pause(&mut self) {
        self.at = self.now();
        self.anchor = Instant::now();
        self.paused = true;
    }

    pub fn resume(&mut self) {
        self.anchor = Instant::now();
        self.paused = false;
    }

    pub fn set_speed(&mut self, speed: u32) {
        self.at = self.now();
        self.anchor = Instant::now();
        self.speed = speed;
    }

    /// Moves the virtual clock to `at`, whose map was read at `seq`; what was queued is dropped.
    pub fn seek(&mut self, at: DateTime<Utc>, seq: i64) {
        self.at = at;
        self.anchor = Instant::now();
        self.queue.clear();
        self.loaded_to = at;
        self.loaded_seq = seq;
    }

    /// The last moment of the replay.
    #[must_use]
    pub fn to(&self) -> DateTime<Utc> {
        self.to
    }

    /// What is due now, in order, and a `replay_clock` when one is due; `None` once the replay has
    /// reached its end with nothing left (the caller sends `replay_end`).
    pub fn due(&mut self) -> Option<Vec<String>> {
        let now = self.now();
        let mut out = Vec::new();
        while self.queue.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, message)) = self.queue.pop_front() {
                out.push(message);
            }
        }
        if self.clock_sent.elapsed() >= CLOCK_EVERY {
            self.clock_sent = Instant::now();
            out.push(json!({"type": "replay_clock", "at": now}).to_string());
        }
        if self.queue.is_empty() && self.loaded_to >= self.to && now >= self.to {
            return None;
        }
        Some(out)
    }

    /// Whether the next window must be loaded now: nothing queued is left, the end is not loaded, and
    /// the clock is within a window of what is loaded.
    #[must_use]
    pub fn needs_load(&self) -> bool {
        self.queue.is_empty() && self.loaded_to < self.to && self.loaded_to - WINDOW <= self.now()
    }

    /// Loads the next window of virtual time: the events committed and the fixes received in it, each
    /// as the message the live stream would have sent this viewer.
    pub async fn load(
        &mut self,
        state: &AppState,
        principal: &Principal,
    ) -> Result<(), StoreError> {
        let store = state.store();
        let mut until = (self.loaded_to + WINDOW).min(self.to);
        let last = store.seq_at(until).await?.unwrap_or(self.loaded_seq);
        let mut events = Vec::new();
        if last > self.loaded_seq {
            events = store.events_since(self.loaded_seq, PAGE).await?;
            events.retain(|e| e.seq <= last);
            if let Some(end) = events.last().filter(|_| events.len() == PAGE as usize) {
                // A full page: the window ends at its last event.
                until = end.at.max(self.loaded_to);
            }
        }
        let fixes = store.fixes_between(self.loaded_to, until, PAGE).await?;
        let until = match fixes.last() {
            Some((_, _, received)) if fixes.len() == PAGE as usize => until.min(*received),
            _ => until,
        };
        let mut loaded: Vec<(DateTime<Utc>, String)> = Vec::new();
        {
            let world = state.world();
            let me_at = principal
                .worker
                .and_then(|w| world.position(w))
                .map(|p| (p.lat, p.lon));
            let admits = |item: &Item| {
                self.filter
                    .admits_at(item, &self.visibility, principal.worker, me_at)
            };
            for event in events.iter().filter(|e| e.at <= until) {
                for (item, delta) in items_of(&world, event) {
                    if !admits(&item) {
                        continue;
                    }
                    if let Ok(Value::Object(mut message)) =
                        serde_json::from_str::<Value>(delta.for_viewer(principal))
                    {
                        message.insert("type".into(), json!("replay_delta"));
                        loaded.push((event.at, Value::Object(message).to_string()));
                    }
                }
                self.loaded_seq = event.seq;
            }
            for (worker, position, received) in fixes.iter().filter(|f| f.2 <= until) {
                let grids = world
                    .worker(*worker)
                    .map(|w| w.grids.iter().map(|d| d.grid_id).collect())
                    .unwrap_or_default();
                let item = Item {
                    layer: Layer::Workers,
                    point: Some((position.lat, position.lon)),
                    grids,
                    workers: [Some(*worker), None, None],
                    open: true,
                };
                if admits(&item) {
                    loaded.push((
                        *received,
                        json!({"type": "replay_position", "worker": worker, "lat": position.lat,
                            "lon": position.lon, "at": position.at})
                        .to_string(),
                    ));
                }
            }
        }
        // Events before fixes at the same moment, as the live stream sends them.
        loaded.sort_by_key(|(at, _)| *at);
        self.queue.extend(loaded);
        self.loaded_to = until
            .max(self.loaded_to + TimeDelta::milliseconds(1))
            .min(self.to);
        Ok(())
    }
}
