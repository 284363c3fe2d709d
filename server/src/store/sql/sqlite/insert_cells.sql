-- The rows follow as `VALUES (…), (…)`, added by the caller (sqlx's QueryBuilder::push_values).
INSERT INTO grid_cells (cell, grid_id)
