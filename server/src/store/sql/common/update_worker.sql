UPDATE workers
SET name = $1, kind = $2, duty = $3, phone = $4, device_hash = $5, updated_at = $6
WHERE id = $7
