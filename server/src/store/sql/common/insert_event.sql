INSERT INTO events (at, kind, payload) VALUES ($1, $2, $3) RETURNING seq
