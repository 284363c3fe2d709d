UPDATE users SET failed_attempts = failed_attempts + 1 WHERE id = $1
RETURNING failed_attempts
