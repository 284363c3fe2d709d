-- A chunk of an import's buildings as parallel arrays, one element a row (`sql/bulk.rs`).
INSERT INTO buildings (source_id, footprint, kind, levels, households, cell, grid_id)
SELECT source_id, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(footprint), 4326)), kind, levels, households,
       cell, grid_id
FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[])
    AS t (source_id, footprint, kind, levels, households, cell, grid_id)
