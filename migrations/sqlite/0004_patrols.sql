-- Patrols (巡逻), checkpoints, check-ins (巡查打卡) and the last visit of each cell, SQLite dialect. The
-- same tables as migrations/postgres/0004_patrols.sql. Staff movements only: no resident data.

CREATE TABLE patrols (
    id           INTEGER PRIMARY KEY,
    worker_id    INTEGER NOT NULL REFERENCES workers (id),
    started_at   TEXT NOT NULL,
    ended_at     TEXT,
    -- The grid of the last fix observed in order, and that fix's time.
    current_grid INTEGER,
    last_fix_at  TEXT
);

-- One open patrol per worker.
CREATE UNIQUE INDEX patrols_one_open ON patrols (worker_id) WHERE ended_at IS NULL;

CREATE TABLE checkpoints (
    id       INTEGER PRIMARY KEY,
    name     TEXT NOT NULL,
    lat      REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon      REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
    radius_m REAL NOT NULL CHECK (radius_m BETWEEN 1 AND 500),
    grid_id  INTEGER REFERENCES grids (id)
);

CREATE INDEX checkpoints_grid ON checkpoints (grid_id);

CREATE TABLE patrol_check_ins (
    patrol_id     INTEGER NOT NULL REFERENCES patrols (id),
    checkpoint_id INTEGER NOT NULL REFERENCES checkpoints (id),
    at            TEXT NOT NULL,
    lat           REAL NOT NULL,
    lon           REAL NOT NULL,
    distance_m    REAL NOT NULL,
    PRIMARY KEY (patrol_id, checkpoint_id)
);

-- The last visit of each H3 cell (at the deployment's resolution) by any patrol: coverage reads it.
CREATE TABLE cell_visits (
    cell      INTEGER PRIMARY KEY,
    last_at   TEXT NOT NULL,
    worker_id INTEGER NOT NULL REFERENCES workers (id),
    patrol_id INTEGER NOT NULL REFERENCES patrols (id)
);
