-- Every case but the archived: closed, cancelled or merged and last changed before $1 (NULL: none).
SELECT id, category_code, priority, source, kind, description, lat, lon, cell, grid_id, community_id,
       street_id, district_id, outside_m, status, level, assignee_id, handler_id, deadline, escalate_at,
       rework_count, deferred, merged_into, resume_to, duplicate_of, reporter_token_id, created_at, updated_at
FROM incidents
WHERE $1 IS NULL OR status NOT IN ('closed', 'cancelled', 'merged') OR updated_at >= $1
ORDER BY id
