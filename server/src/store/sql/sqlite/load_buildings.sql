SELECT id, source_id, footprint, kind, levels, households, cell, grid_id
FROM buildings
ORDER BY id
