-- 17 decimal digits: ST_AsGeoJSON then writes every coordinate so it reads back to the same f64.
SELECT id, level, code, name, parent_id, ST_AsGeoJSON(boundary, 17) AS boundary
FROM regions
ORDER BY id
