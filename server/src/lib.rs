//! gridwatch: grid-based community management and patrol coordination.
//!
//! Data flow for every change: command → validate against the world → store transaction (row + event)
//! → apply to the in-memory world → publish. Reads are served from the world.

pub mod domain;
pub mod store;
