-- Position fixes (the track of each worker), PostgreSQL + PostGIS dialect. The same table as
-- migrations/sqlite/0003_positions.sql, with the point as a real geometry. Written in batches by the
-- positions writer; the latest fix of each worker also lives in memory. Staff positions only.

CREATE TABLE positions (
    id          bigserial PRIMARY KEY,
    worker_id   bigint NOT NULL REFERENCES workers (id),
    at          timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    lat         double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon         double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    location    geometry(Point, 4326) NOT NULL,
    accuracy_m  double precision,
    speed_mps   double precision,
    heading_deg double precision,
    altitude_m  double precision,
    battery_pct double precision,
    moving      boolean,
    flags       jsonb NOT NULL DEFAULT '[]',
    attributes  jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX positions_worker_at ON positions (worker_id, at);
CREATE INDEX positions_location_gist ON positions USING gist (location);
