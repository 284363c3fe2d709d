SELECT id, community_id, plan_id, effective_at, applied_at, applied_by, note, CAST(grids AS TEXT) AS grids
FROM boundary_versions
WHERE community_id = $1
ORDER BY id
