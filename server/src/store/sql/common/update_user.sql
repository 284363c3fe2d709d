UPDATE users SET display_name = $2, role = $3, scopes = $4, worker_id = $5, password_hash = $6,
    status = $7, must_change_password = $8, totp_secret = $9, updated_at = $10,
    version = version + 1,
    failed_attempts = CASE WHEN $11 THEN 0 ELSE failed_attempts END,
    locked_until = CASE WHEN $11 THEN NULL ELSE locked_until END
WHERE id = $1
RETURNING id, name, display_name, role, CAST(scopes AS TEXT) AS scopes, worker_id, password_hash, status,
    failed_attempts, locked_until, must_change_password, last_login_at, totp_secret, totp_last_step,
    version, created_at, updated_at
