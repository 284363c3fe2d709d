INSERT INTO regions (level, code, name, parent_id, boundary)
VALUES ($1, $2, $3, $4, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($5), 4326)))
RETURNING id
