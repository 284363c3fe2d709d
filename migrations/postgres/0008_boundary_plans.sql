-- Boundary plans and versions (网格调整), PostgreSQL dialect. The same tables as
-- migrations/sqlite/0008_boundary_plans.sql.
--
-- A plan is a proposed cell → grid assignment of one community, stored as JSON
-- (`[{code, name, new, cells: ["8c…", …]}]`, cells as H3 strings) with the warnings its validation
-- gave. Applying it writes a version: the community's whole assignment after the change, so a rollback
-- can apply an earlier one again exactly. Versions are append-only history; a rollback is a new version.

CREATE TABLE boundary_plans (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    community_id bigint NOT NULL CONSTRAINT boundary_plans_community_id_fkey REFERENCES regions (id),
    kind         text NOT NULL CHECK (kind IN ('manual', 'auto', 'rollback')),
    status       text NOT NULL CHECK (status IN ('draft', 'applied')),
    grids        jsonb NOT NULL,
    warnings     jsonb NOT NULL,
    effective_at timestamptz,
    note         text,
    created_at   timestamptz NOT NULL,
    created_by   bigint CONSTRAINT boundary_plans_created_by_fkey REFERENCES tokens (id),
    version_id   bigint
);
CREATE INDEX boundary_plans_community_id ON boundary_plans (community_id);

CREATE TABLE boundary_versions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    community_id bigint NOT NULL CONSTRAINT boundary_versions_community_id_fkey REFERENCES regions (id),
    plan_id      bigint CONSTRAINT boundary_versions_plan_id_fkey REFERENCES boundary_plans (id),
    effective_at timestamptz NOT NULL,
    applied_at   timestamptz NOT NULL,
    applied_by   bigint CONSTRAINT boundary_versions_applied_by_fkey REFERENCES tokens (id),
    note         text,
    grids        jsonb NOT NULL
);
CREATE INDEX boundary_versions_community_id ON boundary_versions (community_id);

CREATE FUNCTION boundary_versions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'boundary versions are append-only';
END
$$;

CREATE TRIGGER boundary_versions_no_change BEFORE UPDATE OR DELETE ON boundary_versions
    FOR EACH ROW EXECUTE FUNCTION boundary_versions_append_only();
