UPDATE buildings SET grid_id = $1 WHERE id = $2
