UPDATE cameras
SET name = $1, lat = $2, lon = $3, heading_deg = $4, fov_deg = $5, range_m = $6, kind = $7, status = $8,
    sector = $9
WHERE id = $10
