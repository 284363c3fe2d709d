INSERT INTO patrol_check_ins (patrol_id, checkpoint_id, at, lat, lon, distance_m)
VALUES ($1, $2, $3, $4, $5, $6)
