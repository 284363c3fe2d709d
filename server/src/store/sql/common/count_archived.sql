-- How many cases a snapshot with the archive line $1 leaves out (0 when $1 is NULL).
SELECT COUNT(*) FROM incidents
WHERE status IN ('closed', 'cancelled', 'merged') AND updated_at < $1
