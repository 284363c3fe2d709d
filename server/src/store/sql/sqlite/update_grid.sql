UPDATE grids SET name = $1, households = $2, building_count = $3, flag = $4, boundary = $5 WHERE id = $6
