-- Takes the events lock (held to the end of the transaction), then draws $2 case ids and $2 event
-- sequence numbers. The lock's one-row subquery is joined before any row is projected, so every
-- nextval runs after the lock is held.
SELECT nextval(pg_get_serial_sequence('incidents', 'id')) AS id,
       nextval(pg_get_serial_sequence('events', 'seq')) AS seq
FROM (SELECT pg_advisory_xact_lock($1)) AS locked, generate_series(1, $2) AS n
ORDER BY 1
