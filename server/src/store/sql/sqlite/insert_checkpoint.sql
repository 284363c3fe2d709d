INSERT INTO checkpoints (name, lat, lon, radius_m, grid_id) VALUES ($1, $2, $3, $4, $5) RETURNING id
