UPDATE sessions SET revoked_at = $2
WHERE user_id = $1 AND revoked_at IS NULL AND id <> COALESCE($3, 0)
