-- The base map (底图) of an imported city: roads, railways and waterways as lines, water and parks as
-- areas, so the web map draws the city from this server alone. Written only by a city import, in the
-- same transaction as its regions, grids and buildings. Geometry in degrees (EPSG:4326, lon/lat order).
-- The same tables as migrations/sqlite/0007_basemap.sql.

CREATE TABLE base_lines (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The source's highway / railway / waterway value: `primary`, `residential`, `rail`, `river`, ...
    kind     text NOT NULL,
    name     text,
    geometry geometry(MultiLineString, 4326) NOT NULL
);
CREATE INDEX base_lines_geometry_gist ON base_lines USING gist (geometry);

CREATE TABLE base_areas (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- `water`, `park`, ...
    kind     text NOT NULL,
    name     text,
    geometry geometry(MultiPolygon, 4326) NOT NULL
);
CREATE INDEX base_areas_geometry_gist ON base_areas USING gist (geometry);
