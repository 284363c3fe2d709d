DELETE FROM grid_cells WHERE grid_id IN (SELECT id FROM grids WHERE community_id = $1)
