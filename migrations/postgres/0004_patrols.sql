-- Patrols (巡逻), checkpoints, check-ins (巡查打卡) and the last visit of each cell, PostgreSQL + PostGIS
-- dialect. The same tables as migrations/sqlite/0004_patrols.sql, with checkpoints and check-ins as real
-- geometries. Staff movements only: no resident data.

CREATE TABLE patrols (
    id           bigserial PRIMARY KEY,
    worker_id    bigint NOT NULL REFERENCES workers (id),
    started_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    -- The grid of the last fix observed in order, and that fix's time.
    current_grid bigint,
    last_fix_at  timestamptz,
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);

-- One open patrol per worker.
CREATE UNIQUE INDEX patrols_one_open ON patrols (worker_id) WHERE ended_at IS NULL;

CREATE TABLE checkpoints (
    id       bigserial PRIMARY KEY,
    name     text NOT NULL,
    lat      double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon      double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    location geometry(Point, 4326) NOT NULL,
    radius_m double precision NOT NULL CHECK (radius_m BETWEEN 1 AND 500),
    grid_id  bigint REFERENCES grids (id)
);

CREATE INDEX checkpoints_grid ON checkpoints (grid_id);
CREATE INDEX checkpoints_location_gist ON checkpoints USING gist (location);

CREATE TABLE patrol_check_ins (
    patrol_id     bigint NOT NULL REFERENCES patrols (id),
    checkpoint_id bigint NOT NULL REFERENCES checkpoints (id),
    at            timestamptz NOT NULL,
    lat           double precision NOT NULL,
    lon           double precision NOT NULL,
    location      geometry(Point, 4326) NOT NULL,
    distance_m    double precision NOT NULL,
    PRIMARY KEY (patrol_id, checkpoint_id)
);

-- The last visit of each H3 cell (at the deployment's resolution) by any patrol: coverage reads it.
CREATE TABLE cell_visits (
    cell      bigint PRIMARY KEY,
    last_at   timestamptz NOT NULL,
    worker_id bigint NOT NULL REFERENCES workers (id),
    patrol_id bigint NOT NULL REFERENCES patrols (id)
);
