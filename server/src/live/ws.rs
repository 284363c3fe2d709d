//! `GET /ws`: one task per connection, speaking JSON text messages.
//!
//! Client → server:
//! - `{"type": "subscribe", bbox?, grids?, communities?, layers?, mine?, near?}` → a `snapshot` of what
//!   the filter covers now (`seq`, open `incidents`, `workers` with their last position, `more`), then
//!   `delta`s. A large snapshot comes in parts of about `--ws-snapshot-chunk-bytes`: the `snapshot` with
//!   `more: true`, then `snapshot_part {seq, incidents, workers, more}` messages until one has `more:
//!   false`; the client puts the lists together.
//! - `{"type": "resume", "seq": N, …filter?}` → every event after `N` in the filter, from the store's
//!   event log, as `delta`s in order, then `replayed {seq}`, then live `delta`s. Without a filter it
//!   keeps the last one.
//! - `{"type": "position", lat, lon, at?, accuracy_m?, …, ref?}` (a worker's phone) → `position_ack {ref,
//!   flags}` once stored.
//! - `{"type": "ping"}` → `{"type": "pong"}`.
//! - `{"type": "replay", from, to, speed, bbox}` (admin, commander; `live/replay.rs`, `ws/playback.rs`)
//!   → `replay_state` (the map at `from`, as `GET /api/replay/state`), then `replay_delta` (a `delta`
//!   as it was sent then), `replay_position` and `replay_clock {at}` at `speed` times real time, and
//!   `replay_end {at}`. `replay_pause`, `replay_resume`, `replay_speed {speed}`, `replay_seek {at}` (a
//!   new `replay_state`) and `replay_stop` (`replay_end`) steer it. The live subscription ends while it
//!   plays; `subscribe` goes back to live.
//!
//! Server → client: `snapshot`, `delta {seq, kind, at, layer, id, data}`, `position {worker, lat, lon,
//! at}` (coalesced, no sequence), `replayed {seq}`, `resync {seq}` (the queue overflowed: send `resume`
//! with that `seq`), `error {status, title, detail}` (the message was refused; nothing changed).
//!
//! Alarms (`crate::alarms`) travel on a layer of their own, `alarms`, sent only to a filter that names
//! it in `layers` (a filter naming no layer gets the map's layers, as before alarms) and only to roles
//! that may read alarms (else the `subscribe` is refused with 403). It covers the caller's whole scope
//! whatever the filter's bbox, grids or circle: an alarm off screen is still an alarm. Each is a
//! `delta` with `layer: "alarms"`, `id` the alarm's id as a string (`"{seq}"` or `"{seq}.{case}"`) and
//! `data` the alarm as `GET /api/alarms` lists it (`{id, kind, at, seq, case, lat, lon, grid, community,
//! street, district, title, acknowledged}`):
//! - an event that raises alarms (`incident.created` of an urgent case, `incident.updated` escalating a
//!   case, `alert.raised`) sends, after its own deltas and with the same `seq` and `kind`, one such
//!   delta per alarm with `acknowledged: null` — the client sounds it;
//! - `alarm.acknowledged` sends the alarm with `acknowledged: {by: {user, token, name, role}, at, seq}`
//!   to every subscriber whose scope covers it — the client clears it on every screen.
//!
//! The snapshot holds no alarms: a client reads `GET /api/alarms` after each `snapshot` (on start and
//! after a reconnect) and merges the deltas by `id`; `resume` replays them like any delta.
//!
//! The server pings every `ping` interval and closes a connection it has not heard from in two. A send
//! that does not complete within two intervals closes the connection too: a client that stops reading
//! holds only its own task, one message (a snapshot part at most) and its bounded outbox
//! (`--ws-queue`, `--ws-queue-bytes`; past either it gets `resync`). The events queued to every socket
//! together are capped too (`--ws-total-bytes`), and so are the connections (`--ws-max-connections`;
//! past it an upgrade is a 503 `too-many-connections` with `Retry-After`). A snapshot is read from the
//! world under its lock (the open cases' summaries are texts the world keeps serialized) and sent after
//! the lock is let go.
//!
//! A browser signed in by cookie needs no token: the session cookie authenticates the upgrade, whose
//! `Origin` must then be this server's own (a page elsewhere cannot borrow the cookie).
//!
//! The connection's credential is watched: when its token is revoked (here or on any node) or expires,
//! or its session ends (signed out, revoked, idle or absolute timeout) or its account is disabled or
//! changed, the server sends a close frame with 1008 (Policy Violation) and the reason, and ends. When what the
//! principal may see changes (its worker moved to other grids, a boundary change), the hub narrows the
//! subscription at once and the connection subscribes again: a new `snapshot` of the new scope.
//!
//! When the server shuts down, every connection finishes the message it is handling (a position is
//! stored and acknowledged), sends a close frame with code 1001 (Going Away) and ends; a client
//! reconnects elsewhere or later and `resume`s from its last `seq`.

mod playback;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{FromRequestParts, Query, Request, State};
use axum::response::Response;
use futures_util::SinkExt;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use super::filter::{Filter, FilterRequest, Layer};
use super::hub::{Slot, Subscription, items_of};
use crate::api::positions::{FixIn, to_fix};
use crate::auth;
use crate::domain::Permission;
use crate::domain::Principal;
use crate::domain::event::WorkerSummary;
use crate::error::ApiError;
use crate::state::AppState;
use crate::throttle::PerSocket;
use crate::tracking::PositionError;
use crate::world::{Visibility, World};

/// Largest message a client may send.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// The socket's read buffer, grown as a larger message needs. Clients send little, and tungstenite zeroes
/// the buffer's free room before each read: at its 128 KiB default, 1,000 connections woken 25 times a
/// second spent a quarter of the server's CPU in `memset`, and held 125 MiB.
const READ_BUFFER_BYTES: usize = 4096;
/// Events read from the log per page while replaying.
const REPLAY_PAGE: u32 = 1000;
/// How long a connection waits, at shutdown, to send its close frame and then for the client's.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WsQuery {
    /// The bearer token, for browsers, which cannot set headers on a websocket; the
    /// `Authorization` header wins when both are sent.
    token: Option<String>,
}

#[utoipa::path(get, path = "/ws", tag = "live",
    params(WsQuery),
    responses((status = 101, description = "switching to the websocket protocol; see the module docs for messages"),
        (status = 400), (status = 401), (status = 403),
        (status = 503, description = "as many websockets are open as the server takes (`too-many-connections`, `Retry-After`)")),
    security(("bearer" = [])))]
pub async fn upgrade(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let (mut parts, _body) = request.into_parts();
    let Query(query) = Query::<WsQuery>::from_request_parts(&mut parts, &state).await?;
    let (principal, session) =
        auth::principal_of(&state, &parts.headers, query.token.as_deref()).await?;
    if session.is_some() && !same_origin(&parts.headers) {
        return Err(ApiError::forbidden(
            "a websocket signed in by cookie must come from this server's own pages (Origin)",
        ));
    }
    auth::Auth(principal.clone()).require(Permission::WatchLive)?;
    let Some(slot) = state.hub().connect() else {
        return Err(ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "too-many-connections",
            "this server has as many websocket connections open as it takes; try again later",
        )
        .retry_after(5));
    };
    let ws = WebSocketUpgrade::from_request_parts(&mut parts, &state)
        .await
        .map_err(|e| {
            ApiError::new(
                e.status(),
                "websocket-required",
                format!("{}: GET /ws is a websocket", e.body_text()),
            )
        })?;
    // The socket's own writes (position fixes) are audited as the upgrade request's: its actor, address
    // and user agent.
    let context = crate::audit::current();
    Ok(ws
        .max_message_size(MAX_MESSAGE_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| {
            let connection = Connection::new(state, principal, session);
            crate::audit::scope(context, connection.run(socket, slot))
        }))
}

/// Whether the request's `Origin` names the host it was sent to (absent `Origin`: not a browser's
/// cross-site request).
fn same_origin(headers: &axum::http::HeaderMap) -> bool {
    let Some(origin) = headers.get(axum::http::header::ORIGIN) else {
        return true;
    };
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    let authority = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest.trim_end_matches('/'));
    authority.is_some() && authority == host
}

/// The client went away or stopped responding.
struct Gone;

struct Connection {
    state: AppState,
    principal: Principal,
    /// The SHA-256 of the session's secret, for a connection signed in by cookie.
    session: Option<String>,
    /// The live subscription, if any.
    sub: Option<Arc<Subscription>>,
    /// The last filter asked for, kept across a resync.
    filter: Option<(Filter, Visibility)>,
    /// A replay in progress (`live/replay.rs`): the connection has no live subscription meanwhile.
    replay: Option<super::replay::Playback>,
    /// The client has every event in its filter up to this sequence number.
    cursor: i64,
    ping: Duration,
    /// The budget of messages other than positions.
    control: PerSocket,
}

impl Connection {
    fn new(state: AppState, principal: Principal, session: Option<String>) -> Self {
        let ping = state.hub().config.ping;
        let control = PerSocket::new(state.hub().config.control_rate);
        Self {
            state,
            principal,
            session,
            sub: None,
            filter: None,
            replay: None,
            cursor: 0,
            ping,
            control,
        }
    }

    /// Serves the connection until it ends; its `slot` among the open connections goes with it.
    async fn run(mut self, mut socket: WebSocket, slot: Slot) {
        metrics::gauge!("gridwatch_ws_connections").increment(1.0);
        let _ = self.serve(&mut socket).await;
        self.detach();
        drop(slot);
        metrics::gauge!("gridwatch_ws_connections").decrement(1.0);
    }

    async fn serve(&mut self, socket: &mut WebSocket) -> Result<(), Gone> {
        let mut ticker = tokio::time::interval_at(Instant::now() + self.ping, self.ping);
        let mut heard = Instant::now();
        let mut shutdown = self.state.shutdown();
        let mut revocations = self.state.core().credentials().changes();
        let expiry = tokio::time::sleep(self.expires_in().await);
        tokio::pin!(expiry);
        loop {
            let sub = self.sub.clone();
            let woken = async {
                match &sub {
                    Some(sub) => sub.notify.notified().await,
                    None => std::future::pending().await,
                }
            };
            let playing = self.replay.as_ref().and_then(super::replay::Playback::wake);
            let replay_due = async {
                match playing {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = shutdown.closing() => {
                    going_away(socket).await;
                    return Err(Gone);
                }
                Ok(()) = revocations.changed() => {
                    if let Some(reason) = self.refused().await {
                        policy_close(socket, reason).await;
                        return Err(Gone);
                    }
                }
                () = &mut expiry => {
                    // A session's idle end moves with its use on other requests: check, then wait
                    // for the new end.
                    if let Some(reason) = self.refused().await {
                        policy_close(socket, reason).await;
                        return Err(Gone);
                    }
                    let left = self.expires_in().await;
                    expiry.as_mut().reset(Instant::now() + left);
                }
                incoming = socket.recv() => {
                    heard = Instant::now();
                    match incoming {
                        None | Some(Err(_) | Ok(Message::Close(_))) => return Err(Gone),
                        Some(Ok(Message::Text(text))) => self.handle(socket, &text).await?,
                        Some(Ok(Message::Binary(_))) => {
                            self.refuse(socket, 400, "invalid-message", "messages are JSON text").await?;
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    }
                }
                () = woken => self.flush(socket).await?,
                () = replay_due => self.play(socket).await?,
                _ = ticker.tick() => {
                    if heard.elapsed() > self.ping * 2 {
                        let _ = socket.send(Message::Close(None)).await;
                        return Err(Gone);
                    }
                    self.send(socket, Message::Ping(axum::body::Bytes::new())).await?;
                }
            }
        }
    }

    /// How long until the connection's credential ends if nothing else happens: a token's expiry, a
    /// session's idle or absolute end (a year, for one without an expiry).
    async fn expires_in(&self) -> Duration {
        const NEVER: Duration = Duration::from_hours(365 * 24);
        let at = match &self.session {
            Some(hash) => match auth::session(self.state.core(), hash, false).await {
                Ok(Some(session)) => Some(session.ends_at),
                _ => Some(self.state.now()),
            },
            None => self.principal.expires_at,
        };
        at.map_or(NEVER, |at| {
            (at - self.state.now()).to_std().unwrap_or_default() + Duration::from_millis(10)
        })
    }

    /// Why the connection may no longer stay open, if it may not: its token revoked or expired, its
    /// session ended or its account disabled or changed (role, scopes, worker).
    async fn refused(&self) -> Option<&'static str> {
        let core = self.state.core();
        let Some(hash) = &self.session else {
            let token = self.principal.token()?;
            if core.credentials().is_revoked(token) {
                return Some("your token was revoked");
            }
            return self
                .principal
                .expires_at
                .is_some_and(|at| at <= self.state.now())
                .then_some("your token expired");
        };
        match auth::session(core, hash, false).await {
            Ok(Some(session)) => {
                let now = &session.principal;
                let was = &self.principal;
                (now.role != was.role || now.scopes != was.scopes || now.worker != was.worker)
                    .then_some("your account was changed; sign in again")
            }
            Ok(None) => Some("your session has ended"),
            Err(error) => {
                tracing::warn!(%error, "could not check a websocket's session");
                None
            }
        }
    }

    fn detach(&mut self) {
        if let Some(sub) = self.sub.take() {
            self.state.hub().unsubscribe(&sub);
        }
    }

    async fn send(&self, socket: &mut WebSocket, message: Message) -> Result<(), Gone> {
        match tokio::time::timeout(self.ping * 2, socket.send(message)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Gone),
        }
    }

    async fn send_json(&self, socket: &mut WebSocket, value: &Value) -> Result<(), Gone> {
        self.send(socket, Message::Text(Utf8Bytes::from(value.to_string())))
            .await
    }

    async fn refuse(
        &self,
        socket: &mut WebSocket,
        status: u16,
        slug: &str,
        detail: &str,
    ) -> Result<(), Gone> {
        let title = axum::http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error");
        self.send_json(
            socket,
            &json!({"type": "error", "status": status, "title": title,
            "problem": format!("/problems/{slug}"), "detail": detail}),
        )
        .await
    }

    /// Sends what the hub queued; on overflow, tells the client to resync and detaches. When the
    /// principal's scope changed, subscribes again under the new scope (a fresh `snapshot`, with
    /// `rescoped: true`): what the hub queued before was already routed under the new scope.
    async fn flush(&mut self, socket: &mut WebSocket) -> Result<(), Gone> {
        let Some(sub) = self.sub.clone() else {
            return Ok(());
        };
        if let Some(token) = self.principal.token()
            && self.state.core().credentials().is_revoked(token)
        {
            policy_close(socket, "your token was revoked").await;
            return Err(Gone);
        }
        if let Some(session) = self.principal.session()
            && self.state.core().credentials().is_session_revoked(session)
        {
            policy_close(socket, "your session has ended").await;
            return Err(Gone);
        }
        if sub.take_rescoped()
            && let Some((filter, _)) = self.filter.clone()
        {
            let visibility = self.state.world().visibility(&self.principal);
            return Box::pin(self.subscribe(socket, (filter, visibility))).await;
        }
        let drained = sub.drain();
        if drained.overflowed {
            self.detach();
            return self
                .send_json(
                    socket,
                    &json!({"type": "resync", "seq": self.cursor,
                    "reason": "you fell behind; send resume with this seq"}),
                )
                .await;
        }
        let last = drained.events.last().map(|(seq, _)| *seq);
        let messages = drained
            .events
            .into_iter()
            .map(|(_, m)| m)
            .chain(drained.positions)
            .chain(drained.tiles);
        self.send_all(socket, messages).await?;
        if let Some(seq) = last {
            self.cursor = self.cursor.max(seq);
        }
        Ok(())
    }

    /// Writes the messages into the socket's buffer and flushes it once: a few writes for a burst rather
    /// than one each.
    async fn send_all(
        &self,
        socket: &mut WebSocket,
        messages: impl Iterator<Item = Arc<str>>,
    ) -> Result<(), Gone> {
        let work = async {
            for message in messages {
                socket
                    .feed(Message::Text(Utf8Bytes::from(&*message)))
                    .await?;
            }
            socket.flush().await
        };
        match tokio::time::timeout(self.ping * 2, work).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Gone),
        }
    }

    async fn handle(&mut self, socket: &mut WebSocket, text: &str) -> Result<(), Gone> {
        let parsed = serde_json::from_str::<Value>(text);
        let position = parsed
            .as_ref()
            .is_ok_and(|v| v.get("type").and_then(Value::as_str) == Some("position"));
        if !position && let Err(refused) = self.control.check() {
            let detail = refused.to_string();
            return self.refuse(socket, 429, "rate-limited", &detail).await;
        }
        let mut object = match parsed {
            Ok(Value::Object(object)) => object,
            Ok(_) => {
                return self
                    .refuse(
                        socket,
                        400,
                        "invalid-message",
                        "a message is a JSON object with a type",
                    )
                    .await;
            }
            Err(e) => {
                return self
                    .refuse(socket, 400, "malformed-json", &e.to_string())
                    .await;
            }
        };
        let kind = object.remove("type");
        match kind.as_ref().and_then(Value::as_str) {
            Some("subscribe") => match self.check(object) {
                Ok(filter) => self.subscribe(socket, filter).await,
                Err((status, detail)) => {
                    self.refuse(socket, status, "invalid-filter", &detail).await
                }
            },
            Some("resume") => {
                let seq = object.remove("seq");
                let last = self.state.world().last_seq();
                let Some(seq) = seq
                    .as_ref()
                    .and_then(Value::as_i64)
                    .filter(|s| (0..=last).contains(s))
                else {
                    let detail = format!("resume needs a seq, a whole number in 0..={last}");
                    return self.refuse(socket, 422, "invalid-seq", &detail).await;
                };
                let filter = if object.is_empty() {
                    match self.filter.clone() {
                        Some(filter) => filter,
                        None => self.check(Map::new()).map_err(|_| Gone)?,
                    }
                } else {
                    match self.check(object) {
                        Ok(filter) => filter,
                        Err((status, detail)) => {
                            return self.refuse(socket, status, "invalid-filter", &detail).await;
                        }
                    }
                };
                self.resume(socket, filter, seq).await
            }
            Some("ping") => self.send_json(socket, &json!({"type": "pong"})).await,
            Some(
                kind @ ("replay" | "replay_pause" | "replay_resume" | "replay_speed"
                | "replay_seek" | "replay_stop"),
            ) => {
                let kind = kind.to_owned();
                match self.replay_control(socket, &kind, object).await {
                    Ok(result) => result,
                    Err((status, slug, detail)) => self.refuse(socket, status, slug, &detail).await,
                }
            }
            Some("position") => self.position(socket, object).await,
            _ => {
                self.refuse(
                    socket,
                    400,
                    "invalid-message",
                    "type must be subscribe, resume, position, ping or a replay message",
                )
                .await
            }
        }
    }

    /// A worker's phone reporting where it is: `{lat, lon, at?, accuracy_m?, speed_mps?, heading_deg?,
    /// altitude_m?, battery_pct?, moving?, ref?}`. Answered with `position_ack {ref, flags}` once stored,
    /// so a phone on a weak signal knows what it may drop from its buffer.
    async fn position(
        &mut self,
        socket: &mut WebSocket,
        mut object: Map<String, Value>,
    ) -> Result<(), Gone> {
        if self.principal.worker.is_none() {
            return self
                .refuse(
                    socket,
                    403,
                    "forbidden",
                    "only a token that acts for a worker reports positions",
                )
                .await;
        }
        let reference = object.remove("ref").unwrap_or(Value::Null);
        let item: FixIn = match serde_json::from_value(Value::Object(object)) {
            Ok(item) => item,
            Err(e) => {
                return self
                    .refuse(
                        socket,
                        400,
                        "invalid-message",
                        &format!("invalid position: {e}"),
                    )
                    .await;
            }
        };
        let checked = to_fix(&self.state.world(), &self.principal, item, self.state.now());
        let fix = match checked {
            Ok(fix) => fix,
            Err(e) => {
                return self
                    .refuse(socket, e.status.as_u16(), e.slug, &e.detail)
                    .await;
            }
        };
        let reported = self
            .state
            .positions()
            .report(vec![fix], crate::tracking::Judge::Jumps)
            .await;
        match reported {
            Ok(reported) => {
                let flags = reported
                    .flagged
                    .first()
                    .map(|f| f.flags.clone())
                    .unwrap_or_default();
                self.send_json(
                    socket,
                    &json!({"type": "position_ack", "ref": reference, "flags": flags}),
                )
                .await
            }
            Err(e) => {
                // One fix: its own reason says more than the batch's summary.
                let reason = match &e {
                    PositionError::Refused { fixes, .. } => {
                        fixes.first().map(|f| f.reason.to_string())
                    }
                    _ => None,
                };
                let problem = ApiError::from(e);
                let detail = reason.unwrap_or(problem.detail);
                self.refuse(socket, problem.status.as_u16(), problem.slug, &detail)
                    .await
            }
        }
    }

    /// Checks a filter against the world, with the caller's visibility.
    fn check(&self, object: Map<String, Value>) -> Result<(Filter, Visibility), (u16, String)> {
        let request: FilterRequest = serde_json::from_value(Value::Object(object))
            .map_err(|e| (400, format!("invalid filter: {e}")))?;
        let alarms = request
            .layers
            .as_ref()
            .is_some_and(|l| l.contains(&Layer::Alarms));
        if alarms && !self.principal.role.may(Permission::ReadAlarms) {
            return Err((
                403,
                "the alarms layer is for roles that may read alarms (admin, commander)".into(),
            ));
        }
        let warnings = request
            .layers
            .as_ref()
            .is_some_and(|l| l.contains(&Layer::Warnings));
        if warnings && !self.principal.role.may(Permission::ReadWarnings) {
            return Err((
                403,
                "the warnings layer is for roles that may read warnings (admin, commander)".into(),
            ));
        }
        let world = self.state.world();
        let visibility = world.visibility(&self.principal);
        let grids_of = |region| {
            world
                .region(region)
                .is_some()
                .then(|| world.grids_under(region))
        };
        let mut filter = Filter::check(
            request,
            |g| world.grid(g).is_some(),
            grids_of,
            self.principal.worker,
        )
        .map_err(|e| (422, e))?;
        // `mine` also brings the open cases within the radius routing uses to find the nearest worker.
        filter.mine_radius_m = filter.mine.map(|_| self.state.dispatch().nearest_radius_m);
        // Wherever those cases lie: the subscription is indexed around where the worker is now.
        filter.mine_at = filter
            .mine
            .and_then(|w| world.position(w))
            .map(|p| (p.lat, p.lon));
        Ok((filter, visibility))
    }

    async fn subscribe(
        &mut self,
        socket: &mut WebSocket,
        (filter, visibility): (Filter, Visibility),
    ) -> Result<(), Gone> {
        self.detach();
        // Back to live: a replay in progress ends.
        self.replay = None;
        // Register first, then read the world: an event committed in between is in both, and the floor
        // drops the copy the snapshot already holds.
        let sub = self.state.hub().subscribe(
            self.principal.clone(),
            visibility.clone(),
            filter.clone(),
            0,
        );
        let gathered = gather(&self.state.world(), &sub);
        let seq = gathered.seq;
        sub.raise_floor(seq);
        self.cursor = seq;
        self.sub = Some(sub);
        self.filter = Some((filter, visibility));
        // Part by part: the connection holds one part at a time, whatever the number of open cases.
        for part in gathered.parts(self.state.hub().config.snapshot_chunk) {
            self.send(socket, Message::Text(Utf8Bytes::from(part)))
                .await?;
        }
        self.flush(socket).await
    }

    async fn resume(
        &mut self,
        socket: &mut WebSocket,
        (filter, visibility): (Filter, Visibility),
        seq: i64,
    ) -> Result<(), Gone> {
        self.detach();
        self.replay = None;
        // Register first, then read the log: an event committed in between is in both, and the floor
        // drops the copy already replayed.
        let sub = self.state.hub().subscribe(
            self.principal.clone(),
            visibility.clone(),
            filter.clone(),
            seq,
        );
        self.sub = Some(Arc::clone(&sub));
        self.filter = Some((filter, visibility));
        self.cursor = seq;
        loop {
            let page = match self
                .state
                .store()
                .events_since(self.cursor, REPLAY_PAGE)
                .await
            {
                Ok(page) => page,
                Err(e) => {
                    tracing::error!(error = %e, "replaying events to a websocket client");
                    self.detach();
                    return self
                        .refuse(
                            socket,
                            503,
                            "unavailable",
                            "the event log could not be read; resume again",
                        )
                        .await;
                }
            };
            if page.is_empty() {
                break;
            }
            for event in page {
                let messages: Vec<Arc<str>> = {
                    let world = self.state.world();
                    items_of(&world, &event)
                        .into_iter()
                        .filter(|(item, _)| sub.admits(item, &world))
                        .map(|(_, delta)| Arc::clone(delta.for_viewer(&sub.principal)))
                        .collect()
                };
                for message in messages {
                    self.send(socket, Message::Text(Utf8Bytes::from(&*message)))
                        .await?;
                }
                self.cursor = event.seq;
                sub.raise_floor(event.seq);
            }
        }
        self.send_json(socket, &json!({"type": "replayed", "seq": self.cursor}))
            .await?;
        self.flush(socket).await
    }
}

/// Closes the connection because its credential no longer holds: a close frame with 1008 (Policy
/// Violation) and the reason, waited for at most [`CLOSE_WAIT`].
async fn policy_close(socket: &mut WebSocket, reason: &'static str) {
    let frame = CloseFrame {
        code: close_code::POLICY,
        reason: Utf8Bytes::from_static(reason),
    };
    let _ = tokio::time::timeout(CLOSE_WAIT, socket.send(Message::Close(Some(frame)))).await;
}

/// Closes the connection as the server shuts down: a close frame with 1001 (Going Away), then the
/// client's answer, each waited for at most [`CLOSE_WAIT`].
async fn going_away(socket: &mut WebSocket) {
    let frame = CloseFrame {
        code: close_code::AWAY,
        reason: Utf8Bytes::from_static("the server is shutting down"),
    };
    if tokio::time::timeout(CLOSE_WAIT, socket.send(Message::Close(Some(frame))))
        .await
        .is_ok_and(|sent| sent.is_ok())
    {
        // Whatever the client still had in flight is dropped: it resumes from its last `seq`.
        let _ = tokio::time::timeout(CLOSE_WAIT, async {
            while let Some(Ok(message)) = socket.recv().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
}

/// What a new subscription covers now, read from the world under its lock: the open cases' summaries
/// (texts the world shares with every snapshot) and the workers with their last position (for this
/// viewer), as of `seq`. Sent after the lock is let go, part by part ([`Gathered::parts`]).
struct Gathered {
    seq: i64,
    incidents: Vec<Arc<str>>,
    workers: Vec<String>,
}

fn gather(world: &World, sub: &Subscription) -> Gathered {
    let mut incidents = Vec::new();
    if sub.filter.has_layer(Layer::Incidents) {
        for (case, text) in world.open_summaries() {
            let item = super::filter::Item {
                layer: Layer::Incidents,
                point: Some((case.place.lat, case.place.lon)),
                grids: vec![case.place.grid],
                workers: [case.state.assignee, case.state.handler, None],
                open: true,
            };
            if sub.admits(&item, world) {
                incidents.push(Arc::clone(text));
            }
        }
    }
    let mut workers = Vec::new();
    if sub.filter.has_layer(Layer::Workers) {
        let contacts = crate::domain::worker::sees_contacts(sub.principal.role);
        for worker in world.workers() {
            let position = world.position(worker.id);
            let item = super::filter::Item {
                layer: Layer::Workers,
                point: position.map(|p| (p.lat, p.lon)),
                grids: worker.grids.iter().map(|d| d.grid_id).collect(),
                workers: [Some(worker.id), None, None],
                open: true,
            };
            if sub.admits(&item, world) {
                let mut value = WorkerSummary::of(worker).for_client(contacts);
                value["position"] = position.map_or(
                    Value::Null,
                    |p| json!({"lat": p.lat, "lon": p.lon, "at": p.at}),
                );
                workers.push(value.to_string());
            }
        }
    }
    Gathered {
        seq: world.last_seq(),
        incidents,
        workers,
    }
}

impl Gathered {
    /// The snapshot as messages of about `chunk` bytes, each built when it is asked for: a `snapshot
    /// {seq, incidents, workers, more}`, then `snapshot_part`s of the same form; `more` is `false` on
    /// the last. A client puts the lists of the parts together. Every part holds at least one item.
    fn parts(self, chunk: usize) -> impl Iterator<Item = String> {
        let mut incidents = self.incidents.into_iter();
        let mut workers = self.workers.into_iter();
        let mut kind = Some("snapshot");
        let mut done = false;
        std::iter::from_fn(move || {
            if done {
                return None;
            }
            let mut text = format!(
                r#"{{"type":"{}","seq":{},"incidents":["#,
                kind.take().unwrap_or("snapshot_part"),
                self.seq
            );
            text.reserve(chunk.min(1 << 20));
            let mut added = 0;
            fill(&mut text, &mut incidents, &mut added, chunk);
            text.push_str(r#"],"workers":["#);
            fill(&mut text, &mut workers, &mut added, chunk);
            done = incidents.len() == 0 && workers.len() == 0;
            text.push_str(if done {
                r#"],"more":false}"#
            } else {
                r#"],"more":true}"#
            });
            Some(text)
        })
    }
}

/// Appends items of `list` to a JSON array being written into `text`, comma-separated, until `text` is
/// `chunk` bytes long, but at least one item into the part (`added` counts them over its lists).
fn fill<T: AsRef<str>>(
    text: &mut String,
    list: &mut impl Iterator<Item = T>,
    added: &mut usize,
    chunk: usize,
) {
    let mut first = true;
    while *added == 0 || text.len() < chunk {
        let Some(item) = list.next() else { break };
        if !first {
            text.push(',');
        }
        first = false;
        text.push_str(item.as_ref());
        *added += 1;
    }
}
