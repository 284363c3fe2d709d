DELETE FROM cameras WHERE id = $1
RETURNING id, name, lat, lon, heading_deg, fov_deg, range_m, kind, status
