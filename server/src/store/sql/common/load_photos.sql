-- The photos of every case but the archived (as load_incidents).
SELECT ip.incident_id, ip.sha256, p.content_type, p.size, ip.at, ip.by_worker_id, ip.by_role
FROM incident_photos ip
    JOIN photos p ON p.sha256 = ip.sha256
    JOIN incidents i ON i.id = ip.incident_id
WHERE $1 IS NULL OR i.status NOT IN ('closed', 'cancelled', 'merged') OR i.updated_at >= $1
ORDER BY ip.incident_id, ip.at, ip.sha256
