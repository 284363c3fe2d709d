-- A cell keeps its latest visit: an older one arriving late changes nothing.
INSERT INTO cell_visits (cell, last_at, worker_id, patrol_id) VALUES ($1, $2, $3, $4)
ON CONFLICT (cell) DO UPDATE SET last_at = excluded.last_at, worker_id = excluded.worker_id,
    patrol_id = excluded.patrol_id
WHERE excluded.last_at > cell_visits.last_at
