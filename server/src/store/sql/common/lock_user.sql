UPDATE users SET locked_until = $2, failed_attempts = 0 WHERE id = $1
