-- Position fixes (the track of each worker), SQLite dialect. The same table as
-- migrations/postgres/0003_positions.sql. Written in batches by the positions writer; the latest fix of
-- each worker also lives in memory. Staff positions only: no resident data.

CREATE TABLE positions (
    id          INTEGER PRIMARY KEY,
    worker_id   INTEGER NOT NULL REFERENCES workers (id),
    at          TEXT NOT NULL,
    received_at TEXT NOT NULL,
    lat         REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon         REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
    accuracy_m  REAL,
    speed_mps   REAL,
    heading_deg REAL,
    altitude_m  REAL,
    battery_pct REAL,
    moving      INTEGER CHECK (moving IS NULL OR moving IN (0, 1)),
    -- JSON array of flags (`implausible_jump`).
    flags       TEXT NOT NULL DEFAULT '[]',
    -- JSON object of the other keys the device sent.
    attributes  TEXT NOT NULL DEFAULT '{}'
);

CREATE INDEX positions_worker_at ON positions (worker_id, at);
