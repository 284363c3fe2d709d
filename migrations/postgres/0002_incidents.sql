-- Incidents (事件 / 案件), PostgreSQL + PostGIS dialect. The same tables as migrations/sqlite/0002_incidents.sql.
--
-- Categories and departments are data a deployment edits. A case keeps the grid it was registered in for
-- its whole life; its point is a real geometry(Point, 4326) with a GiST index, so QGIS opens the table.
-- Its history is append-only (the work ledger, 工作台账) and the rates are recomputed from it. Photos are stored once by the SHA-256 of their bytes. No resident names or contact details anywhere.

CREATE TABLE departments (
    code text PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE department_members (
    department_code text NOT NULL REFERENCES departments (code) ON DELETE CASCADE,
    worker_id       bigint NOT NULL REFERENCES workers (id),
    position        bigint NOT NULL,
    PRIMARY KEY (department_code, worker_id)
);

CREATE TABLE categories (
    code            text PRIMARY KEY,
    name            text NOT NULL,
    class           text NOT NULL CHECK (class IN ('city_management', 'social_governance')),
    department_code text REFERENCES departments (code),
    limit_low_h     double precision NOT NULL CHECK (limit_low_h > 0),
    limit_normal_h  double precision NOT NULL CHECK (limit_normal_h > 0),
    limit_high_h    double precision NOT NULL CHECK (limit_high_h > 0),
    limit_urgent_h  double precision NOT NULL CHECK (limit_urgent_h > 0),
    kind            text NOT NULL CHECK (kind IN ('on_the_spot', 'promised', 'coordination')),
    active          boolean NOT NULL DEFAULT true
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
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category_code     text NOT NULL REFERENCES categories (code),
    priority          text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    source            text NOT NULL
        CHECK (source IN ('worker', 'patrol', 'camera', 'hotline', 'citizen', 'open311')),
    kind              text NOT NULL CHECK (kind IN ('on_the_spot', 'promised', 'coordination')),
    description       text NOT NULL,
    lat               double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon               double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    cell              bigint NOT NULL,
    location          geometry(Point, 4326) NOT NULL,
    grid_id           bigint NOT NULL REFERENCES grids (id),
    community_id      bigint NOT NULL REFERENCES regions (id),
    street_id         bigint REFERENCES regions (id),
    district_id       bigint REFERENCES regions (id),
    outside_m         double precision,
    status            text NOT NULL CHECK (status IN ('registered', 'dispatched', 'accepted', 'in_progress',
                          'resolved', 'closed', 'deferred', 'cancelled', 'merged')),
    level             text NOT NULL CHECK (level IN ('grid', 'community', 'street', 'district')),
    assignee_id       bigint REFERENCES workers (id),
    handler_id        bigint REFERENCES workers (id),
    deadline          timestamptz,
    escalate_at       timestamptz,
    rework_count      bigint NOT NULL DEFAULT 0 CHECK (rework_count >= 0),
    deferred          boolean NOT NULL DEFAULT false,
    merged_into       bigint REFERENCES incidents (id),
    resume_to         text CHECK (resume_to IS NULL OR resume_to IN ('registered', 'dispatched', 'accepted',
                          'in_progress', 'resolved', 'closed', 'deferred', 'cancelled', 'merged')),
    duplicate_of      bigint REFERENCES incidents (id),
    reporter_token_id bigint REFERENCES tokens (id),
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX incidents_grid_id ON incidents (grid_id);
CREATE INDEX incidents_location_gist ON incidents USING gist (location);
CREATE INDEX incidents_status ON incidents (status);
CREATE INDEX incidents_assignee_id ON incidents (assignee_id);
CREATE INDEX incidents_created_at ON incidents (created_at);
CREATE INDEX incidents_category_code ON incidents (category_code);

-- One row per action, in order within its case. `detail` is JSON.
CREATE TABLE incident_history (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id     bigint NOT NULL REFERENCES incidents (id),
    position        bigint NOT NULL CHECK (position >= 0),
    at              timestamptz NOT NULL,
    actor_worker_id bigint REFERENCES workers (id),
    actor_role      text NOT NULL
        CHECK (actor_role IN ('admin', 'planner', 'commander', 'worker', 'reporter', 'device')),
    action          text NOT NULL,
    from_status     text NOT NULL,
    to_status       text NOT NULL,
    note            text,
    detail          jsonb,
    UNIQUE (incident_id, position)
);

CREATE FUNCTION incident_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'incident history is append-only';
END
$$;

CREATE TRIGGER incident_history_no_change BEFORE UPDATE OR DELETE ON incident_history
    FOR EACH ROW EXECUTE FUNCTION incident_history_append_only();
CREATE TRIGGER incident_history_no_truncate BEFORE TRUNCATE ON incident_history
    FOR EACH STATEMENT EXECUTE FUNCTION incident_history_append_only();

CREATE TABLE photos (
    sha256       text PRIMARY KEY,
    content_type text NOT NULL,
    size         bigint NOT NULL CHECK (size >= 0),
    data         bytea NOT NULL
);

CREATE TABLE incident_photos (
    incident_id  bigint NOT NULL REFERENCES incidents (id),
    sha256       text NOT NULL REFERENCES photos (sha256),
    at           timestamptz NOT NULL,
    by_worker_id bigint REFERENCES workers (id),
    by_role      text NOT NULL,
    PRIMARY KEY (incident_id, sha256)
);
