-- Cameras (视频监控点), SQLite dialect. The same table as migrations/postgres/0006_cameras.sql. The
-- parameters are the truth; `sector` is the view sector they give (GeoJSON Polygon, degrees, EPSG:4326,
-- lon/lat order), kept for GIS tools and rebuilt by the server from the parameters at start.

CREATE TABLE cameras (
    -- AUTOINCREMENT: a deleted camera's id is never given to another (events name cameras by id).
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    lat         REAL NOT NULL CHECK (lat BETWEEN -85 AND 85),
    lon         REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
    heading_deg REAL NOT NULL CHECK (heading_deg >= 0 AND heading_deg < 360),
    fov_deg     REAL NOT NULL CHECK (fov_deg BETWEEN 1 AND 360),
    range_m     REAL NOT NULL CHECK (range_m > 0 AND range_m <= 2000),
    kind        TEXT NOT NULL CHECK (kind IN ('fixed', 'ptz')),
    status      TEXT NOT NULL CHECK (status IN ('online', 'offline')),
    sector      TEXT NOT NULL
);
