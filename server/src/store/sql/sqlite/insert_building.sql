INSERT INTO buildings (source_id, footprint, kind, levels, households, cell, grid_id)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id
