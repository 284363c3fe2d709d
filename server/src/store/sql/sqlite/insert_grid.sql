INSERT INTO grids (name, households, building_count, flag, boundary, code, community_id)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id
