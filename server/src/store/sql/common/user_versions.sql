SELECT id, version FROM users
