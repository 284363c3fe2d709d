-- Draws $1 case ids from the incidents' sequence and numbers $1 events after the log's last. Runs
-- under the events lock, in a statement after the one that took it: its snapshot sees every event
-- committed before, so the numbers continue the log without a gap (a rolled-back write leaves none).
SELECT nextval(pg_get_serial_sequence('incidents', 'id')) AS id,
       (SELECT COALESCE(max(seq), 0) FROM events) + n AS seq
FROM generate_series(1, $1) AS n
ORDER BY n
