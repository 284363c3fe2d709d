//! `GET /api/openapi.json`: the OpenAPI 3.1 description, generated from the handlers by utoipa.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    basemap, buildings, categories, grids, health, incidents, locate, metrics, photos, positions,
    regions, reports, tokens, workers,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "gridwatch", description = "Grid-based community management and patrol coordination"),
    paths(
        health::health, metrics::render, locate::locate_one, locate::locate_batch,
        regions::list, regions::one, regions::create, grids::list, grids::one,
        basemap::list, buildings::list, buildings::one, buildings::create,
        workers::list, workers::one, workers::create, workers::update, workers::set_duty, workers::set_grids,
        workers::set_position,
        categories::list, categories::put, categories::departments, categories::put_department,
        incidents::create, incidents::list, incidents::one, incidents::act, photos::upload, photos::fetch,
        reports::kpi,
        tokens::create, tokens::me, spec,
        super::open311::discovery, super::open311::services, super::open311::service_definition,
        super::open311::create_request, super::open311::list_requests, super::open311::one_request,
        crate::live::ws::upgrade, positions::report, positions::track,
        super::osmand::get, super::osmand::post, super::nearby::nearby, super::alerts::raise,
        super::patrols::start, super::patrols::end, super::patrols::list, super::patrols::one,
        super::patrols::create_checkpoint, super::patrols::checkpoints, super::patrols::coverage,
        super::cameras::create, super::cameras::import, super::cameras::list, super::cameras::one,
        super::cameras::update, super::cameras::delete, super::cameras::incident_cameras, super::cameras::alert,
        super::tiles::catalog, super::tiles::tilejson, super::tiles::tile,
        super::plans::create, super::plans::list, super::plans::one, super::plans::plan_diff, super::plans::apply_plan,
        super::plans::versions, super::plans::rollback,
    ),
    modifiers(&Bearer)
)]
struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[utoipa::path(get, path = "/api/openapi.json", tag = "system", responses((status = 200, description = "OpenAPI document")))]
pub async fn spec() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
