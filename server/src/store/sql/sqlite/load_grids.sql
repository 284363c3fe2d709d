SELECT id, code, name, community_id, households, building_count, flag, boundary
FROM grids
ORDER BY id
