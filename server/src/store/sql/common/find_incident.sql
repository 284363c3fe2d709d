SELECT id FROM incidents WHERE id = $1
