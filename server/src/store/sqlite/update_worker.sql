UPDATE workers
SET name = ?, kind = ?, duty = ?, phone = ?, device_id = ?, updated_at = ?
WHERE id = ?
