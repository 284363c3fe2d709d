//! Locate throughput: in process, through the HTTP batch endpoint, and PostGIS `ST_Contains` on the
//! same grid boundaries (GiST-indexed), all in one run on the same deterministic points.
//!
//! `cargo bench -p gridwatch --bench locate`; set `GRIDWATCH_BENCH_DATABASE_URL=postgres://…` (a
//! database the bench may create databases from) for the PostGIS groups. Summarise medians and ratios
//! with `python3 server/benches/summarize.py`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gridwatch::auth::{hash_secret, new_secret};
use gridwatch::domain::Role;
use gridwatch::store::{NewCity, NewToken, Store, sqlite::SqliteStore};
use gridwatch::world::World;
use gridwatch::{Core, city};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const IN_PROCESS_POINTS: usize = 1_000_000;
const BATCH_POINTS: usize = 100_000;
const PER_QUERY_POINTS: usize = 5_000;
const SET_POINTS: usize = 200_000;

fn dongjie() -> NewCity {
    let dataset = gridwatch_geodata::synthetic_city(gridwatch_geodata::Preset::Dongjie, 1);
    let plan = gridwatch_geodata::plan_city(
        &dataset,
        h3o::Resolution::Twelve,
        &gridwatch_geodata::PartitionRules::default(),
    )
    .expect("dongjie plans");
    city::to_new_city(&dataset, &plan)
}

/// Uniform points over the city's grids' bounding box, `[lon, lat]` degrees, fixed seed.
fn points(city: &NewCity, n: usize) -> Vec<[f64; 2]> {
    let (mut min_lon, mut min_lat, mut max_lon, mut max_lat) =
        (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for grid in &city.grids {
        for polygon in &grid.boundary.0 {
            for c in &polygon.exterior().0 {
                min_lon = min_lon.min(c.x);
                max_lon = max_lon.max(c.x);
                min_lat = min_lat.min(c.y);
                max_lat = max_lat.max(c.y);
            }
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    (0..n)
        .map(|_| {
            [
                rng.random_range(min_lon..max_lon),
                rng.random_range(min_lat..max_lat),
            ]
        })
        .collect()
}

fn throughput(n: usize) -> Throughput {
    Throughput::Elements(u64::try_from(n).expect("fits"))
}

fn benches(c: &mut Criterion) {
    let city = dongjie();
    let world = World::from_snapshot(city::snapshot_of(&city));
    let all = points(&city, IN_PROCESS_POINTS);

    let mut group = c.benchmark_group("locate");
    // The machine is shared and noisy: take enough samples that the median means something.
    group
        .sample_size(20)
        .measurement_time(std::time::Duration::from_secs(12));

    group.throughput(throughput(all.len()));
    group.bench_function("in_process", |b| {
        b.iter(|| {
            let mut found = 0_usize;
            for &[lon, lat] in &all {
                found += usize::from(world.locate(lat, lon).expect("valid point").links.is_some());
            }
            black_box(found)
        });
    });

    // The floor under `in_process`: h3o's own lat/lng → cell, with no lookup at all.
    let resolution = world.resolution();
    group.bench_function("h3o_to_cell_only", |b| {
        b.iter(|| {
            let mut acc = 0_u64;
            for &[lon, lat] in &all {
                acc ^= u64::from(
                    h3o::LatLng::new(lat, lon)
                        .expect("finite")
                        .to_cell(resolution),
                );
            }
            black_box(acc)
        });
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (url, token, _dir) = runtime.block_on(start_server(&city));
    let client = reqwest::Client::new();
    let body = serde_json::to_vec(&all[..BATCH_POINTS]).expect("json");
    group.throughput(throughput(BATCH_POINTS));
    group.bench_function("http_batch", |b| {
        b.to_async(&runtime).iter(|| async {
            let response = client
                .post(format!("{url}/api/locate"))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .expect("send");
            assert!(response.status().is_success());
            black_box(response.bytes().await.expect("body").len())
        });
    });

    if let Ok(admin_url) = std::env::var("GRIDWATCH_BENCH_DATABASE_URL") {
        let pg = runtime.block_on(postgis::Bench::setup(&admin_url, &city));
        group.throughput(throughput(PER_QUERY_POINTS));
        group.bench_function("postgis_per_query", |b| {
            b.to_async(&runtime)
                .iter(|| pg.per_query(&all[..PER_QUERY_POINTS]));
        });
        group.throughput(throughput(SET_POINTS));
        group.bench_function("postgis_set_based", |b| {
            b.to_async(&runtime)
                .iter(|| pg.set_based(&all[..SET_POINTS]));
        });
        runtime.block_on(pg.teardown());
    } else {
        eprintln!("GRIDWATCH_BENCH_DATABASE_URL not set: skipping the PostGIS comparison");
    }
    group.finish();
}

async fn start_server(city: &NewCity) -> (String, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_dir(dir.path()).await.expect("store"));
    store.import_city(city).await.expect("import");
    let secret = new_secret();
    let token = NewToken {
        hash: hash_secret(&secret),
        role: Role::Admin,
        scopes: vec![],
        worker: None,
        label: None,
        prefix: String::new(),
        expires_at: chrono::Utc::now() + chrono::Duration::days(90),
        created_by: None,
    };
    store.insert_token(&token).await.expect("token");
    let core = Core::load(store).await.expect("load");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(gridwatch::serve(
        listener,
        core,
        gridwatch::ServeConfig::default(),
        std::future::pending(),
    ));
    (url, secret, dir)
}

mod postgis {
    //! The same grid boundaries in a GiST-indexed PostGIS table, queried per point and set-based.

    use gridwatch::store::NewCity;
    use sqlx::PgPool;

    pub struct Bench {
        admin: PgPool,
        pool: PgPool,
        name: String,
    }

    impl Bench {
        pub async fn setup(admin_url: &str, city: &NewCity) -> Self {
            let admin = PgPool::connect(admin_url).await.expect("connect");
            let name = format!("gw_bench_{}", std::process::id());
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&admin)
                .await
                .expect("create db");
            let base = admin_url.split('?').next().expect("url");
            let url = format!("{}/{name}", &base[..base.rfind('/').expect("path")]);
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(&url)
                .await
                .expect("connect");
            for sql in [
                "CREATE EXTENSION IF NOT EXISTS postgis",
                "CREATE TABLE bench_grids (id bigint PRIMARY KEY, boundary geometry(MultiPolygon, 4326) NOT NULL)",
            ] {
                sqlx::query(sql).execute(&pool).await.expect("schema");
            }
            for (i, grid) in city.grids.iter().enumerate() {
                let geojson = geojson::Geometry::from(&grid.boundary).to_string();
                sqlx::query("INSERT INTO bench_grids VALUES ($1, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($2), 4326)))")
                    .bind(i64::try_from(i).expect("fits"))
                    .bind(geojson)
                    .execute(&pool)
                    .await
                    .expect("insert");
            }
            for sql in [
                "CREATE INDEX ON bench_grids USING gist (boundary)",
                "ANALYZE bench_grids",
            ] {
                sqlx::query(sql).execute(&pool).await.expect("index");
            }
            Self { admin, pool, name }
        }

        /// One prepared query per point, as a server would locate each incident.
        pub async fn per_query(&self, points: &[[f64; 2]]) -> usize {
            let mut found = 0;
            for &[lon, lat] in points {
                let id: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM bench_grids WHERE ST_Contains(boundary, ST_SetSRID(ST_MakePoint($1, $2), 4326)) LIMIT 1",
                )
                .bind(lon)
                .bind(lat)
                .fetch_optional(&self.pool)
                .await
                .expect("query");
                found += usize::from(id.is_some());
            }
            found
        }

        /// All points in one statement.
        pub async fn set_based(&self, points: &[[f64; 2]]) -> i64 {
            let lons: Vec<f64> = points.iter().map(|p| p[0]).collect();
            let lats: Vec<f64> = points.iter().map(|p| p[1]).collect();
            sqlx::query_scalar(
                "SELECT count(g.id) FROM unnest($1::float8[], $2::float8[]) AS p(lon, lat) \
                 LEFT JOIN bench_grids g ON ST_Contains(g.boundary, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326))",
            )
            .bind(lons)
            .bind(lats)
            .fetch_one(&self.pool)
            .await
            .expect("query")
        }

        pub async fn teardown(self) {
            self.pool.close().await;
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .execute(&self.admin)
            .await;
        }
    }
}

criterion_group!(locate, benches);
criterion_main!(locate);
