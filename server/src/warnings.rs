//! Early warning (研判预警): spots a place where cases are building up before it becomes a crisis.
//!
//! Owns the detector and nothing else: it takes plain [`Report`]s (a case's id, time, place, grid and
//! category group) and returns [`Transition`]s (`Raised`, `Cleared`). It is pure: no IO, no clock, no
//! store, no async, no global RNG; the same reports and evaluation times always give the same warnings
//! with the same keys. It must not know about events, HTTP or scopes: the server turns transitions into
//! `warning.raised` / `warning.cleared` events and filters them by scope.
//!
//! Three kinds of warning, each with its evidence ([`Warning`]):
//! - `rate`: one H3 cell (resolution 9 by default, about 0.1 km²) holds more cases in the sliding
//!   window (2 h) than its learned rate makes plausible: exact Poisson upper tail, Benjamini–Hochberg
//!   over every cell tested at once.
//! - `cluster`: a cell with its ring-1 or ring-2 neighbours holds the excess (a prospective
//!   expectation-based Poisson scan in the spirit of Kulldorff's); overlapping significant zones are
//!   one warning, the zone with the highest likelihood ratio speaking for them.
//! - `repeat` (重复投诉): the same building, or the same 50 m spot, reported N times (3) in 24 h.
//!
//! Code map:
//! - [`model`]: [`Config`], [`Report`], [`Warning`], [`Transition`].
//! - [`poisson`]: the exact Poisson upper tail and the likelihood ratio.
//! - [`bh`]: the Benjamini–Hochberg step-up threshold.
//! - [`baseline`]: expected counts, seasonal (day of week × hour of day) and shrunk per cell.
//! - [`scan`]: the per-cell test and the space-time zone scan, with the merge of overlapping zones.
//! - [`repeat`]: repeat reports per building and per spot.
//! - [`detector`]: the live state ([`Detector`]): observe, evaluate, relearn, active warnings.

pub mod baseline;
pub mod bh;
pub mod detector;
pub mod model;
pub mod poisson;
pub mod repeat;
pub mod scan;
pub mod service;

pub use baseline::{Baseline, Method};
pub use detector::Detector;
pub use model::{Config, Kind, Report, Transition, Warning};
