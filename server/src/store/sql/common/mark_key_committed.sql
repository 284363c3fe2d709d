UPDATE idempotency_keys SET committed_seq = $3 WHERE principal = $1 AND key = $2
