SELECT id, worker_id, started_at, ended_at, current_grid, last_fix_at FROM patrols ORDER BY id
