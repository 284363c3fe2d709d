-- The rows follow as `VALUES (…), (…)`, added by `SqliteDialect::insert_bulk` (`sql/bulk.rs`).
INSERT INTO incident_history (incident_id, position, at, actor_worker_id, actor_role, action, from_status,
    to_status, note, detail)
