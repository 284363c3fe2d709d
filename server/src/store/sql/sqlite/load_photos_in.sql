-- The photos of the cases whose ids are in the JSON array $1.
SELECT ip.incident_id, ip.sha256, p.content_type, p.size, ip.at, ip.by_worker_id, ip.by_role
FROM incident_photos ip JOIN photos p ON p.sha256 = ip.sha256
WHERE ip.incident_id IN (SELECT value FROM json_each($1))
ORDER BY ip.incident_id, ip.at, ip.sha256
