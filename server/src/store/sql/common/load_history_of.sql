SELECT incident_id, at, actor_worker_id, actor_role, action, from_status, to_status, note,
       CAST(detail AS TEXT) AS detail
FROM incident_history
WHERE incident_id = $1
ORDER BY position
