SELECT grid_id, cell FROM grid_cells ORDER BY grid_id, cell
