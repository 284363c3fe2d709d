-- gridwatch schema, PostgreSQL + PostGIS dialect. The same tables as migrations/sqlite/0001_schema.sql.
--
-- Geometries are real geometry(MultiPolygon, 4326) columns (degrees, lon/lat order) with GiST indexes,
-- so QGIS and GDAL open the tables directly. They are a copy for GIS access and validation: spatial
-- truth lives in the server (H3 cells), never here. H3 cells are stored as their 64-bit index (the top
-- bit is always 0, so it fits a signed bigint unchanged).
-- Counts only: no resident names or identity numbers are ever stored.

CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE regions (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    level     text NOT NULL CHECK (level IN ('district', 'street', 'community')),
    code      text NOT NULL CONSTRAINT regions_code_key UNIQUE,
    name      text NOT NULL,
    parent_id bigint CONSTRAINT regions_parent_id_fkey REFERENCES regions (id),
    boundary  geometry(MultiPolygon, 4326) NOT NULL
);
CREATE INDEX regions_parent_id ON regions (parent_id);
CREATE INDEX regions_boundary_gist ON regions USING gist (boundary);

CREATE TABLE grids (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code           text NOT NULL CONSTRAINT grids_code_key UNIQUE,
    name           text NOT NULL,
    community_id   bigint NOT NULL CONSTRAINT grids_community_id_fkey REFERENCES regions (id),
    households     bigint NOT NULL DEFAULT 0 CHECK (households >= 0),
    building_count bigint NOT NULL DEFAULT 0 CHECK (building_count >= 0),
    flag           jsonb,
    boundary       geometry(MultiPolygon, 4326) NOT NULL
);
CREATE INDEX grids_community_id ON grids (community_id);
CREATE INDEX grids_boundary_gist ON grids USING gist (boundary);

-- The primary key makes "no cell in two grids" a rule of the schema.
CREATE TABLE grid_cells (
    cell    bigint CONSTRAINT grid_cells_pkey PRIMARY KEY,
    grid_id bigint NOT NULL CONSTRAINT grid_cells_grid_id_fkey REFERENCES grids (id)
);
CREATE INDEX grid_cells_grid_id ON grid_cells (grid_id);

CREATE TABLE buildings (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id  text,
    footprint  geometry(MultiPolygon, 4326) NOT NULL,
    kind       text NOT NULL,
    levels     bigint CHECK (levels IS NULL OR levels >= 0),
    households bigint NOT NULL CHECK (households >= 0),
    cell       bigint NOT NULL,
    grid_id    bigint CONSTRAINT buildings_grid_id_fkey REFERENCES grids (id)
);
CREATE INDEX buildings_grid_id ON buildings (grid_id);
CREATE INDEX buildings_cell ON buildings (cell);
CREATE INDEX buildings_footprint_gist ON buildings USING gist (footprint);

CREATE TABLE workers (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('grid_worker', 'patroller', 'department_staff')),
    duty       text NOT NULL CHECK (duty IN ('on_duty', 'off_duty')),
    phone      text,
    device_id  text CONSTRAINT workers_device_id_key UNIQUE,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- `position` keeps a worker's grid duties in the order they were given.
CREATE TABLE worker_grids (
    worker_id      bigint NOT NULL
        CONSTRAINT worker_grids_worker_id_fkey REFERENCES workers (id) ON DELETE CASCADE,
    grid_id        bigint NOT NULL CONSTRAINT worker_grids_grid_id_fkey REFERENCES grids (id),
    responsibility text NOT NULL CHECK (responsibility IN ('primary', 'backup')),
    position       integer NOT NULL,
    CONSTRAINT worker_grids_pkey PRIMARY KEY (worker_id, grid_id)
);
CREATE INDEX worker_grids_grid_id ON worker_grids (grid_id);
-- One primary worker per grid.
CREATE UNIQUE INDEX worker_grids_one_primary ON worker_grids (grid_id) WHERE responsibility = 'primary';

-- Only the SHA-256 of a token's secret is kept. `scopes` is a JSON array of `region:N` / `grid:N`.
CREATE TABLE tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash text NOT NULL CONSTRAINT tokens_token_hash_key UNIQUE,
    role       text NOT NULL
        CHECK (role IN ('admin', 'planner', 'commander', 'worker', 'reporter', 'device')),
    scopes     jsonb NOT NULL DEFAULT '[]',
    worker_id  bigint CONSTRAINT tokens_worker_id_fkey REFERENCES workers (id),
    label      text,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);

-- The append-only change log. Writers take an advisory lock before appending, so sequence numbers
-- become visible in order and a reader tailing `seq > n` never skips one.
CREATE TABLE events (
    seq     bigserial PRIMARY KEY,
    at      timestamptz NOT NULL,
    kind    text NOT NULL,
    payload jsonb NOT NULL
);

CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only';
END
$$;

CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();
