INSERT INTO incident_photos (incident_id, sha256, at, by_worker_id, by_role) VALUES ($1, $2, $3, $4, $5)
