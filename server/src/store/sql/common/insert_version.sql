INSERT INTO boundary_versions (community_id, plan_id, effective_at, applied_at, applied_by, note, grids)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id, community_id, plan_id, effective_at, applied_at, applied_by, note, CAST(grids AS TEXT) AS grids
