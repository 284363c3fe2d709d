SELECT id FROM tokens WHERE revoked_at IS NOT NULL
