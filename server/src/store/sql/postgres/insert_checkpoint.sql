INSERT INTO checkpoints (name, lat, lon, location, radius_m, grid_id)
VALUES ($1, $2, $3, ST_SetSRID(ST_MakePoint($3, $2), 4326), $4, $5)
RETURNING id
