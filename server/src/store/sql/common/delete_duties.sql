DELETE FROM worker_grids WHERE worker_id = $1
