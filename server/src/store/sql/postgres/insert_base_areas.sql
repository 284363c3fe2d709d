-- A chunk of an import's base-map areas as parallel arrays, one element a row (`sql/bulk.rs`).
INSERT INTO base_areas (kind, name, geometry)
SELECT kind, name, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(geometry), 4326))
FROM UNNEST($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t (kind, name, geometry, n)
ORDER BY n
