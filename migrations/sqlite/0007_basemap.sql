-- The base map (底图) of an imported city, SQLite dialect. The same tables as
-- migrations/postgres/0007_basemap.sql; geometry is GeoJSON text (MultiLineString / MultiPolygon,
-- degrees, EPSG:4326, lon/lat order). Written only by a city import, in its transaction.

CREATE TABLE base_lines (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The source's highway / railway / waterway value: `primary`, `residential`, `rail`, `river`, ...
    kind     TEXT NOT NULL,
    name     TEXT,
    geometry TEXT NOT NULL
);

CREATE TABLE base_areas (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    -- `water`, `park`, ...
    kind     TEXT NOT NULL,
    name     TEXT,
    geometry TEXT NOT NULL
);
