-- The rows follow as `VALUES (…), (…)`, added by the caller (sqlx's QueryBuilder::push_values).
INSERT INTO base_lines (kind, name, geometry)
