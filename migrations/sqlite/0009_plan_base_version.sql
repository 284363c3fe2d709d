-- A draft remembers the boundary version of its community it was drawn on (NULL: the grids as
-- imported, before any version). Applying it when the community has moved on is refused as stale, so a
-- planner never silently undoes a change made after the draft. The same column as
-- migrations/postgres/0009_plan_base_version.sql.
ALTER TABLE boundary_plans ADD COLUMN base_version_id INTEGER;
