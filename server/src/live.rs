//! Live streaming: the websocket hub (`GET /ws`).
//!
//! - [`filter`]: what a subscriber watches and whether a change belongs to it (pure).
//! - [`outbox`]: a subscriber's bounded queue; positions coalesce, events never drop silently.
//! - [`hub`]: routes each committed event and each position to the subscriptions it touches, through
//!   an index by coarse H3 cell, grid and worker; its `feed` (a service) reads the core's event
//!   channel, falling back to the store's event log when it lags.
//! - [`ws`]: the connection task: subscribe → snapshot → deltas, resume → replay, pings; closes with
//!   1001 when the server shuts down.
//! - [`replay`]: a connection's playback of the map between two past moments (回放).
//!
//! Must not import the store: what an event says is `domain::event::Change`, matched exhaustively
//! in `hub::items_of`; the log is read through the core's store handle only.

pub mod filter;
pub mod hub;
pub mod outbox;
pub mod replay;
pub mod ws;

pub use hub::{Hub, LiveConfig};
