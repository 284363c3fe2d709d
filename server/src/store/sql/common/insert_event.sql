INSERT INTO events (seq, at, kind, payload) VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM events), $1, $2, $3) RETURNING seq
