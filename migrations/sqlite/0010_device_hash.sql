-- A tracker's device id is a credential (OsmAnd and Traccar Client can send nothing else): the server
-- issues a random one when a device is bound to a worker, shows it once, and keeps only its SHA-256
-- (lower-case hex), as it does for tokens. The ids stored before were chosen by hand (`demo-<grid
-- code>`), were shown to co-workers and sit in the event log, so they are dropped, not hashed: each
-- tracker is bound again (`PATCH /api/workers/{id}` with `"device": true`). The same change as
-- migrations/postgres/0010_device_hash.sql; the column keeps its UNIQUE constraint.
ALTER TABLE workers RENAME COLUMN device_id TO device_hash;
UPDATE workers SET device_hash = NULL;
