-- The events of a group of new cases, with the sequence numbers drawn by group_ids.sql.
INSERT INTO events (seq, at, kind, payload)
SELECT s, a, k, p::jsonb
FROM UNNEST($1::bigint[], $2::timestamptz[], $3::text[], $4::text[]) AS t (s, a, k, p)
