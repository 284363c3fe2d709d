INSERT INTO incident_history (incident_id, position, at, actor_worker_id, actor_role, action, from_status,
    to_status, note, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
