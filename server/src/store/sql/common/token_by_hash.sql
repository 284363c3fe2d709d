SELECT id, role, CAST(scopes AS TEXT) AS scopes, worker_id, label, created_at
FROM tokens
WHERE token_hash = $1 AND revoked_at IS NULL
