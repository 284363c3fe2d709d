INSERT INTO tokens (token_hash, role, scopes, worker_id, label, created_at, expires_at, prefix, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id, role, CAST(scopes AS TEXT) AS scopes, worker_id, label, created_at, expires_at, prefix,
    created_by, last_used_at, revoked_at
