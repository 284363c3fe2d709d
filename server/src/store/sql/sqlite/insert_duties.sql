-- The rows follow as `VALUES (…), (…)`, added by `SqliteDialect::insert_bulk` (`sql/bulk.rs`).
INSERT INTO worker_grids (worker_id, grid_id, responsibility, position)
