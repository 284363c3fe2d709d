-- The rows follow as `VALUES (…), (…)`, added by `SqliteDialect::insert_bulk` (`sql/bulk.rs`).
INSERT INTO buildings (source_id, footprint, kind, levels, households, cell, grid_id)
