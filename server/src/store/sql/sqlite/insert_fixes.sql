-- The rows follow as `VALUES (…), (…)`, added by `SqliteDialect::insert_bulk` (`sql/bulk.rs`).
INSERT INTO positions (worker_id, at, received_at, lat, lon, accuracy_m, speed_mps, heading_deg,
    altitude_m, battery_pct, moving, flags, attributes)
