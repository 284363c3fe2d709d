INSERT INTO patrol_check_ins (patrol_id, checkpoint_id, at, lat, lon, location, distance_m)
VALUES ($1, $2, $3, $4, $5, ST_SetSRID(ST_MakePoint($5, $4), 4326), $6)
