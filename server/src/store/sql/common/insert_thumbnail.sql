INSERT INTO photo_thumbnails (sha256, data) VALUES ($1, $2)
ON CONFLICT (sha256) DO NOTHING
