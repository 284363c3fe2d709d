SELECT id, name, display_name, role, CAST(scopes AS TEXT) AS scopes, worker_id, password_hash, status,
    failed_attempts, locked_until, must_change_password, last_login_at, totp_secret, totp_last_step,
    version, created_at, updated_at
FROM users
WHERE name = $1
