SELECT id, name, lat, lon, heading_deg, fov_deg, range_m, kind, status FROM cameras ORDER BY id
