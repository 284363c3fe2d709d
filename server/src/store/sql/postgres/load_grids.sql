SELECT id, code, name, community_id, households, building_count, flag::text AS flag,
       ST_AsGeoJSON(boundary, 17) AS boundary
FROM grids
ORDER BY id
