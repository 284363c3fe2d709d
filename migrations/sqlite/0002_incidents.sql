-- Incidents (事件 / 案件), SQLite dialect. The same tables as migrations/postgres/0002_incidents.sql.
--
-- Categories and departments are data a deployment edits. A case keeps the grid it was registered in for
-- its whole life; its history is append-only (the work ledger, 工作台账) and the rates are recomputed from
-- it. Photos are stored once by the SHA-256 of their bytes. No resident names or contact details anywhere.

CREATE TABLE departments (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL
);

CREATE TABLE department_members (
    department_code TEXT NOT NULL REFERENCES departments (code) ON DELETE CASCADE,
    worker_id       INTEGER NOT NULL REFERENCES workers (id),
    position        INTEGER NOT NULL,
    PRIMARY KEY (department_code, worker_id)
);

CREATE TABLE categories (
    code            TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    class           TEXT NOT NULL CHECK (class IN ('city_management', 'social_governance')),
    department_code TEXT REFERENCES departments (code),
    limit_low_h     REAL NOT NULL CHECK (limit_low_h > 0),
    limit_normal_h  REAL NOT NULL CHECK (limit_normal_h > 0),
    limit_high_h    REAL NOT NULL CHECK (limit_high_h > 0),
    limit_urgent_h  REAL NOT NULL CHECK (limit_urgent_h > 0),
    kind            TEXT NOT NULL CHECK (kind IN ('on_the_spot', 'promised', 'coordination')),
    active          INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);

-- The digital-city-management and social-governance classes of DOMAIN.md; limits in working hours for
-- low / normal / high / urgent.
INSERT INTO categories (code, name, class, limit_low_h, limit_normal_h, limit_high_h, limit_urgent_h, kind) VALUES
    ('city_appearance', 'City appearance and environment (市容环境)', 'city_management', 40, 16, 8, 2, 'promised'),
    ('advertising', 'Advertising (宣传广告)', 'city_management', 40, 24, 8, 4, 'promised'),
    ('construction', 'Construction (施工管理)', 'city_management', 40, 24, 8, 2, 'coordination'),
    ('street_order', 'Street order (街面秩序)', 'city_management', 16, 8, 4, 1, 'on_the_spot'),
    ('emergency', 'Emergencies (突发事件)', 'city_management', 4, 2, 1, 0.5, 'on_the_spot'),
    ('other', 'Other (其他事件)', 'city_management', 40, 24, 16, 4, 'promised'),
    ('dispute', 'Disputes (矛盾纠纷)', 'social_governance', 40, 24, 8, 2, 'coordination'),
    ('public_safety', 'Public safety (治安)', 'social_governance', 8, 4, 2, 0.5, 'on_the_spot'),
    ('hazard', 'Hazards (安全隐患)', 'social_governance', 24, 8, 4, 1, 'promised'),
    ('livelihood', 'People''s requests (民生诉求)', 'social_governance', 40, 24, 8, 4, 'promised');

CREATE TABLE incidents (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    category_code     TEXT NOT NULL REFERENCES categories (code),
    priority          TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    source            TEXT NOT NULL
        CHECK (source IN ('worker', 'patrol', 'camera', 'hotline', 'citizen', 'open311')),
    kind              TEXT NOT NULL CHECK (kind IN ('on_the_spot', 'promised', 'coordination')),
    description       TEXT NOT NULL,
    lat               REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon               REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
    cell              INTEGER NOT NULL,
    grid_id           INTEGER NOT NULL REFERENCES grids (id),
    community_id      INTEGER NOT NULL REFERENCES regions (id),
    street_id         INTEGER REFERENCES regions (id),
    district_id       INTEGER REFERENCES regions (id),
    outside_m         REAL,
    status            TEXT NOT NULL CHECK (status IN ('registered', 'dispatched', 'accepted', 'in_progress',
                          'resolved', 'closed', 'deferred', 'cancelled', 'merged')),
    level             TEXT NOT NULL CHECK (level IN ('grid', 'community', 'street', 'district')),
    assignee_id       INTEGER REFERENCES workers (id),
    handler_id        INTEGER REFERENCES workers (id),
    deadline          TEXT,
    escalate_at       TEXT,
    rework_count      INTEGER NOT NULL DEFAULT 0 CHECK (rework_count >= 0),
    deferred          INTEGER NOT NULL DEFAULT 0 CHECK (deferred IN (0, 1)),
    merged_into       INTEGER REFERENCES incidents (id),
    resume_to         TEXT CHECK (resume_to IS NULL OR resume_to IN ('registered', 'dispatched', 'accepted',
                          'in_progress', 'resolved', 'closed', 'deferred', 'cancelled', 'merged')),
    duplicate_of      INTEGER REFERENCES incidents (id),
    reporter_token_id INTEGER REFERENCES tokens (id),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX incidents_grid_id ON incidents (grid_id);
CREATE INDEX incidents_status ON incidents (status);
CREATE INDEX incidents_assignee_id ON incidents (assignee_id);
CREATE INDEX incidents_created_at ON incidents (created_at);
CREATE INDEX incidents_category_code ON incidents (category_code);

-- One row per action, in order within its case. `detail` is JSON.
CREATE TABLE incident_history (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id     INTEGER NOT NULL REFERENCES incidents (id),
    position        INTEGER NOT NULL CHECK (position >= 0),
    at              TEXT NOT NULL,
    actor_worker_id INTEGER REFERENCES workers (id),
    actor_role      TEXT NOT NULL
        CHECK (actor_role IN ('admin', 'planner', 'commander', 'worker', 'reporter', 'device')),
    action          TEXT NOT NULL,
    from_status     TEXT NOT NULL,
    to_status       TEXT NOT NULL,
    note            TEXT,
    detail          TEXT CHECK (detail IS NULL OR json_valid(detail)),
    UNIQUE (incident_id, position)
);

CREATE TRIGGER incident_history_no_update BEFORE UPDATE ON incident_history
BEGIN
    SELECT RAISE(ABORT, 'incident history is append-only');
END;

CREATE TRIGGER incident_history_no_delete BEFORE DELETE ON incident_history
BEGIN
    SELECT RAISE(ABORT, 'incident history is append-only');
END;

CREATE TABLE photos (
    sha256       TEXT PRIMARY KEY NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL CHECK (size >= 0),
    data         BLOB NOT NULL
);

CREATE TABLE incident_photos (
    incident_id  INTEGER NOT NULL REFERENCES incidents (id),
    sha256       TEXT NOT NULL REFERENCES photos (sha256),
    at           TEXT NOT NULL,
    by_worker_id INTEGER REFERENCES workers (id),
    by_role      TEXT NOT NULL,
    PRIMARY KEY (incident_id, sha256)
);
