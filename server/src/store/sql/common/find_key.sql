SELECT request_hash, status, content_type, location, body, created_at, committed_seq
FROM idempotency_keys WHERE principal = $1 AND key = $2
