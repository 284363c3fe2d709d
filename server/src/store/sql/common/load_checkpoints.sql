SELECT id, name, lat, lon, radius_m, grid_id FROM checkpoints ORDER BY id
