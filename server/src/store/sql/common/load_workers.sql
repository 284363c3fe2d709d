SELECT id, name, kind, duty, phone, device_id FROM workers ORDER BY id
