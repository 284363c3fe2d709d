SELECT patrol_id, checkpoint_id, at, lat, lon, distance_m FROM patrol_check_ins ORDER BY patrol_id, at
