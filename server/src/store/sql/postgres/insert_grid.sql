INSERT INTO grids (name, households, building_count, flag, boundary, code, community_id)
VALUES ($1, $2, $3, $4::jsonb, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($5), 4326)), $6, $7)
RETURNING id
