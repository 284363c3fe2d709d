INSERT INTO photos (sha256, content_type, size, data) VALUES ($1, $2, $3, $4)
ON CONFLICT (sha256) DO NOTHING
