UPDATE grids
SET name = $1, households = $2, building_count = $3, flag = $4::jsonb, boundary = ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($5), 4326))
WHERE id = $6
