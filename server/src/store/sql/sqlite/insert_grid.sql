INSERT INTO grids (code, name, community_id, households, building_count, flag, boundary)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id
