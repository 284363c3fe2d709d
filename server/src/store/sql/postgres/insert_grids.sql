-- A chunk of an import's grids as parallel arrays, one element a row (`sql/bulk.rs`).
INSERT INTO grids (code, name, community_id, households, building_count, flag, boundary)
SELECT code, name, community_id, households, building_count, flag::jsonb,
       ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(boundary), 4326))
FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[])
    AS t (code, name, community_id, households, building_count, flag, boundary)
