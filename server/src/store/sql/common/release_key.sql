DELETE FROM idempotency_keys
WHERE principal = $1 AND key = $2 AND status IS NULL AND committed_seq IS NULL
