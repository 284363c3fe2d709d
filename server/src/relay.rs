//! The position relay between nodes (issue 20, point 3): positions are far too many for the event log,
//! so each node hands the fixes it stored to NATS, and every other node takes from NATS the fixes its
//! own websocket subscribers watch.
//!
//! - **Subjects.** A fix goes out on `gridwatch.pos.<cell>.<worker>`, `<cell>` being the coarse H3
//!   cell the hub files it under (`live::hub::routing_cell`: resolution 7, about 5 km², the parent of
//!   its resolution-9 cell), in hex. A node
//!   subscribes to what its subscribers watch ([`crate::live::hub::Interest`]): `gridwatch.pos.<cell>.*`
//!   for each cell a bbox or circle covers, `gridwatch.pos.*.<worker>` for each worker a scope or a
//!   `mine` follows, and `gridwatch.pos.>` once anybody watches everything. It follows them as
//!   subscriptions come and go, and every [`INTEREST_EVERY`] for changes of who works which grid.
//! - **The world.** Every node also keeps every worker's latest position (nearby, routing, the
//!   workers tile layer), whatever its subscribers watch: once a [`MOVED_EVERY`], each node sends on
//!   [`MOVED`] the latest unflagged position of each worker that reported through it, and every node
//!   takes all of them. A position older than the one a world holds is never taken.
//! - **Acknowledged means stored.** Only fixes the store has committed are handed on (`tracking`), and
//!   handing on never waits: when NATS is slow or away the batch is dropped and counted
//!   (`gridwatch_nats_dropped_total`). A fix lost that way is still stored and the next one of its
//!   worker moves it on; events never travel here (they are the log's, see `follow`), so NATS going
//!   away delays positions between nodes and nothing else.
//!
//! Core NATS, not `JetStream`: a replay of old positions is worth nothing to a live map, and what must
//! not be lost is already in PostgreSQL before it is published. The client reconnects by itself and
//! subscribes again; `gridwatch_nats_connected` says whether it is connected now. With no
//! `--nats-url` (the embedded single node), there is no relay.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::{Client, ConnectOptions, Event as NatsEvent, Message};
use futures_util::StreamExt;
use h3o::LatLng;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::core::{Core, WeakCore};
use crate::domain::{Fix, WorkerId};
use crate::live::hub::Interest;
use crate::services::Shutdown;
use crate::world::Position;

/// The subject of the latest positions every node takes.
pub const MOVED: &str = "gridwatch.moved";
/// The prefix of the fixes' subjects.
pub const POSITIONS: &str = "gridwatch.pos";
/// How often a node sends the latest position of each worker that reported through it.
pub const MOVED_EVERY: Duration = Duration::from_secs(1);
/// Latest positions in one [`MOVED`] message: about 100 bytes each, so about 400 KB.
const MOVED_PER_MESSAGE: usize = 4096;
/// How often the subjects are checked against the world (workers moved to other grids) when no
/// subscription came or went.
const INTEREST_EVERY: Duration = Duration::from_secs(1);
/// Stored batches waiting to be handed on; past it they are dropped and counted.
const OUTBOUND_QUEUE: usize = 4096;
/// Messages received and not yet routed.
const INBOUND_QUEUE: usize = 65_536;
/// Messages routed to the hub in one go.
const INBOUND_BATCH: usize = 4096;
/// The longest one publish may wait for the client (NATS away and its buffer full) before its batch
/// is dropped.
const PUBLISH_WAIT: Duration = Duration::from_secs(1);
/// More cell and worker subjects than this and the node takes everything instead.
const MAX_SUBJECTS: usize = 8192;

/// Where the relay connects and under what name.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `nats://host:port` (credentials, when the server wants them, in the URL).
    pub url: String,
    /// This node's name, as NATS and the logs show it.
    pub node: String,
}

/// The handle `tracking` hands stored fixes to. Cheap to clone; does nothing without a relay.
#[derive(Clone, Default)]
pub struct Relay {
    out: Option<mpsc::Sender<Vec<Fix>>>,
}

impl Relay {
    /// Hands on a batch the store has committed. Never waits: a batch the relay has no room for is
    /// dropped and counted.
    pub fn publish(&self, fixes: &[Fix]) {
        let Some(out) = &self.out else { return };
        if out.try_send(last_of_each(fixes)).is_err() {
            metrics::counter!("gridwatch_nats_dropped_total", "why" => "queue").increment(1);
        }
    }
}

/// Each worker's last fix of a batch, in batch order: the hub keeps only the latest of a worker anyway.
fn last_of_each(fixes: &[Fix]) -> Vec<Fix> {
    let mut last: FxHashMap<WorkerId, usize> = FxHashMap::default();
    for (i, fix) in fixes.iter().enumerate() {
        last.insert(fix.worker, i);
    }
    let mut order: Vec<usize> = last.into_values().collect();
    order.sort_unstable();
    order.into_iter().map(|i| fixes[i].clone()).collect()
}

/// A worker's latest position, as [`MOVED`] carries it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Moved {
    worker: WorkerId,
    lat: f64,
    lon: f64,
    at: chrono::DateTime<chrono::Utc>,
}

/// The subject a fix goes out on, keyed by the cell the hub files it under
/// ([`crate::live::hub::routing_cell`]); `None` for a point H3 cannot index (the store has refused it
/// before).
#[must_use]
pub fn subject_of(fix: &Fix) -> Option<String> {
    let cell = crate::live::hub::routing_cell(fix.lat, fix.lon)?;
    Some(format!("{POSITIONS}.{cell}.{}", fix.worker))
}

/// The subjects that carry what `interest` wants.
#[must_use]
pub fn subjects_of(interest: &Interest) -> FxHashSet<String> {
    if interest.everywhere || interest.cells.len() + interest.workers.len() > MAX_SUBJECTS {
        return [format!("{POSITIONS}.>")].into_iter().collect();
    }
    let cells = interest.cells.iter().map(|c| format!("{POSITIONS}.{c}.*"));
    let workers = interest
        .workers
        .iter()
        .map(|w| format!("{POSITIONS}.*.{w}"));
    cells.chain(workers).collect()
}

/// Starts the relay on `core` when `settings` name a NATS server; the handle is inert otherwise.
pub(crate) fn start(
    core: &Core,
    settings: Option<Settings>,
    shutdown: &Shutdown,
) -> (Relay, Option<JoinHandle<()>>) {
    let Some(settings) = settings else {
        return (Relay::default(), None);
    };
    let (out, outbound) = mpsc::channel(OUTBOUND_QUEUE);
    metrics::gauge!("gridwatch_nats_connected").set(0.0);
    let task = tokio::spawn(run(core.downgrade(), settings, outbound, shutdown.clone()));
    (Relay { out: Some(out) }, Some(task))
}

/// Connects (in the background: a node starts while NATS is away, and the client keeps reconnecting;
/// the state is the `gridwatch_nats_connected` gauge), then sends and receives until `shutdown`.
async fn run(
    core: WeakCore,
    settings: Settings,
    outbound: mpsc::Receiver<Vec<Fix>>,
    shutdown: Shutdown,
) {
    let Some(connected) = core.upgrade().map(|core| core.nats_connected_flag()) else {
        return;
    };
    let options = ConnectOptions::new()
        .name(&settings.node)
        // A node routes its own fixes itself, at once: NATS need not send them back.
        .no_echo()
        .retry_on_initial_connect()
        .event_callback(move |event| {
            let connected = Arc::clone(&connected);
            async move {
                match event {
                    NatsEvent::Connected => {
                        tracing::info!("connected to NATS");
                        connected.store(true, Ordering::Relaxed);
                        metrics::gauge!("gridwatch_nats_connected").set(1.0);
                    }
                    NatsEvent::Disconnected => {
                        tracing::warn!("disconnected from NATS; positions between nodes wait");
                        connected.store(false, Ordering::Relaxed);
                        metrics::gauge!("gridwatch_nats_connected").set(0.0);
                    }
                    other => tracing::debug!(event = %other, "NATS"),
                }
            }
        });
    let client = match options.connect(settings.url.as_str()).await {
        Ok(client) => client,
        Err(error) => {
            // `retry_on_initial_connect` fails only for an address it cannot use; `serve` checked it.
            tracing::error!(%error, "NATS; positions will not reach other nodes");
            return;
        }
    };
    let (inbound_tx, inbound) = mpsc::channel(INBOUND_QUEUE);
    tokio::join!(
        send(client.clone(), outbound, shutdown.clone()),
        receive(core, client, inbound_tx, inbound, shutdown),
    );
}

/// Sends stored fixes on their subjects and, every [`MOVED_EVERY`], the latest unflagged position of
/// each worker that reported since.
async fn send(client: Client, mut outbound: mpsc::Receiver<Vec<Fix>>, mut shutdown: Shutdown) {
    let mut moved: FxHashMap<WorkerId, Moved> = FxHashMap::default();
    let mut tick = tokio::time::interval(MOVED_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.stopping() => return,
            batch = outbound.recv() => {
                let Some(batch) = batch else { return };
                let mut sent = 0u64;
                for fix in &batch {
                    if !fix.is_flagged() {
                        let entry = moved.entry(fix.worker).or_insert(Moved {
                            worker: fix.worker, lat: fix.lat, lon: fix.lon, at: fix.at,
                        });
                        if entry.at <= fix.at {
                            *entry = Moved { worker: fix.worker, lat: fix.lat, lon: fix.lon, at: fix.at };
                        }
                    }
                    let (Some(subject), Ok(body)) = (subject_of(fix), serde_json::to_vec(fix)) else {
                        continue;
                    };
                    if !publish(&client, subject, body).await {
                        break;
                    }
                    sent += 1;
                }
                metrics::counter!("gridwatch_nats_published_total").increment(sent);
            }
            _ = tick.tick() => {
                if moved.is_empty() {
                    continue;
                }
                // In messages well under NATS's default 1 MB payload cap, whatever the city.
                let latest: Vec<Moved> = moved.drain().map(|(_, m)| m).collect();
                for chunk in latest.chunks(MOVED_PER_MESSAGE) {
                    if let Ok(body) = serde_json::to_vec(chunk) {
                        publish(&client, MOVED.to_owned(), body).await;
                    }
                }
            }
        }
    }
}

/// Publishes one message, waiting at most [`PUBLISH_WAIT`]; `false` (and counted) when it could not.
async fn publish(client: &Client, subject: String, body: Vec<u8>) -> bool {
    match tokio::time::timeout(PUBLISH_WAIT, client.publish(subject, body.into())).await {
        Ok(Ok(())) => true,
        Ok(Err(error)) => {
            tracing::debug!(%error, "publishing to NATS");
            metrics::counter!("gridwatch_nats_dropped_total", "why" => "refused").increment(1);
            false
        }
        Err(_) => {
            metrics::counter!("gridwatch_nats_dropped_total", "why" => "waited").increment(1);
            false
        }
    }
}

/// Keeps this node subscribed to what its websocket subscribers watch (and to [`MOVED`]), and routes
/// what arrives to the world, the tiles and the hub.
async fn receive(
    core: WeakCore,
    client: Client,
    inbound_tx: mpsc::Sender<Message>,
    mut inbound: mpsc::Receiver<Message>,
    mut shutdown: Shutdown,
) {
    let mut subscribed: FxHashMap<String, JoinHandle<()>> = FxHashMap::default();
    subscribe(&client, MOVED.to_owned(), &inbound_tx, &mut subscribed).await;
    let mut tick = tokio::time::interval(INTEREST_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let hub = match core.upgrade() {
        Some(core) => Arc::clone(core.hub()),
        None => return,
    };
    let mut batch = Vec::with_capacity(INBOUND_BATCH);
    loop {
        tokio::select! {
            () = shutdown.stopping() => break,
            () = hub.watched_changed() => {}
            _ = tick.tick() => {}
            received = inbound.recv_many(&mut batch, INBOUND_BATCH) => {
                if received == 0 {
                    break;
                }
                let Some(core) = core.upgrade() else { break };
                route(&core, batch.drain(..));
                continue;
            }
        }
        let Some(core) = core.upgrade() else { break };
        let wanted = {
            let world = core.world();
            let mut wanted = subjects_of(&hub.interest(&world));
            wanted.insert(MOVED.to_owned());
            wanted
        };
        subscribed.retain(|subject, task| {
            let keep = wanted.contains(subject);
            if !keep {
                // Dropping the subscriber (with its task) unsubscribes.
                task.abort();
            }
            keep
        });
        for subject in wanted {
            if !subscribed.contains_key(&subject) {
                subscribe(&client, subject, &inbound_tx, &mut subscribed).await;
            }
        }
        metrics::gauge!("gridwatch_nats_subjects").set(f64::from(
            u32::try_from(subscribed.len()).unwrap_or(u32::MAX),
        ));
    }
    for task in subscribed.into_values() {
        task.abort();
    }
}

/// Subscribes to `subject`, forwarding what arrives into `inbound` from a task of its own.
async fn subscribe(
    client: &Client,
    subject: String,
    inbound: &mpsc::Sender<Message>,
    subscribed: &mut FxHashMap<String, JoinHandle<()>>,
) {
    match client.subscribe(subject.clone()).await {
        Ok(mut messages) => {
            let inbound = inbound.clone();
            let task = tokio::spawn(async move {
                while let Some(message) = messages.next().await {
                    if inbound.send(message).await.is_err() {
                        return;
                    }
                }
            });
            subscribed.insert(subject, task);
        }
        // Tried again at the next tick.
        Err(error) => tracing::warn!(%error, subject, "subscribing on NATS"),
    }
}

/// Routes what other nodes sent: fixes to the hub, and positions newer than the world's into the world
/// and the workers tiles (`Core::track`, as for this node's own).
fn route(core: &Core, messages: impl Iterator<Item = Message>) {
    let mut fixes = Vec::new();
    let mut latest: FxHashMap<WorkerId, Position> = FxHashMap::default();
    let mut received = 0u64;
    {
        let world = core.world();
        let newer = |worker: WorkerId, at| world.position(worker).is_none_or(|p| p.at <= at);
        let mut take = |worker: WorkerId, position: Position| {
            if newer(worker, position.at) && world.worker(worker).is_some() {
                let entry = latest.entry(worker).or_insert(position);
                if entry.at <= position.at {
                    *entry = position;
                }
            }
        };
        for message in messages {
            received += 1;
            if message.subject.as_str() == MOVED {
                let Ok(moved) = serde_json::from_slice::<Vec<Moved>>(&message.payload) else {
                    metrics::counter!("gridwatch_nats_unreadable_total").increment(1);
                    continue;
                };
                for m in moved
                    .into_iter()
                    .filter(|m| LatLng::new(m.lat, m.lon).is_ok())
                {
                    take(
                        m.worker,
                        Position {
                            lat: m.lat,
                            lon: m.lon,
                            at: m.at,
                        },
                    );
                }
                continue;
            }
            let Ok(fix) = serde_json::from_slice::<Fix>(&message.payload) else {
                metrics::counter!("gridwatch_nats_unreadable_total").increment(1);
                continue;
            };
            // A fix older than the world's is dropped by `Core::track`, as a late one of this node's.
            if LatLng::new(fix.lat, fix.lon).is_err() {
                continue;
            }
            if !fix.is_flagged() {
                take(
                    fix.worker,
                    Position {
                        lat: fix.lat,
                        lon: fix.lon,
                        at: fix.at,
                    },
                );
            }
            fixes.push(fix);
        }
    }
    metrics::counter!("gridwatch_nats_received_total").increment(received);
    if !fixes.is_empty() || !latest.is_empty() {
        core.track(&latest, &fixes);
    }
}

/// This machine's name and the process id: a node's name when `--node-id` is not given.
#[must_use]
pub fn default_node_id() -> String {
    let uname = rustix::system::uname();
    let host = uname.nodename().to_string_lossy();
    format!("{host}-{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(worker: i64, lat: f64, lon: f64, second: i64) -> Fix {
        let at = chrono::DateTime::from_timestamp(1_764_460_800 + second, 0).expect("a time");
        Fix::at(WorkerId(worker), lat, lon, at)
    }

    #[test]
    fn a_batch_goes_on_as_each_workers_last_fix_in_order() {
        let batch = [
            fix(1, 60.1, 24.9, 0),
            fix(2, 60.2, 24.9, 1),
            fix(1, 60.3, 24.9, 2),
        ];
        let sent: Vec<(i64, f64)> = last_of_each(&batch)
            .iter()
            .map(|f| (f.worker.0, f.lat))
            .collect();
        assert_eq!(sent, [(2, 60.2), (1, 60.3)]);
    }

    #[test]
    fn subjects_follow_the_interest_and_everything_is_one_wildcard() {
        let cell = crate::live::hub::routing_cell(60.17, 24.94).expect("a point");
        let interest = Interest {
            everywhere: false,
            cells: [cell].into_iter().collect(),
            workers: [WorkerId(7)].into_iter().collect(),
        };
        let mut subjects: Vec<String> = subjects_of(&interest).into_iter().collect();
        subjects.sort();
        assert_eq!(
            subjects,
            [
                "gridwatch.pos.*.7".to_owned(),
                format!("gridwatch.pos.{cell}.*")
            ]
        );
        // The fix's own subject matches the cell's.
        let subject = subject_of(&fix(9, 60.17, 24.94, 0)).expect("a subject");
        assert_eq!(subject, format!("gridwatch.pos.{cell}.9"));
        let everything = Interest {
            everywhere: true,
            ..interest
        };
        assert_eq!(
            subjects_of(&everything).into_iter().collect::<Vec<_>>(),
            ["gridwatch.pos.>"]
        );
        assert!(subjects_of(&Interest::default()).is_empty());
    }
}
