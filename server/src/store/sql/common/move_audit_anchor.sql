UPDATE audit_anchor SET seq = $1, hash = $2 WHERE id = 1
