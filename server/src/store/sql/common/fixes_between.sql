-- Unflagged fixes received in ($1, $2], in the order they were received (replay over the websocket).
SELECT worker_id, at, lat, lon, received_at
FROM positions
WHERE received_at > $1 AND received_at <= $2 AND CAST(flags AS TEXT) = '[]'
ORDER BY received_at, id
LIMIT $3
