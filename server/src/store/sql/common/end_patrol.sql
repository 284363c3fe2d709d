UPDATE patrols SET ended_at = $1
WHERE id = $2 AND ended_at IS NULL
RETURNING id, worker_id, started_at, ended_at, current_grid, last_fix_at
