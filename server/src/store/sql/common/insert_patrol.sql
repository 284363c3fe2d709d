INSERT INTO patrols (worker_id, started_at) VALUES ($1, $2)
RETURNING id, worker_id, started_at, ended_at, current_grid, last_fix_at
