SELECT id, source_id, ST_AsGeoJSON(footprint, 17) AS footprint, kind, levels, households, cell, grid_id
FROM buildings
ORDER BY id
