INSERT INTO users (name, display_name, role, scopes, worker_id, password_hash, must_change_password,
    totp_secret, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
RETURNING id, name, display_name, role, CAST(scopes AS TEXT) AS scopes, worker_id, password_hash, status,
    failed_attempts, locked_until, must_change_password, last_login_at, totp_secret, totp_last_step,
    version, created_at, updated_at
