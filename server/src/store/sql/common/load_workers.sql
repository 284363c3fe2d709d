SELECT id, name, kind, duty, phone, device_hash FROM workers ORDER BY id
