SELECT kind, name, ST_AsGeoJSON(geometry, 17) AS geometry
FROM base_areas
ORDER BY id
