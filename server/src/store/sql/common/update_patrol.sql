UPDATE patrols SET current_grid = $1, last_fix_at = $2 WHERE id = $3 AND ended_at IS NULL
