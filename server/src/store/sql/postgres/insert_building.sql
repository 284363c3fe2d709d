INSERT INTO buildings (source_id, footprint, kind, levels, households, cell, grid_id)
VALUES ($1, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($2), 4326)), $3, $4, $5, $6, $7)
RETURNING id
