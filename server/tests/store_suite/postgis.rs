//! Checks against the real `PostGIS` tables, with `PostGIS` as the independent reference: the geometry
//! the store wrote is valid, in EPSG:4326, indexed with `GiST`, and every cell centre (computed with h3o)
//! lies inside the boundary of the grid that owns the cell.

use gridwatch::store::NewCity;
use h3o::LatLng;
use sqlx::PgPool;

use crate::data;
use crate::fixture::Target;

/// The geometry columns, as `(table, column)`.
const GEOMETRY: [(&str, &str); 3] = [
    ("regions", "boundary"),
    ("grids", "boundary"),
    ("buildings", "footprint"),
];

pub async fn check_tables(target: Target) {
    let store = target.open().await;
    let city = data::city();
    store.import_city(&city).await.expect("import");
    let pool = target.pg().await;
    check_geometry_columns(&pool).await;
    check_gist_indexes(&pool).await;
    check_cell_centres(&pool, &city).await;
    check_tiling(&pool).await;
    check_base_map(&pool).await;
    pool.close().await;
}

async fn check_geometry_columns(pool: &PgPool) {
    for (table, column) in GEOMETRY {
        let sql = format!(
            "SELECT count(*) AS rows, \
                    count(*) FILTER (WHERE NOT ST_IsValid({column})) AS invalid, \
                    count(*) FILTER (WHERE ST_SRID({column}) <> 4326) AS other_srid, \
                    count(*) FILTER (WHERE GeometryType({column}) <> 'MULTIPOLYGON') AS other_type \
             FROM {table}"
        );
        let (rows, invalid, other_srid, other_type): (i64, i64, i64, i64) =
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_one(pool)
                .await
                .expect("geometry check");
        assert!(rows > 0, "{table} is empty");
        assert_eq!(
            (invalid, other_srid, other_type),
            (0, 0, 0),
            "{table}.{column}"
        );
        // The column itself is typed, so QGIS and GDAL see its type and SRID without scanning.
        let (kind, srid): (String, i32) = sqlx::query_as(
            "SELECT type, srid FROM geometry_columns WHERE f_table_name = $1 AND f_geometry_column = $2",
        )
        .bind(table)
        .bind(column)
        .fetch_one(pool)
        .await
        .expect("geometry_columns");
        assert_eq!(
            (kind.as_str(), srid),
            ("MULTIPOLYGON", 4326),
            "{table}.{column}"
        );
    }
}

async fn check_gist_indexes(pool: &PgPool) {
    let defs: Vec<(String, String)> = sqlx::query_as(
        "SELECT tablename::text, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    )
    .fetch_all(pool)
    .await
    .expect("pg_indexes");
    for (table, column) in GEOMETRY {
        assert!(
            defs.iter()
                .any(|(t, def)| t == table && def.contains(&format!("USING gist ({column})"))),
            "no GiST index on {table}.{column}"
        );
    }
}

/// For every cell, `PostGIS` finds exactly the grid that owns it at the cell's centre.
async fn check_cell_centres(pool: &PgPool, city: &NewCity) {
    for grid in &city.grids {
        for &cell in &grid.cells {
            let centre = LatLng::from(cell);
            let found: Vec<String> = sqlx::query_scalar(
                "SELECT code FROM grids WHERE ST_Contains(boundary, ST_Point($1, $2, 4326))",
            )
            .bind(centre.lng())
            .bind(centre.lat())
            .fetch_all(pool)
            .await
            .expect("containment query");
            assert_eq!(found, vec![grid.code.clone()], "cell {cell}");
        }
    }
    let misplaced: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM buildings b JOIN grids g ON g.id = b.grid_id \
         WHERE NOT ST_Contains(g.boundary, ST_Centroid(b.footprint))",
    )
    .fetch_one(pool)
    .await
    .expect("building check");
    assert_eq!(misplaced, 0, "a building's centroid lies outside its grid");
}

/// The grids of a community tile it: no two overlap and together they cover it (area in degrees²).
async fn check_tiling(pool: &PgPool) {
    let overlaps: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM grids a JOIN grids b ON a.id < b.id WHERE ST_Overlaps(a.boundary, b.boundary)",
    )
    .fetch_one(pool)
    .await
    .expect("overlap check");
    assert_eq!(overlaps, 0);
    let gaps: Vec<(String, f64)> = sqlx::query_as(
        "SELECT r.code, ST_Area(ST_SymDifference(r.boundary, ST_Union(g.boundary))) \
         FROM regions r JOIN grids g ON g.community_id = r.id GROUP BY r.id",
    )
    .fetch_all(pool)
    .await
    .expect("coverage check");
    assert_eq!(gaps.len(), 2);
    for (community, gap) in gaps {
        assert!(
            gap < 1e-12,
            "community {community}: grids and boundary differ by {gap} deg²"
        );
    }
}

/// The base-map columns are typed and valid, and `PostGIS` measures the first line (a 3-4-5 hypotenuse
/// of 0.001° legs, see `data::base_lines`) as 0.005° long and the park as the triangle it is.
async fn check_base_map(pool: &PgPool) {
    for (table, kind) in [
        ("base_lines", "MULTILINESTRING"),
        ("base_areas", "MULTIPOLYGON"),
    ] {
        let (column_kind, srid): (String, i32) = sqlx::query_as(
            "SELECT type, srid FROM geometry_columns WHERE f_table_name = $1 AND f_geometry_column = 'geometry'",
        )
        .bind(table)
        .fetch_one(pool)
        .await
        .expect("geometry_columns");
        assert_eq!((column_kind.as_str(), srid), (kind, 4326), "{table}");
        let invalid: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM {table} WHERE NOT ST_IsValid(geometry)"
        )))
        .fetch_one(pool)
        .await
        .expect("validity");
        assert_eq!(invalid, 0, "{table}");
    }
    let lengths: Vec<f64> =
        sqlx::query_scalar("SELECT ST_Length(geometry) FROM base_lines ORDER BY id")
            .fetch_all(pool)
            .await
            .expect("lengths");
    assert_eq!(lengths.len(), 3);
    assert!(
        (lengths[0] - 0.005).abs() < 1e-12,
        "first line is {}°",
        lengths[0]
    );
    let parts: i32 = sqlx::query_scalar(
        "SELECT ST_NumGeometries(geometry) FROM base_lines ORDER BY id OFFSET 1 LIMIT 1",
    )
    .fetch_one(pool)
    .await
    .expect("parts");
    assert_eq!(parts, 2, "the rail line keeps both parts");
    // Triangle with legs 0.001_654_321_1° and 0.001_987_654_321°: area is half their product.
    let park: f64 =
        sqlx::query_scalar("SELECT ST_Area(geometry) FROM base_areas WHERE kind = 'park'")
            .fetch_one(pool)
            .await
            .expect("park area");
    let expected = 0.5 * (113.114 - 113.112_345_678_9) * (36.193_987_654_321 - 36.192);
    assert!(
        (park - expected).abs() < 1e-10,
        "park area {park} vs {expected}"
    );
}
