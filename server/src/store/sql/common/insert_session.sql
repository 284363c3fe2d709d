INSERT INTO sessions (session_hash, csrf_hash, user_id, created_at, last_seen_at, expires_at, address,
    user_agent)
VALUES ($1, $2, $3, $4, $4, $5, $6, $7)
RETURNING id, user_id, csrf_hash, created_at, last_seen_at, expires_at, address, user_agent, revoked_at
