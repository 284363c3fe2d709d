SELECT seq, at, kind, CAST(payload AS TEXT) AS payload FROM events WHERE seq > $1 ORDER BY seq LIMIT $2
