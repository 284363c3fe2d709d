SELECT id, role, CAST(scopes AS TEXT) AS scopes, worker_id, label, created_at, expires_at, prefix,
    created_by, last_used_at, revoked_at
FROM tokens
ORDER BY id
