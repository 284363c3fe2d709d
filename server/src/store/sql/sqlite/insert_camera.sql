INSERT INTO cameras (name, lat, lon, heading_deg, fov_deg, range_m, kind, status, sector)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id
