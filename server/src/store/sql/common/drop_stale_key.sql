DELETE FROM idempotency_keys
WHERE principal = $1 AND key = $2
    AND (created_at < $3 OR (status IS NULL AND committed_seq IS NULL AND created_at < $4))
