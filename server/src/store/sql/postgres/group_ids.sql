-- Takes the events lock (held to the end of the transaction), then draws $2 case ids. The lock's
-- one-row subquery is joined before any row is projected, so every nextval runs after the lock is
-- held. The events are numbered later, by group_events.sql: a statement that starts after the lock was
-- granted, so its snapshot sees every event committed before.
SELECT nextval(pg_get_serial_sequence('incidents', 'id')) AS id
FROM (SELECT pg_advisory_xact_lock($1)) AS locked, generate_series(1, $2) AS n
ORDER BY 1
