SELECT id, level, code, name, parent_id, boundary
FROM regions
ORDER BY id
