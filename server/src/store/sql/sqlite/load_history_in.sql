-- The history of the cases whose ids are in the JSON array $1.
SELECT incident_id, at, actor_worker_id, actor_role, action, from_status, to_status, note,
       CAST(detail AS TEXT) AS detail
FROM incident_history
WHERE incident_id IN (SELECT value FROM json_each($1))
ORDER BY incident_id, position
