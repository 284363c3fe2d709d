-- gridwatch schema, SQLite dialect. The same tables as migrations/postgres/0001_schema.sql.
--
-- Geometries are GeoJSON text in degrees (EPSG:4326, lon/lat order); timestamps are RFC 3339 text
-- in UTC; JSON columns are text checked with json_valid. H3 cells are stored as their 64-bit index
-- (the top bit is always 0, so it fits a signed INTEGER unchanged).
-- Counts only: no resident names or identity numbers are ever stored.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE regions (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    level     TEXT NOT NULL CHECK (level IN ('district', 'street', 'community')),
    code      TEXT NOT NULL UNIQUE,
    name      TEXT NOT NULL,
    parent_id INTEGER REFERENCES regions (id),
    boundary  TEXT NOT NULL
);
CREATE INDEX regions_parent_id ON regions (parent_id);

CREATE TABLE grids (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    code           TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    community_id   INTEGER NOT NULL REFERENCES regions (id),
    households     INTEGER NOT NULL DEFAULT 0 CHECK (households >= 0),
    building_count INTEGER NOT NULL DEFAULT 0 CHECK (building_count >= 0),
    flag           TEXT CHECK (flag IS NULL OR json_valid(flag)),
    boundary       TEXT NOT NULL
);
CREATE INDEX grids_community_id ON grids (community_id);

-- The primary key makes "no cell in two grids" a rule of the schema.
-- INTEGER PRIMARY KEY makes the cell the rowid: the table is its own index.
CREATE TABLE grid_cells (
    cell    INTEGER PRIMARY KEY NOT NULL,
    grid_id INTEGER NOT NULL REFERENCES grids (id)
);
CREATE INDEX grid_cells_grid_id ON grid_cells (grid_id);

CREATE TABLE buildings (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id  TEXT,
    footprint  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    levels     INTEGER CHECK (levels IS NULL OR levels >= 0),
    households INTEGER NOT NULL CHECK (households >= 0),
    cell       INTEGER NOT NULL,
    grid_id    INTEGER REFERENCES grids (id)
);
CREATE INDEX buildings_grid_id ON buildings (grid_id);
CREATE INDEX buildings_cell ON buildings (cell);

CREATE TABLE workers (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('grid_worker', 'patroller', 'department_staff')),
    duty       TEXT NOT NULL CHECK (duty IN ('on_duty', 'off_duty')),
    phone      TEXT,
    device_id  TEXT UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- `position` keeps a worker's grid duties in the order they were given.
CREATE TABLE worker_grids (
    worker_id      INTEGER NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
    grid_id        INTEGER NOT NULL REFERENCES grids (id),
    responsibility TEXT NOT NULL CHECK (responsibility IN ('primary', 'backup')),
    position       INTEGER NOT NULL,
    PRIMARY KEY (worker_id, grid_id)
);
CREATE INDEX worker_grids_grid_id ON worker_grids (grid_id);
-- One primary worker per grid.
CREATE UNIQUE INDEX worker_grids_one_primary ON worker_grids (grid_id) WHERE responsibility = 'primary';

-- Only the SHA-256 of a token's secret is kept. `scopes` is a JSON array of `region:N` / `grid:N`.
CREATE TABLE tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL
        CHECK (role IN ('admin', 'planner', 'commander', 'worker', 'reporter', 'device')),
    scopes     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(scopes)),
    worker_id  INTEGER REFERENCES workers (id),
    label      TEXT,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- The append-only change log. AUTOINCREMENT: a sequence number is never reused.
CREATE TABLE events (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    kind    TEXT NOT NULL,
    payload TEXT NOT NULL CHECK (json_valid(payload))
);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
