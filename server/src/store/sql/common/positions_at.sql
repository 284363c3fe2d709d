-- Each worker's newest unflagged fix taken by $1 (its time and its receipt both at or before it): the
-- position the world held then (replay).
SELECT p.worker_id, p.at, p.lat, p.lon
FROM workers w
JOIN positions p ON p.id = (
    SELECT q.id FROM positions q
    WHERE q.worker_id = w.id AND q.at <= $1 AND q.received_at <= $1 AND CAST(q.flags AS TEXT) = '[]'
    ORDER BY q.at DESC, q.id DESC
    LIMIT 1)
ORDER BY p.worker_id
