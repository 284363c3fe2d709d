INSERT INTO workers (name, kind, duty, phone, device_hash, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $6)
RETURNING id
