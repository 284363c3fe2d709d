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
// People with accounts: sessions, lockout, timeouts, TOTP, CSRF.
mod accounts;
// Alarms (issue 21): raised, listed, acknowledged on every screen, kept over a restart and across nodes.
mod alarms;
mod alerts;
mod archive;
mod audit;
// The authorization matrix: every operation × every role × in and out of scope.
mod authz;
mod bad_input;
mod basemap;
mod cameras;
mod cases;
// Category clocks (24/7 or office) and names in one language (issue 22).
mod category_clocks;
mod crash;
mod crash_positions;
mod demo_city;
// A full disk (issue 19): 507, nothing acknowledged lost, writable again once there is room.
mod disk_full;
// Device credentials and workers' contacts (issue 18).
mod devices;
mod geojson_import;
// Slow clients, method labels, page headers, rate limits.
mod hardening;
mod harness;
// `Idempotency-Key` on creates, actions, photos and position batches (issue 19).
mod idempotency;
mod incident_bad_input;
// Expensive input (issue 18): polygon caps, camera coverage.
mod inputs;
mod live;
mod lost_commits;
mod nearby;
// Several nodes on one PostGIS database (issue 20): one event log, followed by every node.
mod nodes;
// Three nodes through a database outage (issue 20, point 6).
mod nodes_outage;
mod open311;
// The OpenAPI document against the running server (schemathesis).
mod openapi;
mod osm_import;
mod outage;
mod patrols;
// Photo metadata (EXIF, GPS) stripped before storing (issue 18).
mod photo_metadata;
mod photos;
// Boundary plans, versions and rollback.
mod plans;
mod positions;
// Least privilege: every finding of issue 18's probe.
mod privilege;
mod proxy;
// Positions between nodes through a real NATS server (issue 20).
mod relay;
mod replay;
// The dashboards' daily report (日报) and series (issue 22).
mod reports;
mod restart;
mod routing;
// Search (case number, text on both stores, grids), the dispatch list, the worker popup (issue 22).
mod search;
// SIGTERM: writes in flight finished, websockets closed with 1001, exit 0.
mod shutdown;
// `gridwatch demo`'s simulation (issue 22): the demo city alive within seconds, through the API.
mod simulation;
mod supervision;
// Photo thumbnails (issue 22): made once per photo, the photo's access rule.
mod thumbnails;
// `--tls-cert`/`--tls-key`: https and wss.
mod tls;
// Tokens as credentials: list, revoke (API and CLI), expiry; open websockets closed.
mod tokens;
// Vector tiles (`/tiles`).
mod tiles;
mod warnings;
mod workflow;
mod ws_bounds;
