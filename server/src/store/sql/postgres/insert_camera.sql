INSERT INTO cameras (name, lat, lon, location, heading_deg, fov_deg, range_m, kind, status, sector)
VALUES ($1, $2, $3, ST_SetSRID(ST_MakePoint($3, $2), 4326), $4, $5, $6, $7, $8,
    ST_SetSRID(ST_GeomFromGeoJSON($9), 4326))
RETURNING id
