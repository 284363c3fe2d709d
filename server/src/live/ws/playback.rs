//! The connection's side of replay (`live/replay.rs`): starting, pausing, resuming, re-timing, seeking
//! and stopping a playback, and sending what is due.

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use serde_json::{Map, Value, json};

use super::{Connection, Gone};
use crate::domain::Permission;
use crate::live::replay::{self, Playback, Refusal, Request};
use crate::replay::state::{self as replayed, ReplayError};

impl Connection {
    /// Handles a replay message; a refusal is sent as an `error` by the caller.
    pub(super) async fn replay_control(
        &mut self,
        socket: &mut WebSocket,
        kind: &str,
        object: Map<String, Value>,
    ) -> Result<Result<(), Gone>, Refusal> {
        if !self.principal.role.may(Permission::ReplayMap) {
            return Err((
                403,
                "forbidden",
                "replay is for roles that may look back (admin, commander)".into(),
            ));
        }
        if kind == "replay" {
            let request = Request::check(&object, self.state.now())?;
            return Ok(self.start_replay(socket, &request).await);
        }
        let Some(playback) = self.replay.as_mut() else {
            return Err((
                409,
                "no-replay",
                "no replay is playing; send replay first".into(),
            ));
        };
        match kind {
            "replay_pause" => playback.pause(),
            "replay_resume" => playback.resume(),
            "replay_speed" => playback.set_speed(replay::speed(&object)?),
            "replay_seek" => {
                let at = object
                    .get("at")
                    .and_then(Value::as_str)
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .ok_or_else(|| (400, "invalid-time", "at must be an RFC 3339 time".into()))?;
                if at > playback.to() {
                    return Err((
                        422,
                        "invalid-range",
                        format!("at ({at}) is after the replay's end ({})", playback.to()),
                    ));
                }
                let bbox = playback.bbox;
                let (state, seq) = self.state_at(at, bbox).await?;
                if let Some(playback) = self.replay.as_mut() {
                    playback.seek(at, seq);
                }
                return Ok(self.send_json(socket, &state).await);
            }
            _ => {
                let at = playback.now();
                self.replay = None;
                return Ok(self
                    .send_json(socket, &json!({"type": "replay_end", "at": at}))
                    .await);
            }
        }
        Ok(Ok(()))
    }

    /// Starts a replay: the live subscription ends, the map at `from` is sent, the clock starts.
    async fn start_replay(
        &mut self,
        socket: &mut WebSocket,
        request: &Request,
    ) -> Result<(), Gone> {
        let (state, seq) = match self.state_at(request.from, request.bbox).await {
            Ok(found) => found,
            Err((status, slug, detail)) => return self.refuse(socket, status, slug, &detail).await,
        };
        self.detach();
        self.filter = None;
        let visibility = self.state.world().visibility(&self.principal);
        self.replay = Some(Playback::new(request, &self.principal, visibility, seq));
        self.send_json(socket, &state).await
    }

    /// The `replay_state` message at `at` in `bbox`, and its seq.
    async fn state_at(
        &self,
        at: chrono::DateTime<chrono::Utc>,
        bbox: [f64; 4],
    ) -> Result<(Value, i64), Refusal> {
        let store = self.state.store();
        let then = replayed::then(store.as_ref(), at)
            .await
            .map_err(|e| match e {
                ReplayError::Store(error) => (503, "unavailable", error.to_string()),
                other => (422, "replay-before-history", other.to_string()),
            })?;
        let communities = replayed::communities_in(&self.state.world(), bbox);
        let grids = replayed::grids_then(store.as_ref(), communities, at)
            .await
            .map_err(|e| (503, "unavailable", e.to_string()))?;
        let mut state = replayed::view(&self.state.world(), &self.principal, bbox, &then, &grids);
        state["type"] = json!("replay_state");
        Ok((state, then.frame.seq))
    }

    /// Sends what the playback has due; loads the next window when it runs dry; ends it at its end.
    pub(super) async fn play(&mut self, socket: &mut WebSocket) -> Result<(), Gone> {
        let Some(playback) = self.replay.as_mut() else {
            return Ok(());
        };
        if playback.needs_load()
            && let Err(error) = playback.load(&self.state, &self.principal).await
        {
            tracing::error!(%error, "reading the log for a replay");
            self.replay = None;
            return self
                .refuse(
                    socket,
                    503,
                    "unavailable",
                    "the event log could not be read; replay again",
                )
                .await;
        }
        let Some(playback) = self.replay.as_mut() else {
            return Ok(());
        };
        let Some(messages) = playback.due() else {
            let at = playback.to();
            self.replay = None;
            return self
                .send_json(socket, &json!({"type": "replay_end", "at": at}))
                .await;
        };
        for message in messages {
            self.send(socket, Message::Text(Utf8Bytes::from(message)))
                .await?;
        }
        Ok(())
    }
}
