-- Boundary plans and versions (网格调整), SQLite dialect. The same tables as
-- migrations/postgres/0008_boundary_plans.sql.
--
-- A plan is a proposed cell → grid assignment of one community, stored as JSON
-- (`[{code, name, new, cells: ["8c…", …]}]`, cells as H3 strings) with the warnings its validation
-- gave. Applying it writes a version: the community's whole assignment after the change, so a rollback
-- can apply an earlier one again exactly. Versions are append-only history; a rollback is a new version.

CREATE TABLE boundary_plans (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id INTEGER NOT NULL REFERENCES regions (id),
    kind         TEXT NOT NULL CHECK (kind IN ('manual', 'auto', 'rollback')),
    status       TEXT NOT NULL CHECK (status IN ('draft', 'applied')),
    grids        TEXT NOT NULL CHECK (json_valid(grids)),
    warnings     TEXT NOT NULL CHECK (json_valid(warnings)),
    effective_at TEXT,
    note         TEXT,
    created_at   TEXT NOT NULL,
    created_by   INTEGER REFERENCES tokens (id),
    version_id   INTEGER
);
CREATE INDEX boundary_plans_community_id ON boundary_plans (community_id);

CREATE TABLE boundary_versions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id INTEGER NOT NULL REFERENCES regions (id),
    plan_id      INTEGER REFERENCES boundary_plans (id),
    effective_at TEXT NOT NULL,
    applied_at   TEXT NOT NULL,
    applied_by   INTEGER REFERENCES tokens (id),
    note         TEXT,
    grids        TEXT NOT NULL CHECK (json_valid(grids))
);
CREATE INDEX boundary_versions_community_id ON boundary_versions (community_id);

CREATE TRIGGER boundary_versions_no_update BEFORE UPDATE ON boundary_versions
BEGIN
    SELECT RAISE(ABORT, 'boundary versions are append-only');
END;

CREATE TRIGGER boundary_versions_no_delete BEFORE DELETE ON boundary_versions
BEGIN
    SELECT RAISE(ABORT, 'boundary versions are append-only');
END;
