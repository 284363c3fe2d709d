INSERT INTO tokens (token_hash, role, scopes, worker_id, label, created_at)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id, role, CAST(scopes AS TEXT) AS scopes, worker_id, label, created_at
