SELECT id FROM sessions WHERE revoked_at IS NOT NULL AND revoked_at >= $1
