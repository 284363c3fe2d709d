-- The rows follow as `VALUES (…), (…)`, added by the caller (sqlx's QueryBuilder::push_values).
INSERT INTO buildings (source_id, footprint, kind, levels, households, cell, grid_id)
