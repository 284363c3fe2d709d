INSERT INTO incidents (category_code, priority, source, kind, description, lat, lon, cell, grid_id,
    community_id, street_id, district_id, outside_m, reporter_token_id, created_at, status, level,
    assignee_id, handler_id, deadline, escalate_at, rework_count, deferred, merged_into, resume_to,
    duplicate_of, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
    $23, $24, $25, $26, $27)
RETURNING id
