-- The history of every case but the archived (as load_incidents).
SELECT h.incident_id, h.at, h.actor_worker_id, h.actor_role, h.action, h.from_status, h.to_status,
       h.note, CAST(h.detail AS TEXT) AS detail
FROM incident_history h JOIN incidents i ON i.id = h.incident_id
WHERE $1 IS NULL OR i.status NOT IN ('closed', 'cancelled', 'merged') OR i.updated_at >= $1
ORDER BY h.incident_id, h.position
