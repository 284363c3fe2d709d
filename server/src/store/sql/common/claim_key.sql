INSERT INTO idempotency_keys (principal, key, request_hash, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (principal, key) DO NOTHING
