-- The rows follow as `VALUES (…), (…)`, added by the caller (sqlx's QueryBuilder::push_values).
INSERT INTO positions (worker_id, at, received_at, lat, lon, accuracy_m, speed_mps, heading_deg,
    altitude_m, battery_pct, moving, flags, attributes)
