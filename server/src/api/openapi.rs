//! `GET /api/openapi.json`: the OpenAPI 3.1 description of every route the router serves, generated
//! from the handlers by utoipa.
//!
//! Each handler's `#[utoipa::path]` says what is particular to it: its parameters (derived from the
//! real query structs with `IntoParams`, so the document cannot drift from the extractor), its body
//! and the statuses its own checks answer. What follows from the extractors a handler takes is added
//! here once, by [`Contract`], so no handler can forget it:
//! - `Auth` (bearer security) → 401;
//! - `AppQuery` or `AppPath` → 400 (a value of the wrong type, a segment that is not UTF-8);
//! - `AppJson` (an `application/json` body) → 400 (malformed), 413 (over the body limit), 415 (not
//!   JSON), 422 (JSON of the wrong shape);
//! - every operation but `/ws` has a deadline (`limits::deadline`) → 408;
//! - every operation that stores something may find the store's disk full (`StoreError::Full`) → 507;
//! - every error status without a body of its own answers the one `Problem` schema as
//!   `application/problem+json` (Open311's error array is declared by its handlers).
//!
//! The unit tests hold the document to the router (the same paths and methods) and check that every
//! `$ref` is defined; `tests/e2e/openapi.rs` runs schemathesis against the running server.
//! This module must not change how anything is served: it only describes.

use std::collections::HashMap;

use axum::Json;
use axum::http::StatusCode;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Content, Ref, RefOr, Response};
use utoipa::{Modify, OpenApi, PartialSchema};

use super::{
    basemap, buildings, categories, fonts, grids, health, incidents, locate, metrics, photos,
    positions, regions, reports, tokens, web, workers,
};
use crate::error::Problem;

#[derive(OpenApi)]
#[openapi(
    info(title = "gridwatch", description = "Grid-based community management and patrol coordination"),
    paths(
        health::health, health::ready, metrics::render, locate::locate_one, locate::locate_batch,
        regions::list, regions::one, regions::create, grids::list, grids::one,
        basemap::list, buildings::list, buildings::one, buildings::create,
        workers::list, workers::one, workers::create, workers::update, workers::set_duty, workers::set_grids,
        workers::set_position,
        categories::list, categories::put, categories::departments, categories::put_department,
        incidents::create, incidents::list, incidents::one, incidents::act, photos::upload, photos::fetch, photos::thumbnail,
        super::search::search, super::candidates::candidates,
        reports::kpi, reports::series::series, reports::daily::daily,
        tokens::create, tokens::list, tokens::revoke, tokens::me, super::audit::list, spec,
        super::session::login, super::session::logout, super::session::sessions,
        super::session::end_session, super::session::change_password,
        super::users::create, super::users::list, super::users::one, super::users::update,
        super::users::reset_password, super::users::issue_totp,
        super::open311::discovery, super::open311::services, super::open311::service_definition,
        super::open311::create_request, super::open311::list_requests, super::open311::one_request,
        crate::live::ws::upgrade, positions::report, positions::track,
        super::osmand::get, super::osmand::post, super::nearby::nearby, super::alerts::raise,
        super::alarms::list, super::alarms::acknowledge,
        super::replay::replay_state, super::warnings::list,
        super::patrols::start, super::patrols::end, super::patrols::list, super::patrols::one,
        super::patrols::create_checkpoint, super::patrols::checkpoints, super::patrols::coverage,
        super::cameras::create, super::cameras::import, super::cameras::list, super::cameras::one,
        super::cameras::update, super::cameras::delete, super::cameras::incident_cameras, super::cameras::alert,
        super::tiles::catalog, super::tiles::tilejson, super::tiles::tile,
        super::plans::create, super::plans::list, super::plans::one, super::plans::plan_diff, super::plans::apply_plan,
        super::plans::versions, super::plans::rollback,
        web::centre, web::worker, web::planner, web::login, web::service_worker, web::asset, fonts::glyphs,
    ),
    modifiers(&Contract)
)]
struct ApiDoc;

/// The responses every handler answers because of the extractors it takes (see the module docs), the
/// `bearer` scheme and the `Problem` schema.
struct Contract;

impl Modify for Contract {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
        components
            .schemas
            .insert("Problem".to_owned(), Problem::schema());
        for (path, item) in &mut openapi.paths.paths {
            let deadline = path != "/ws";
            let open311 = path.starts_with("/open311/");
            for operation in storing(path, item) {
                add_storage_full(operation, open311);
            }
            for operation in operations(item) {
                if deadline {
                    add_deadline(operation, open311);
                }
                session_or_bearer(operation);
                add_extractor_statuses(operation);
                answer_problems(operation);
            }
        }
        unique_operation_ids(openapi);
    }
}

/// An operation that takes a bearer token takes a person's session cookie as well (`Auth` accepts
/// either), so the document offers both.
fn session_or_bearer(operation: &mut Operation) {
    let Some(security) = operation.security.as_mut() else {
        return;
    };
    let bearer = SecurityRequirement::new("bearer", Vec::<String>::new());
    if security.contains(&bearer) {
        security.push(SecurityRequirement::new("session", Vec::<String>::new()));
    }
}

/// The operations of a path (the router serves no other methods).
fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .flatten()
}

/// utoipa names an operation after its function, and several resources have a `list` or a `one`: such
/// a name gets its resource (the path's last literal segment) in front, so every `operationId` is
/// unique (`regions_list`, `grids_list`, …).
fn unique_operation_ids(openapi: &mut utoipa::openapi::OpenApi) {
    let mut uses: HashMap<String, usize> = HashMap::new();
    for item in openapi.paths.paths.values_mut() {
        for id in operations(item).filter_map(|o| o.operation_id.clone()) {
            *uses.entry(id).or_default() += 1;
        }
    }
    for (path, item) in &mut openapi.paths.paths {
        let resource = path
            .split('/')
            .rfind(|s| !s.is_empty() && !s.contains('{'))
            .unwrap_or("root");
        for operation in operations(item) {
            if let Some(id) = operation.operation_id.as_mut()
                && uses.get(id.as_str()).is_some_and(|&n| n > 1)
            {
                *id = format!("{resource}_{id}");
            }
        }
    }
}

/// The operations of a path that may store something: every write method but the batch locate (a POST
/// only for its body), and OsmAnd's GET (a tracker sends its fix in the query).
fn storing<'a>(path: &str, item: &'a mut PathItem) -> impl Iterator<Item = &'a mut Operation> {
    [
        (&mut item.get, path == "/osmand"),
        (&mut item.put, true),
        (&mut item.post, path != "/api/locate"),
        (&mut item.delete, true),
        (&mut item.patch, true),
    ]
    .into_iter()
    .filter_map(|(operation, stores)| operation.as_mut().filter(|_| stores))
}

/// 408: the request took longer than `--request-timeout-ms` (`limits::deadline`); on Open311 as its
/// error array.
fn add_deadline(operation: &mut Operation, open311: bool) {
    add_status(operation, StatusCode::REQUEST_TIMEOUT, open311);
}

/// 507: the store's disk is full, nothing was stored; on Open311 as its error array.
fn add_storage_full(operation: &mut Operation, open311: bool) {
    add_status(operation, StatusCode::INSUFFICIENT_STORAGE, open311);
}

/// A status with a blank description (`answer_problems` fills it in), and on Open311 its error array.
fn add_status(operation: &mut Operation, status: StatusCode, open311: bool) {
    let mut response = Response::new("");
    if open311 {
        let items = utoipa::openapi::schema::ArrayBuilder::new()
            .items(Ref::from_schema_name("Open311ErrorItem"))
            .build();
        response
            .content
            .insert("application/json".to_owned(), Content::new(Some(items)));
    }
    operation
        .responses
        .responses
        .entry(status.as_str().to_owned())
        .or_insert_with(|| response.into());
}

/// The statuses an operation answers before its handler runs: refused by one of its extractors.
fn add_extractor_statuses(operation: &mut Operation) {
    let mut statuses = Vec::new();
    // An operation that names a scheme (`bearer`, `session`) takes `Auth` (or reads a credential itself).
    if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
        statuses.push(StatusCode::UNAUTHORIZED);
    }
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let typed = parameters.iter().any(|p| match p.parameter_in {
        // A query struct refuses a value of the wrong type, a missing required field and a repeated one
        // (`token` alone is read from the raw query by the tile handlers, which never refuse it);
        // a path extractor a segment that is not UTF-8 once percent-decoded, or not a number.
        ParameterIn::Query => p.name != "token",
        ParameterIn::Path => true,
        _ => false,
    });
    if typed {
        statuses.push(StatusCode::BAD_REQUEST);
    }
    let json_body = operation
        .request_body
        .as_ref()
        .is_some_and(|b| b.content.contains_key("application/json"));
    if json_body {
        statuses.extend([
            StatusCode::BAD_REQUEST,
            StatusCode::PAYLOAD_TOO_LARGE,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            StatusCode::UNPROCESSABLE_ENTITY,
        ]);
    }
    for status in statuses {
        operation
            .responses
            .responses
            .entry(status.as_str().to_owned())
            .or_insert_with(|| Response::new("").into());
    }
}

/// Every error status without content of its own answers a `Problem`; a blank description gets the
/// usual meaning of its status here.
fn answer_problems(operation: &mut Operation) {
    for (status, response) in &mut operation.responses.responses {
        let RefOr::T(response) = response else {
            continue;
        };
        let Ok(code) = status.parse::<StatusCode>() else {
            continue;
        };
        if !(code.is_client_error() || code.is_server_error()) {
            continue;
        }
        if response.content.is_empty() {
            response.content.insert(
                "application/problem+json".to_owned(),
                Content::new(Some(Ref::from_schema_name("Problem"))),
            );
        }
        if response.description.is_empty() {
            meaning(code).clone_into(&mut response.description);
        }
    }
}

/// What an error status means across this API.
fn meaning(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "malformed request: a query, path or body that cannot be read",
        401 => "missing, malformed, unknown, expired or revoked token or session",
        403 => {
            "the caller's role or scope does not allow this (or a cookie write without its CSRF token)"
        }
        404 => "no such resource",
        409 => "conflicts with the current state",
        413 => "body over the limit",
        415 => "the body is not of the content type the operation takes",
        408 => "the request took longer than the server allows (`--request-timeout-ms`)",
        429 => "too many requests from this address; `Retry-After` says when to come back",
        507 => "the server's storage is full: nothing was stored; send it again later",
        422 => "well-formed but invalid: `detail` (and `field` or `errors`) say which value",
        _ => status.canonical_reason().unwrap_or("error"),
    }
}

#[utoipa::path(get, path = "/api/openapi.json", tag = "system",
    responses((status = 200, description = "this OpenAPI document", content_type = "application/json")))]
pub async fn spec() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests;
