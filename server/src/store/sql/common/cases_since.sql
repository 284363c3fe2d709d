SELECT id, created_at, lat, lon, cell, grid_id, category_code FROM incidents WHERE created_at >= $1 ORDER BY id
