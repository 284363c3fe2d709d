SELECT worker_id, grid_id, responsibility FROM worker_grids ORDER BY worker_id, position
