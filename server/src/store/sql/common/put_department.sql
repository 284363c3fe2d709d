INSERT INTO departments (code, name) VALUES ($1, $2)
ON CONFLICT (code) DO UPDATE SET name = excluded.name
