-- A worker's grid duties as parallel arrays, one element a duty (`sql/bulk.rs`).
INSERT INTO worker_grids (worker_id, grid_id, responsibility, position)
SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::bigint[])
