SELECT id, community_id, kind, status, CAST(grids AS TEXT) AS grids, CAST(warnings AS TEXT) AS warnings,
       effective_at, note, created_at, created_by, version_id, base_version_id
FROM boundary_plans
WHERE id = $1
