-- A key whose write committed (issue 19): the seq of the last event the write's own transaction
-- appended, set in that transaction. A write answered 503 `outcome-unknown` (its COMMIT's answer was lost
-- and the database could not say in time) has no answer kept, but its claim is not released and not
-- taken over when it committed: a retry with the key is told it was carried out instead of doing it twice.
ALTER TABLE idempotency_keys ADD COLUMN committed_seq INTEGER;
