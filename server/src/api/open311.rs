//! Open311 `GeoReport` v2 at `/open311/v2`: the public, city-independent way for residents' apps to list
//! the services (our incident categories) and to file and follow service requests (our cases).
//!
//! Only the `.json` format is served; `.xml` gets an Open311 error (400). Every failure here, including
//! a rejected form or query, is the Open311 error array `[{"code": <HTTP status>, "description": …}]`
//! with that status, never the problem+json of the rest of the API: Open311 clients parse only that.
//! The intake's errors are mapped to it directly, once (`error.rs` here), not through `ApiError`.
//!
//! Decisions, written down because the spec leaves them open:
//! - Reads (discovery, services, requests) are public, as Open311 intends. They show **only cases that
//!   came in through Open311** (`source = open311`): cases reported by workers, patrols, cameras, the
//!   hotline or a reporter token on `/api/incidents` stay inside the command centre, as they do on the
//!   JSON API, where a reporter sees only its own cases. Any other case id is a 404 here.
//! - `POST requests.json` takes `api_key` = a gridwatch token whose role may report on the JSON API
//!   (reporter, worker, commander, device; admin too). Missing, unknown or revoked keys and other roles
//!   are 403, the spec's code for an invalid `api_key`.
//! - A request must carry `lat` and `long`: addresses are not geocoded (the server has no network and no
//!   address register), so `address_string` / `address_id` alone are refused with 400.
//! - `type` is `realtime`: the id is returned at once. Services have no attributes (`metadata: false`).
//! - Times are ISO 8601 in the deployment's UTC offset (its working calendar's), e.g. `+08:00`.
//! - Status: `open` while the case is in the loop (`Status::is_open`), else `closed`; `status_notes`
//!   names the stage in plain words, never a worker's note.
//!
//! The rules of registering a case live in `crate::cases`; this file only parses, maps and shapes.

mod error;
mod params;
mod render;

use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use std::sync::Arc;

use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::auth;
use crate::cases::{self, Report, archive};
use crate::domain::incident::{Priority, Source};
use crate::domain::{IncidentId, Permission};
use crate::state::AppState;
use crate::throttle::PerAddress;

pub use error::{Open311Error, Open311ErrorItem};
use params::{ListQuery, NewRequest};

/// When this implementation's behaviour last changed (discovery's `changeset`).
const CHANGESET: &str = "2026-11-29T00:00:00Z";
const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";

/// The Open311 routes, to be nested at `/open311/v2`. Filing a request spends the client address's
/// `budget` (over it: 429 as an Open311 error, with `Retry-After`).
pub fn router(budget: &Arc<PerAddress>) -> Router<AppState> {
    let spend = from_fn_with_state(Arc::clone(budget), super::limits::spend::<Open311Error>);
    Router::new()
        .route("/discovery.json", get(discovery))
        .route("/services.json", get(services))
        .route("/services/{file}", get(service_definition))
        // `layer` wraps the methods given before it: POST spends the budget, GET does not.
        .route(
            "/requests.json",
            post(create_request).layer(spend).get(list_requests),
        )
        .route("/requests/{file}", get(one_request))
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
}

#[utoipa::path(get, path = "/open311/v2/discovery.json", tag = "open311",
    responses((status = 200, description = "Open311 service discovery: the GeoReport v2 endpoint and its formats")))]
pub async fn discovery(headers: HeaderMap) -> Json<Value> {
    Json(json!({
        "changeset": CHANGESET,
        "contact": "the command centre (综治中心) of the street office that runs this server",
        "key_service": "api_key is a gridwatch token with the reporter role, minted by the command centre (POST /api/tokens)",
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": base_url(&headers),
            "changeset": CHANGESET,
            "type": "production",
            "formats": ["application/json"],
        }],
    }))
}

/// The absolute base URL as the client reached us (`Host`, and `X-Forwarded-Proto` behind a proxy);
/// the bare path when the request names no host.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic() && b != b'/'));
    let Some(host) = host else {
        return "/open311/v2".to_owned();
    };
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|p| p.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    format!(
        "{}://{host}/open311/v2",
        if https { "https" } else { "http" }
    )
}

#[utoipa::path(get, path = "/open311/v2/services.json", tag = "open311",
    responses((status = 200, description = "every active incident category as an Open311 service")))]
pub async fn services(State(state): State<AppState>) -> Json<Value> {
    let world = state.world();
    let mut categories: Vec<_> = world.categories().filter(|c| c.active).collect();
    categories.sort_by(|a, b| a.code.cmp(&b.code));
    Json(Value::Array(
        categories
            .into_iter()
            .map(|c| render::service(&world, c))
            .collect(),
    ))
}

#[utoipa::path(get, path = "/open311/v2/services/{service_code}.json", tag = "open311",
    params(("service_code" = String, Path, description = "a service code from services.json")),
    responses((status = 200, description = "the service definition: `{service_code, attributes: []}`"),
        (status = 400, description = "a format other than .json, or a name that is not UTF-8 once percent-decoded", body = [Open311ErrorItem]),
        (status = 404, description = "no such service", body = [Open311ErrorItem])))]
pub async fn service_definition(
    State(state): State<AppState>,
    file: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, Open311Error> {
    let Path(file) = file?;
    let code = json_file(&file)?;
    let world = state.world();
    match world.category(code) {
        Some(category) if category.active => Ok(Json(
            json!({ "service_code": category.code, "attributes": [] }),
        )),
        _ => Err(Open311Error::not_found(format!(
            "no service with service_code {code:?}; see services.json"
        ))),
    }
}

/// Files a service request.
///
/// The form may carry the spec's personal fields — `email`, `device_id`, `account_id`, `first_name`,
/// `last_name`, `phone` — because Open311 clients send them. **They are accepted and dropped here,
/// never stored, logged or echoed**: gridwatch keeps no names or contact details of residents
/// (DOMAIN.md, Privacy). The same goes for `address_string`, `address_id` and `media_url` (checked to be
/// an http(s) URL, then dropped: the server fetches nothing from the network; photos go through the
/// photos API).
#[utoipa::path(post, path = "/open311/v2/requests.json", tag = "open311",
    request_body(content_type = "application/x-www-form-urlencoded",
        description = "api_key, service_code, lat, long, description; optional media_url, address_string, address_id, jurisdiction_id, and email, device_id, account_id, first_name, last_name, phone (accepted, never stored)"),
    responses((status = 201, description = "`[{service_request_id, service_notice, account_id}]`"),
        (status = 400, description = "a missing, unknown, repeated or invalid field", body = [Open311ErrorItem]),
        (status = 403, description = "missing or invalid api_key", body = [Open311ErrorItem]),
        (status = 413, description = "body over the limit", body = [Open311ErrorItem]),
        (status = 415, description = "the body is not application/x-www-form-urlencoded", body = [Open311ErrorItem]),
        (status = 429, description = "this address filed too many requests (`--rate-open311`)", body = [Open311ErrorItem],
            headers(("Retry-After" = u64, description = "seconds until the next request is taken")))))]
pub async fn create_request(
    State(state): State<AppState>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<(StatusCode, Json<Value>), Open311Error> {
    let Form(pairs) = form?;
    let form = params::Fields::collect(pairs, params::POST_FIELDS)?;
    let principal = authenticate(&state, form.get("api_key")).await?;
    let request = NewRequest::parse(&form)?;
    {
        let world = state.world();
        if !world
            .category(&request.service_code)
            .is_some_and(|c| c.active)
        {
            return Err(Open311Error::bad(format!(
                "unknown service_code {:?}; see services.json",
                request.service_code
            )));
        }
    }
    let report = Report {
        lat: request.lat,
        lon: request.long,
        category: request.service_code,
        priority: Priority::Normal,
        description: request.description,
        source: Source::Open311,
    };
    let case = state
        .intake()
        .register(cases::actor_of(&principal), principal.token(), report)
        .await?;
    let offset = render::offset(&state);
    let notice = match case.state.deadline {
        Some(deadline) => format!(
            "registered; expected to be dealt with by {}",
            render::time(deadline, offset)
        ),
        None => "registered".to_owned(),
    };
    // `account_id` is never echoed: it is one of the personal fields that are dropped.
    let body = json!([{ "service_request_id": case.id().to_string(), "service_notice": notice, "account_id": null }]);
    Ok((StatusCode::CREATED, Json(body)))
}

/// The caller behind `api_key`, if it may file requests.
async fn authenticate(
    state: &AppState,
    api_key: Option<&str>,
) -> Result<crate::domain::Principal, Open311Error> {
    let key = api_key.map(str::trim).filter(|k| !k.is_empty());
    let Some(key) = key else {
        return Err(Open311Error::forbidden("api_key is required"));
    };
    let principal = auth::principal(state, key)
        .await?
        .ok_or_else(|| Open311Error::forbidden("invalid api_key"))?;
    if !principal.role.may(Permission::ReportCases) {
        return Err(Open311Error::forbidden(format!(
            "invalid api_key: a {} token may not file requests",
            principal.role.as_str()
        )));
    }
    Ok(principal)
}

#[utoipa::path(get, path = "/open311/v2/requests.json", tag = "open311",
    params(
        ("service_request_id" = Option<String>, Query, description = "comma-separated ids; overrides every other filter"),
        ("service_code" = Option<String>, Query, description = "comma-separated service codes"),
        ("start_date" = Option<String>, Query, description = "ISO 8601 (W3C): RFC 3339 date-time, or a date"),
        ("end_date" = Option<String>, Query, description = "ISO 8601 (W3C); the window is at most 90 days, the last 90 days by default"),
        ("status" = Option<String>, Query, description = "open, closed or both, comma-separated"),
    ),
    responses((status = 200, description = "at most 1,000 requests filed through Open311, newest first"),
        (status = 400, description = "an unknown, repeated or invalid parameter", body = [Open311ErrorItem])))]
pub async fn list_requests(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Value>, Open311Error> {
    let Query(pairs) = query?;
    let fields = params::Fields::collect(pairs, params::GET_FIELDS)?;
    let offset = render::offset(&state);
    let now = state.now();
    let (listed, held, archived) = {
        let world = state.world();
        let query = ListQuery::parse(&fields, now, offset, |code| world.category(code).is_some())?;
        let (held, archived) = query.select(&world);
        (query.ids(), held, archived)
    };
    let cases = match listed {
        // The listed ids in the order given, wherever each case is.
        Some(ids) => (archive::cases(state.core(), &ids).await?)
            .into_iter()
            .filter(ListQuery::listed)
            .collect(),
        None => {
            archive::page(state.core(), held, archived, 0, params::MAX_REQUESTS)
                .await?
                .1
        }
    };
    let world = state.world();
    let requests: Vec<Value> = cases
        .iter()
        .map(|case| render::request(&world, case, offset))
        .collect();
    Ok(Json(Value::Array(requests)))
}

#[utoipa::path(get, path = "/open311/v2/requests/{service_request_id}.json", tag = "open311",
    params(("service_request_id" = String, Path)),
    responses((status = 200, description = "an array holding the one request"),
        (status = 400, description = "not a whole number, a format other than .json, or a name that is not UTF-8 once percent-decoded", body = [Open311ErrorItem]),
        (status = 404, description = "no service request filed through Open311 with this id", body = [Open311ErrorItem])))]
pub async fn one_request(
    State(state): State<AppState>,
    file: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, Open311Error> {
    let Path(file) = file?;
    let id = json_file(&file)?;
    let id: i64 = id.parse().map_err(|_| {
        Open311Error::bad(format!(
            "service_request_id must be a whole number, not {id:?}"
        ))
    })?;
    let offset = render::offset(&state);
    let case = archive::find(state.core(), IncidentId(id))
        .await?
        .filter(|c| c.source == Source::Open311)
        .ok_or_else(|| Open311Error::not_found(format!("no service request {id}")))?;
    let world = state.world();
    Ok(Json(json!([render::request(&world, &case, offset)])))
}

/// The stem of `name.json`; `.xml` is refused as a format we do not serve.
fn json_file(file: &str) -> Result<&str, Open311Error> {
    if let Some(stem) = file.strip_suffix(".json").filter(|s| !s.is_empty()) {
        Ok(stem)
    } else if is_xml(file) {
        Err(format_not_supported())
    } else {
        Err(Open311Error::not_found(format!(
            "no Open311 resource {file:?}; resources end in .json"
        )))
    }
}

/// Whether a resource name asks for the XML format (`.xml`, any case).
fn is_xml(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, extension)| extension.eq_ignore_ascii_case("xml"))
}

fn format_not_supported() -> Open311Error {
    Open311Error::bad("format not supported: this server answers only .json")
}

async fn fallback(uri: Uri) -> Open311Error {
    if is_xml(uri.path()) {
        format_not_supported()
    } else {
        Open311Error::not_found(format!("no Open311 resource at {}", uri.path()))
    }
}

async fn method_not_allowed() -> Open311Error {
    Open311Error::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this Open311 resource",
    )
}
