INSERT INTO events (at, kind, payload) VALUES ($1, $2, $3::jsonb) RETURNING seq
