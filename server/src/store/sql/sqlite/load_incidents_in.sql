-- The cases whose ids are in the JSON array $1.
SELECT id, category_code, priority, source, kind, description, lat, lon, cell, grid_id, community_id,
       street_id, district_id, outside_m, status, level, assignee_id, handler_id, deadline, escalate_at,
       rework_count, deferred, merged_into, resume_to, duplicate_of, reporter_token_id, created_at, updated_at
FROM incidents
WHERE id IN (SELECT value FROM json_each($1))
ORDER BY id
