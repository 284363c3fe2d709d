//! The HTTP API: `app(state) -> Router`, one file per resource under `api/`.
//!
//! Handlers parse HTTP, check roles, read from the world and change things only by calling a service
//! function (`admin`, `cases`, `cameras`, `patrols`, `plans`, `alerts`, `tracking`), which commits
//! through `Core::write`; no handler commits. A service answers with its own error enum, which `?`
//! turns into problem+json through the one mapping in `error.rs`. Bodies and queries go through
//! `AppJson` / `AppQuery` so a rejected input gets the app's problem+json, never axum's plain text.

mod alarms;
mod alerts;
mod audit;
mod basemap;
mod buildings;
mod cameras;
mod categories;
mod fonts;
mod geo_json;
mod grids;
mod health;
pub mod idempotency;
mod incidents;
// The dispatch list of a case: whom it may go to, by duty, distance and load (issue 22).
mod candidates;
pub mod limits;
mod locate;
mod metrics;
mod nearby;
mod open311;
mod openapi;
mod osmand;
mod patrols;
mod photos;
mod plans;
pub(crate) mod positions;
mod regions;
mod replay;
mod reports;
mod session;
pub mod tiles;
pub mod tokens;
mod users;
pub mod warnings;
mod web;
mod workers;
// One search box: case numbers, case text (full text in the store), grids, places (issue 22).
mod search;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post, put};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, not_found_fallback};
use crate::state::AppState;

pub(crate) use crate::auth::visible_grid;
pub use geo_json::Bbox;
pub use limits::Limits;
pub use metrics::install_recorder;

/// Largest body any endpoint but batch locate accepts.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;
/// A positions batch takes up to 10,000 fixes (about 3 MB of JSON).
pub const POSITIONS_BODY_LIMIT_BYTES: usize = 4 * 1024 * 1024;
/// Batch locate takes up to 100,000 points (about 4 MB of JSON).
pub const LOCATE_BODY_LIMIT_BYTES: usize = 8 * 1024 * 1024;

/// The whole HTTP application, with the default [`Limits`].
pub fn app(state: AppState) -> Router {
    app_with(state, &Limits::default())
}

/// Who is who: machines' tokens, people's accounts and sessions (`api/session.rs`, `api/users.rs`), and
/// the audit trail of what they did (`api/audit.rs`), under `/api`.
fn people() -> Router<AppState> {
    Router::new()
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}", axum::routing::delete(tokens::revoke))
        .route("/me", get(tokens::me))
        .route("/session", post(session::login).delete(session::logout))
        .route("/sessions", get(session::sessions))
        .route(
            "/sessions/{id}",
            axum::routing::delete(session::end_session),
        )
        .route("/me/password", put(session::change_password))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", get(users::one).patch(users::update))
        .route("/users/{id}/password", post(users::reset_password))
        .route("/users/{id}/totp", post(users::issue_totp))
        .route("/audit", get(audit::list))
}

/// The four writes a client retries, under `/api`: each takes an `Idempotency-Key`
/// (`api/idempotency.rs`), read inside the route's body limit (the key's body is read under it) and
/// rate budget (a replay spends one).
fn retried(state: &AppState, budgets: &limits::Budgets) -> Router<AppState> {
    let spend = |budget: &std::sync::Arc<crate::throttle::PerAddress>| {
        from_fn_with_state(std::sync::Arc::clone(budget), limits::spend::<ApiError>)
    };
    let once = || {
        from_fn_with_state::<_, _, (axum::extract::State<AppState>, Request)>(
            state.clone(),
            idempotency::guard,
        )
    };
    Router::new()
        .route(
            "/positions",
            post(positions::report)
                .layer::<_, std::convert::Infallible>(once())
                .layer(DefaultBodyLimit::max(POSITIONS_BODY_LIMIT_BYTES))
                .layer(spend(&budgets.positions)),
        )
        .route("/incidents", post(incidents::create).layer(once()))
        .route(
            "/incidents/{id}/actions",
            post(incidents::act).layer(once()),
        )
        .route(
            "/incidents/{id}/photos",
            post(photos::upload)
                .layer::<_, std::convert::Infallible>(once())
                .layer(DefaultBodyLimit::max(photos::UPLOAD_BODY_LIMIT_BYTES))
                .layer(spend(&budgets.photos)),
        )
}

/// The whole HTTP application. Each rate-limited route names its budget beside it; every route but
/// `/ws` has a deadline (`limits::deadline`).
pub fn app_with(state: AppState, config: &Limits) -> Router {
    let budgets = limits::Budgets::new(config);
    let spend = |budget: &std::sync::Arc<crate::throttle::PerAddress>| {
        from_fn_with_state(std::sync::Arc::clone(budget), limits::spend::<ApiError>)
    };
    let api = Router::new()
        .route("/locate", get(locate::locate_one))
        .route(
            "/locate",
            post(locate::locate_batch).layer(DefaultBodyLimit::max(LOCATE_BODY_LIMIT_BYTES)),
        )
        .route("/regions", get(regions::list).post(regions::create))
        .route("/regions/{id}", get(regions::one))
        .route("/grids", get(grids::list))
        .route("/grids/{id}", get(grids::one))
        .route("/grids/{id}/coverage", get(patrols::coverage))
        .route("/patrols", get(patrols::list).post(patrols::start))
        .route("/patrols/{id}", get(patrols::one))
        .route("/patrols/{id}/end", post(patrols::end))
        .route("/checkpoints", get(patrols::checkpoints).post(patrols::create_checkpoint))
        .route("/basemap", get(basemap::list))
        .route("/buildings", get(buildings::list).post(buildings::create))
        .route("/buildings/{id}", get(buildings::one))
        .route("/workers", get(workers::list).post(workers::create))
        .route("/workers/{id}", get(workers::one).patch(workers::update))
        .route("/workers/{id}/duty", put(workers::set_duty))
        .route("/workers/{id}/grids", put(workers::set_grids))
        .route("/workers/{id}/position", put(workers::set_position))
        .route("/workers/{id}/track", get(positions::track))
        .route("/nearby", get(nearby::nearby))
        .route("/replay/state", get(replay::replay_state))
        .route("/warnings", get(warnings::list))
        .route("/alerts", post(alerts::raise))
        .route("/alarms", get(alarms::list))
        .route("/alarms/{id}/acknowledge", post(alarms::acknowledge))
        .route("/categories", get(categories::list))
        .route("/categories/{code}", put(categories::put))
        .route("/departments", get(categories::departments))
        .route("/departments/{code}", put(categories::put_department))
        .route("/incidents", get(incidents::list))
        .route("/incidents/{id}", get(incidents::one))
        .route("/incidents/{id}/candidates", get(candidates::candidates))
        .route("/search", get(search::search))
        .merge(retried(&state, &budgets))
        .route("/photos/{sha256}", get(photos::fetch))
        .route("/photos/{sha256}/thumbnail", get(photos::thumbnail))
        .route("/reports/kpi", get(reports::kpi))
        .route("/reports/series", get(reports::series::series))
        .route("/reports/daily", get(reports::daily::daily))
        .merge(people())
        // Cameras (视频监控点), `api/cameras.rs`.
        .route("/cameras", get(cameras::list).post(cameras::create))
        .route("/cameras/import", post(cameras::import))
        .route("/cameras/{id}", get(cameras::one).patch(cameras::update).delete(cameras::delete))
        .route("/cameras/{id}/alerts", post(cameras::alert))
        .route("/incidents/{id}/cameras", get(cameras::incident_cameras))
        // Boundary plans and versions (网格调整), `api/plans.rs`.
        .route("/communities/{id}/plans", get(plans::list).post(plans::create))
        .route("/communities/{id}/plans/{plan}", get(plans::one))
        .route("/communities/{id}/plans/{plan}/diff", get(plans::plan_diff))
        .route("/communities/{id}/plans/{plan}/apply", post(plans::apply_plan))
        .route("/communities/{id}/versions", get(plans::versions))
        .route("/communities/{id}/versions/{version}/rollback", post(plans::rollback))
        .route("/openapi.json", get(openapi::spec));
    // The web map's pages and files, with its CSP and framing headers.
    let pages = Router::new()
        .route("/", get(web::centre))
        .route("/worker", get(web::worker))
        .route("/planner", get(web::planner))
        .route("/login.html", get(web::login))
        .route("/sw.js", get(web::service_worker))
        .route("/static/{*path}", get(web::asset))
        .route_layer(from_fn(web::page_headers));
    Router::new()
        .merge(pages)
        // The glyphs the map's labels are drawn with.
        .route("/fonts/{fontstack}/{file}", get(fonts::glyphs))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/ws", get(crate::live::ws::upgrade))
        .route(
            "/osmand",
            get(osmand::get)
                .post(osmand::post)
                .layer(spend(&budgets.positions)),
        )
        .route("/metrics", get(metrics::render))
        // Vector tiles (MVT + TileJSON), outside /api so map clients can use plain template URLs.
        .route("/tiles/catalog", get(tiles::catalog))
        .route("/tiles/{file}", get(tiles::tilejson))
        .route("/tiles/{layer}/{z}/{x}/{file}", get(tiles::tile))
        .nest("/api", api)
        .nest("/open311/v2", open311::router(&budgets.open311))
        .fallback(not_found_fallback)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(from_fn_with_state(*config, limits::deadline))
        .layer(from_fn_with_state(state.clone(), audit::track))
        .layer(from_fn(web::nosniff))
        .layer(from_fn(metrics::track))
        .with_state(state)
}

/// Whether `If-None-Match` names `etag` (a quoted strong tag), `*`, or its weak form: the answer is
/// then a 304. Every header line and every comma-separated tag counts (RFC 9110 §13.1.2).
pub(crate) fn if_none_match(headers: &axum::http::HeaderMap, etag: &str) -> bool {
    headers
        .get_all(axum::http::header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t == etag || t.strip_prefix("W/") == Some(etag)
        })
}

/// JSON body extractor whose rejection is problem+json.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(Self(value))
    }
}

/// Query-string extractor whose rejection is problem+json.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// Path extractor whose rejection is problem+json (e.g. `/api/grids/abc`).
#[derive(Debug, Clone, Copy, Default)]
pub struct AppPath<T>(pub T);

impl<S, T> FromRequestParts<S> for AppPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|rejection| {
                ApiError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    "invalid-path",
                    rejection.body_text(),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::if_none_match;

    fn with(values: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(header::IF_NONE_MATCH, HeaderValue::from_static(v));
        }
        headers
    }

    #[test]
    fn if_none_match_takes_lists_weak_tags_star_and_repeated_headers() {
        let etag = "\"abc\"";
        assert!(if_none_match(&with(&["\"abc\""]), etag));
        assert!(if_none_match(&with(&["\"x\", \"abc\""]), etag));
        assert!(if_none_match(&with(&["W/\"abc\""]), etag));
        assert!(if_none_match(&with(&["*"]), etag));
        assert!(if_none_match(&with(&["\"x\"", "\"abc\""]), etag));
        assert!(!if_none_match(&with(&[]), etag));
        assert!(!if_none_match(&with(&["\"abcd\"", "abc"]), etag));
    }
}
