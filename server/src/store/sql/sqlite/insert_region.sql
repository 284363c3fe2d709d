INSERT INTO regions (level, code, name, parent_id, boundary)
VALUES ($1, $2, $3, $4, $5)
RETURNING id
