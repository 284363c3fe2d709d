-- The rows follow as `VALUES (…), (…)`, added by `SqliteDialect::insert_bulk` (`sql/bulk.rs`).
INSERT INTO grids (code, name, community_id, households, building_count, flag, boundary)
