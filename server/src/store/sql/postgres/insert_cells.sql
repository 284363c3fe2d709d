-- A chunk of grid cells as parallel arrays, one element a row (`sql/bulk.rs`).
INSERT INTO grid_cells (cell, grid_id)
SELECT cell, grid_id
FROM UNNEST($1::bigint[], $2::bigint[]) AS t (cell, grid_id)
