SELECT ip.incident_id, ip.sha256, p.content_type, p.size, ip.at, ip.by_worker_id, ip.by_role
FROM incident_photos ip JOIN photos p ON p.sha256 = ip.sha256
WHERE ip.incident_id = $1
ORDER BY ip.at, ip.sha256
