INSERT INTO boundary_plans (community_id, kind, status, grids, warnings, effective_at, note, created_at,
    created_by, base_version_id)
VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $9)
RETURNING id, community_id, kind, status, CAST(grids AS TEXT) AS grids, CAST(warnings AS TEXT) AS warnings,
    effective_at, note, created_at, created_by, version_id, base_version_id
