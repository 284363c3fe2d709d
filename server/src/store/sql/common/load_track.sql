SELECT worker_id, at, lat, lon, accuracy_m, speed_mps, heading_deg, altitude_m, battery_pct, moving,
       CAST(flags AS TEXT) AS flags, CAST(attributes AS TEXT) AS attributes
FROM positions
WHERE worker_id = $1 AND at >= $2 AND at < $3
ORDER BY at, id
LIMIT $4
