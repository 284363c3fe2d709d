SELECT kind, name, geometry
FROM base_areas
ORDER BY id
