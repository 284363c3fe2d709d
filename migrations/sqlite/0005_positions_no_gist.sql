-- Numbered beside migrations/postgres/0005_positions_no_gist.sql, which drops the GiST index of the
-- positions table. The SQLite table never had a spatial index, so there is nothing to do here.
SELECT 1;
