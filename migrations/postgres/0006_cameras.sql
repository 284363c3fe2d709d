-- Cameras (视频监控点), PostgreSQL + PostGIS dialect. The same table as migrations/sqlite/0006_cameras.sql,
-- with the position and the view sector as real geometries (EPSG:4326) so QGIS and GDAL can draw them.
-- The parameters are the truth; `sector` is what they give, rebuilt by the server at start.

CREATE TABLE cameras (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    lat         double precision NOT NULL CHECK (lat BETWEEN -85 AND 85),
    lon         double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    location    geometry(Point, 4326) NOT NULL,
    heading_deg double precision NOT NULL CHECK (heading_deg >= 0 AND heading_deg < 360),
    fov_deg     double precision NOT NULL CHECK (fov_deg BETWEEN 1 AND 360),
    range_m     double precision NOT NULL CHECK (range_m > 0 AND range_m <= 2000),
    kind        text NOT NULL CHECK (kind IN ('fixed', 'ptz')),
    status      text NOT NULL CHECK (status IN ('online', 'offline')),
    sector      geometry(Polygon, 4326) NOT NULL CHECK (ST_IsValid(sector))
);

CREATE INDEX cameras_location_gist ON cameras USING gist (location);
CREATE INDEX cameras_sector_gist ON cameras USING gist (sector);
