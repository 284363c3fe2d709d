//! End-to-end tests: the real `gridwatch` binary, a real store (SQLite, and PostGIS when
//! `GRIDWATCH_TEST_DATABASE_URL` is set — required under `CI=true`), real HTTP clients, and independent
//! references (the `h3` library and shapely, through `tests/reference/check_city.py`).

// Test code: a failed unwrap is a failed test, and a scenario reads best as one long function.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::many_single_char_names
)]

mod access;
mod alerts;
mod bad_input;
mod basemap;
mod cameras;
mod cases;
mod crash;
mod crash_positions;
mod demo_city;
mod geojson_import;
mod harness;
mod incident_bad_input;
mod live;
mod nearby;
mod open311;
// The OpenAPI document against the running server (schemathesis).
mod openapi;
mod osm_import;
mod patrols;
mod photos;
// Boundary plans, versions and rollback.
mod plans;
mod positions;
mod restart;
mod routing;
// SIGTERM: writes in flight finished, websockets closed with 1001, exit 0.
mod shutdown;
mod supervision;
// Vector tiles (`/tiles`).
mod tiles;
mod workflow;
