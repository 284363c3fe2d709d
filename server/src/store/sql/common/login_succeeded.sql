UPDATE users SET failed_attempts = 0, locked_until = NULL, last_login_at = $2,
    totp_last_step = COALESCE($3, totp_last_step)
WHERE id = $1
