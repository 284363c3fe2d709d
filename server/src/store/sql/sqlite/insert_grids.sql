-- The rows follow as `VALUES (…), (…)`, added by the caller (sqlx's QueryBuilder::push_values).
INSERT INTO grids (code, name, community_id, households, building_count, flag, boundary)
