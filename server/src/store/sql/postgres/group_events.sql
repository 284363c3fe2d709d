-- The events of a group of new cases, numbered after the log's last in the order given. Runs under the
-- events lock (taken by group_ids.sql, an earlier statement), so its snapshot sees every event committed
-- before: the numbers continue the log without a gap. The scalar subquery is evaluated once.
INSERT INTO events (seq, at, kind, payload)
SELECT (SELECT COALESCE(max(seq), 0) FROM events) + o, a, k, p::jsonb
FROM UNNEST($1::timestamptz[], $2::text[], $3::text[]) WITH ORDINALITY AS t (a, k, p, o)
RETURNING seq
