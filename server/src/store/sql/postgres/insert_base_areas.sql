-- One statement for all of an import's base-map areas: parallel arrays, one element per area.
INSERT INTO base_areas (kind, name, geometry)
SELECT kind, name, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(geometry), 4326))
FROM UNNEST($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t (kind, name, geometry, n)
ORDER BY n
