UPDATE cameras
SET name = $1, lat = $2, lon = $3, location = ST_SetSRID(ST_MakePoint($3, $2), 4326), heading_deg = $4,
    fov_deg = $5, range_m = $6, kind = $7, status = $8, sector = ST_SetSRID(ST_GeomFromGeoJSON($9), 4326)
WHERE id = $10
