UPDATE idempotency_keys SET status = $3, content_type = $4, location = $5, body = $6
WHERE principal = $1 AND key = $2 AND status IS NULL
