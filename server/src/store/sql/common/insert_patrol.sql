INSERT INTO patrols (worker_id, started_at) VALUES ($1, $2) RETURNING id
