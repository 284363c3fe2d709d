UPDATE grids SET households = households + $1, building_count = building_count + 1
WHERE id = $2
RETURNING households, building_count
