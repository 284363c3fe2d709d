UPDATE incidents
SET status = $1, level = $2, assignee_id = $3, handler_id = $4, deadline = $5, escalate_at = $6,
    rework_count = $7, deferred = $8, merged_into = $9, resume_to = $10, duplicate_of = $11, updated_at = $12
WHERE id = $13
