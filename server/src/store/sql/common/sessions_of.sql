SELECT id, user_id, csrf_hash, created_at, last_seen_at, expires_at, address, user_agent, revoked_at
FROM sessions
WHERE user_id = $1 AND revoked_at IS NULL
ORDER BY id
