INSERT INTO worker_grids (worker_id, grid_id, responsibility, position) VALUES ($1, $2, $3, $4)
