//! The expectation table of the authorization matrix: who may do what, written from issue 18's rules
//! and `DOMAIN.md`, not read from the code. One row per operation of `/api/openapi.json` (the matrix
//! test fails on an operation without a row, or a row without an operation); tile layers, whose one
//! operation serves each layer under a different rule, have a row each.
//!
//! The unscoped admin may do everything but read the audit trail. The other principals are scoped to
//! community A (worker and device tokens act for grid A's primary worker, whose only grid is A):
//! `inside` names objects of grid A, `outside` those of grid B in another community. A reporter's
//! `{case_in}` is a case it reported itself in grid A, `{case_out}` one the admin reported in grid B.

/// Who may use an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credential needed (pages, fonts, health, discovery, the tracker protocol).
    Public,
    /// A bearer token of one of these roles (`admin` always among them but for the audit trail).
    Roles(&'static [&'static str], Reach),
    /// Open311's `api_key`: a token of one of these roles, given as a parameter.
    ApiKey(&'static [&'static str]),
    /// A person's own session only (signing out, one's sessions, one's password): every token is
    /// refused (403), a signed-in person (a scoped commander, by cookie) allowed.
    Session,
}

/// How far a permitted principal reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Scope plays no part (the answer itself is filtered to the scope, or the object is not placed).
    Any,
    /// Inside its scope only: the `outside` request is refused (403).
    Scoped,
    /// Only an unscoped principal: even the `inside` request is refused to a scoped one (creating a
    /// region above one's scope).
    Unscoped,
}

/// One request: a path with `{placeholders}`, and a body.
#[derive(Debug, Clone, Copy)]
pub struct Req {
    pub path: &'static str,
    pub body: Body,
}

#[derive(Debug, Clone, Copy)]
pub enum Body {
    None,
    Json(&'static str),
    /// `application/x-www-form-urlencoded`.
    Form(&'static str),
    /// A small JPEG, as `multipart/form-data` field `photo`.
    Photo,
}

pub struct Row {
    /// `METHOD /path` as the OpenAPI document spells it; a `#suffix` marks one of several rows of one
    /// operation.
    pub op: &'static str,
    pub access: Access,
    pub inside: Req,
    /// `None` when the operation names nothing placed (the same request stands for both).
    pub outside: Option<Req>,
}

const fn get(path: &'static str) -> Req {
    Req {
        path,
        body: Body::None,
    }
}

const fn json(path: &'static str, body: &'static str) -> Req {
    Req {
        path,
        body: Body::Json(body),
    }
}

const A: &str = "admin";
const P: &str = "planner";
const C: &str = "commander";
const W: &str = "worker";
const R: &str = "reporter";
const D: &str = "device";
const AU: &str = "auditor";

/// Reads a person at a desk or in the field may make of the map and its people.
const STAFF: &[&str] = &[A, P, C, W];

use Access::{ApiKey, Public, Roles, Session};
use Reach::{Any, Scoped, Unscoped};

#[rustfmt::skip]
pub const ROWS: &[Row] = &[
    // --- Pages, files, health: public.
    Row { op: "GET /", access: Public, inside: get("/"), outside: None },
    Row { op: "GET /worker", access: Public, inside: get("/worker"), outside: None },
    Row { op: "GET /planner", access: Public, inside: get("/planner"), outside: None },
    Row { op: "GET /login.html", access: Public, inside: get("/login.html"), outside: None },
    Row { op: "GET /sw.js", access: Public, inside: get("/sw.js"), outside: None },
    Row { op: "GET /static/{path}", access: Public, inside: get("/static/app.js"), outside: None },
    Row { op: "GET /fonts/{fontstack}/{start}-{end}.pbf", access: Public,
        inside: get("/fonts/Noto%20Sans%20Regular/0-255.pbf"), outside: None },
    Row { op: "GET /health", access: Public, inside: get("/health"), outside: None },
    Row { op: "GET /ready", access: Public, inside: get("/ready"), outside: None },
    Row { op: "GET /metrics", access: Public, inside: get("/metrics"), outside: None },
    Row { op: "GET /api/openapi.json", access: Public, inside: get("/api/openapi.json"), outside: None },
    // The tracker protocol authenticates by device id, not by token.
    Row { op: "GET /osmand", access: Public,
        inside: get("/osmand?id=unknown-device&lat={lat_in}&lon={lon_in}"), outside: None },
    Row { op: "POST /osmand", access: Public,
        inside: get("/osmand?id=unknown-device&lat={lat_in}&lon={lon_in}"), outside: None },
    // Open311: discovery and services are public, filing takes an api_key of a role that reports.
    Row { op: "GET /open311/v2/discovery.json", access: Public, inside: get("/open311/v2/discovery.json"), outside: None },
    Row { op: "GET /open311/v2/services.json", access: Public, inside: get("/open311/v2/services.json"), outside: None },
    Row { op: "GET /open311/v2/services/{service_code}.json", access: Public,
        inside: get("/open311/v2/services/{category}.json"), outside: None },
    Row { op: "GET /open311/v2/requests.json", access: Public, inside: get("/open311/v2/requests.json"), outside: None },
    Row { op: "GET /open311/v2/requests/{service_request_id}.json", access: Public,
        inside: get("/open311/v2/requests/{case_in}.json"), outside: None },
    Row { op: "POST /open311/v2/requests.json", access: ApiKey(&[A, C, W, R]),
        inside: Req { path: "/open311/v2/requests.json",
            body: Body::Form("service_code={category}&lat={lat_in}&long={lon_in}&description=x") },
        outside: None },

    // --- Who am I.
    Row { op: "GET /api/me", access: Roles(&[A, P, C, W, R, D, AU], Any), inside: get("/api/me"), outside: None },

    // --- The map: regions, grids, lookup, base map.
    Row { op: "GET /api/regions", access: Roles(STAFF, Any), inside: get("/api/regions"), outside: None },
    Row { op: "GET /api/regions/{id}", access: Roles(STAFF, Scoped),
        inside: get("/api/regions/{community_in}"), outside: Some(get("/api/regions/{community_out}")) },
    Row { op: "POST /api/regions", access: Roles(&[A, P], Unscoped),
        inside: json("/api/regions", r#"{"type": "Feature", "geometry": {square_in},
            "properties": {"level": "community", "code": "{street_code_in}991", "name": "新社区", "parent_id": {street_in}}}"#),
        outside: None },
    Row { op: "GET /api/grids", access: Roles(STAFF, Any), inside: get("/api/grids"), outside: None },
    Row { op: "GET /api/grids/{id}", access: Roles(STAFF, Scoped),
        inside: get("/api/grids/{grid_in}"), outside: Some(get("/api/grids/{grid_out}")) },
    Row { op: "GET /api/grids/{id}/coverage", access: Roles(STAFF, Scoped),
        inside: get("/api/grids/{grid_in}/coverage?cells=true"), outside: Some(get("/api/grids/{grid_out}/coverage?cells=true")) },
    Row { op: "GET /api/locate", access: Roles(STAFF, Any), inside: get("/api/locate?lat={lat_in}&lon={lon_in}"), outside: None },
    Row { op: "POST /api/locate", access: Roles(STAFF, Any),
        inside: json("/api/locate", r#"{"points": [[{lat_in}, {lon_in}]]}"#), outside: None },
    Row { op: "GET /api/basemap", access: Roles(STAFF, Any), inside: get("/api/basemap?bbox={bbox_in}"), outside: None },

    // --- Buildings (household counts: the grid's own workers and their command centre).
    Row { op: "GET /api/buildings", access: Roles(STAFF, Scoped),
        inside: get("/api/buildings?grid={grid_in}"), outside: Some(get("/api/buildings?grid={grid_out}")) },
    Row { op: "GET /api/buildings/{id}", access: Roles(STAFF, Scoped),
        inside: get("/api/buildings/{building_in}"), outside: Some(get("/api/buildings/{building_out}")) },
    Row { op: "POST /api/buildings", access: Roles(&[A, P], Scoped),
        inside: json("/api/buildings", r#"{"type": "Feature", "geometry": {small_square_in},
            "properties": {"households": 3, "source_id": "test:in"}}"#),
        outside: Some(json("/api/buildings", r#"{"type": "Feature", "geometry": {small_square_out},
            "properties": {"households": 3, "source_id": "test:out"}}"#)) },

    // --- Workers.
    Row { op: "GET /api/workers", access: Roles(STAFF, Scoped),
        inside: get("/api/workers?grid={grid_in}"), outside: Some(get("/api/workers?grid={grid_out}")) },
    Row { op: "GET /api/workers/{id}", access: Roles(STAFF, Scoped),
        inside: get("/api/workers/{spare_in}"), outside: Some(get("/api/workers/{spare_out}")) },
    Row { op: "POST /api/workers", access: Roles(&[A, C], Scoped),
        inside: json("/api/workers", r#"{"name": "新人", "kind": "grid_worker", "grids": [{"grid_id": {grid_in}, "responsibility": "backup"}]}"#),
        outside: Some(json("/api/workers", r#"{"name": "新人", "kind": "grid_worker", "grids": [{"grid_id": {grid_out}, "responsibility": "backup"}]}"#)) },
    Row { op: "PATCH /api/workers/{id}", access: Roles(&[A, C], Scoped),
        inside: json("/api/workers/{spare_in}", r#"{"name": "改名"}"#),
        outside: Some(json("/api/workers/{spare_out}", r#"{"name": "改名"}"#)) },
    Row { op: "PUT /api/workers/{id}/duty", access: Roles(&[A, C], Scoped),
        inside: json("/api/workers/{spare_in}/duty", r#"{"duty": "on_duty"}"#),
        outside: Some(json("/api/workers/{spare_out}/duty", r#"{"duty": "on_duty"}"#)) },
    Row { op: "PUT /api/workers/{id}/grids", access: Roles(&[A, C], Scoped),
        inside: json("/api/workers/{spare_in}/grids", r#"[{"grid_id": {grid_in}, "responsibility": "backup"}]"#),
        outside: Some(json("/api/workers/{spare_out}/grids", r#"[{"grid_id": {grid_out}, "responsibility": "backup"}]"#)) },
    Row { op: "PUT /api/workers/{id}/position", access: Roles(&[A, C], Scoped),
        inside: json("/api/workers/{spare_in}/position", r#"{"lat": {lat_in}, "lon": {lon_in}}"#),
        outside: Some(json("/api/workers/{spare_out}/position", r#"{"lat": {lat_out}, "lon": {lon_out}}"#)) },
    Row { op: "GET /api/workers/{id}/track", access: Roles(STAFF, Scoped),
        inside: get("/api/workers/{spare_in}/track"), outside: Some(get("/api/workers/{spare_out}/track")) },
    // A worker's or device's own fixes; a command centre's for workers in its scope.
    Row { op: "POST /api/positions", access: Roles(&[A, C, W, D], Scoped),
        inside: json("/api/positions", r#"[{"worker_id": {worker_in}, "lat": {lat_in}, "lon": {lon_in}}]"#),
        outside: Some(json("/api/positions", r#"[{"worker_id": {worker_out}, "lat": {lat_out}, "lon": {lon_out}}]"#)) },
    Row { op: "GET /api/nearby", access: Roles(STAFF, Any),
        inside: get("/api/nearby?lat={lat_in}&lon={lon_in}&radius_m=500&kind=workers"), outside: None },
    // Filtered to the caller's scope as the live stream is; a time before the replay history is a 422,
    // which still shows the caller got through.
    Row { op: "GET /api/replay/state", access: Roles(&[A, C], Any),
        inside: get("/api/replay/state?at=2026-01-01T00:00:00Z&bbox={bbox_in}"), outside: None },
    // The list is filtered to the caller's scope.
    Row { op: "GET /api/warnings", access: Roles(&[A, C], Any), inside: get("/api/warnings"), outside: None },

    // --- Cases.
    // The list is filtered to what the caller may see (a reporter: its own reports); naming a grid
    // outside the scope is refused.
    Row { op: "GET /api/incidents", access: Roles(&[A, P, C, W, R], Scoped),
        inside: get("/api/incidents"), outside: Some(get("/api/incidents?grid={grid_out}")) },
    Row { op: "POST /api/incidents", access: Roles(&[A, C, W, R], Any),
        inside: json("/api/incidents", r#"{"lat": {lat_in}, "lon": {lon_in}, "category": "{category}", "description": "x"}"#),
        outside: None },
    Row { op: "GET /api/incidents/{id}", access: Roles(&[A, P, C, W, R], Scoped),
        inside: get("/api/incidents/{case_in}"), outside: Some(get("/api/incidents/{case_out}")) },
    // Search (issue 22): every reader of cases; the answer holds only what the caller may see.
    Row { op: "GET /api/search", access: Roles(&[A, P, C, W, R], Any),
        inside: get("/api/search?q=x"), outside: None },
    // The dispatch list: those who act on cases and read workers, for a case in their scope.
    Row { op: "GET /api/incidents/{id}/candidates", access: Roles(&[A, C, W], Scoped),
        inside: get("/api/incidents/{case_in}/candidates"), outside: Some(get("/api/incidents/{case_out}/candidates")) },
    Row { op: "POST /api/incidents/{id}/actions", access: Roles(&[A, C, W], Scoped),
        inside: json("/api/incidents/{case_in}/actions", r#"{"action": "accept"}"#),
        outside: Some(json("/api/incidents/{case_out}/actions", r#"{"action": "accept"}"#)) },
    Row { op: "POST /api/incidents/{id}/photos", access: Roles(&[A, C, W, R], Scoped),
        inside: Req { path: "/api/incidents/{case_in}/photos", body: Body::Photo },
        outside: Some(Req { path: "/api/incidents/{case_out}/photos", body: Body::Photo }) },
    Row { op: "GET /api/photos/{sha256}", access: Roles(&[A, P, C, W, R], Scoped),
        inside: get("/api/photos/{photo_in}"), outside: Some(get("/api/photos/{photo_out}")) },
    Row { op: "GET /api/photos/{sha256}/thumbnail", access: Roles(&[A, P, C, W, R], Scoped),
        inside: get("/api/photos/{photo_in}/thumbnail"),
        outside: Some(get("/api/photos/{photo_out}/thumbnail")) },
    Row { op: "GET /api/incidents/{id}/cameras", access: Roles(STAFF, Scoped),
        inside: get("/api/incidents/{case_in}/cameras"), outside: Some(get("/api/incidents/{case_out}/cameras")) },
    Row { op: "GET /api/categories", access: Roles(&[A, P, C, W, R], Any), inside: get("/api/categories"), outside: None },
    Row { op: "PUT /api/categories/{code}", access: Roles(&[A], Any),
        inside: json("/api/categories/{category}", "{category_json}"), outside: None },
    Row { op: "GET /api/departments", access: Roles(&[A, P, C], Any), inside: get("/api/departments"), outside: None },
    Row { op: "PUT /api/departments/{code}", access: Roles(&[A], Any),
        inside: json("/api/departments/authz", r#"{"name": "权限测试", "members": []}"#), outside: None },
    Row { op: "GET /api/reports/kpi", access: Roles(&[A, C], Any),
        inside: get("/api/reports/kpi?level=grid&period=2026-11"), outside: None },
    // The dashboards: the answers are filtered to the caller's scope, whatever the area asked for.
    Row { op: "GET /api/reports/series", access: Roles(&[A, C], Any),
        inside: get("/api/reports/series?from=2026-11-01&to=2026-11-08"), outside: None },
    Row { op: "GET /api/reports/daily", access: Roles(&[A, C], Any),
        inside: get("/api/reports/daily?date=2026-11-02"), outside: None },
    // The alert reaches only the on-duty workers inside the caller's scope, whatever the area.
    Row { op: "POST /api/alerts", access: Roles(&[A, C], Any),
        inside: json("/api/alerts", r#"{"title": "演练 drill", "area": {square_in}}"#),
        outside: Some(json("/api/alerts", r#"{"title": "演练 drill", "area": {square_out}}"#)) },
    // Alarms are the command centre's: the list is filtered to the caller's scope; acknowledging one
    // outside it is refused (a second acknowledgement inside is a 409, which still got through).
    Row { op: "GET /api/alarms", access: Roles(&[A, C], Any), inside: get("/api/alarms?state=all"), outside: None },
    Row { op: "POST /api/alarms/{id}/acknowledge", access: Roles(&[A, C], Scoped),
        inside: json("/api/alarms/{alarm_in}/acknowledge", "{}"),
        outside: Some(json("/api/alarms/{alarm_out}/acknowledge", "{}")) },

    // --- Cameras.
    Row { op: "GET /api/cameras", access: Roles(STAFF, Any), inside: get("/api/cameras"), outside: None },
    Row { op: "GET /api/cameras/{id}", access: Roles(STAFF, Scoped),
        inside: get("/api/cameras/{camera_in}"), outside: Some(get("/api/cameras/{camera_out}")) },
    Row { op: "POST /api/cameras", access: Roles(&[A, P, C], Scoped),
        inside: json("/api/cameras", r#"{"name": "c", "lat": {lat_in}, "lon": {lon_in}, "heading_deg": 0, "fov_deg": 90, "range_m": 50, "kind": "fixed"}"#),
        outside: Some(json("/api/cameras", r#"{"name": "c", "lat": {lat_out}, "lon": {lon_out}, "heading_deg": 0, "fov_deg": 90, "range_m": 50, "kind": "fixed"}"#)) },
    Row { op: "POST /api/cameras/import", access: Roles(&[A, P, C], Scoped),
        inside: json("/api/cameras/import", r#"{"type": "FeatureCollection", "features": [{"type": "Feature",
            "geometry": {"type": "Point", "coordinates": [{lon_in}, {lat_in}]},
            "properties": {"name": "i", "heading_deg": 0, "fov_deg": 90, "range_m": 50, "kind": "fixed"}}]}"#),
        outside: Some(json("/api/cameras/import", r#"{"type": "FeatureCollection", "features": [{"type": "Feature",
            "geometry": {"type": "Point", "coordinates": [{lon_out}, {lat_out}]},
            "properties": {"name": "i", "heading_deg": 0, "fov_deg": 90, "range_m": 50, "kind": "fixed"}}]}"#)) },
    Row { op: "PATCH /api/cameras/{id}", access: Roles(&[A, P, C], Scoped),
        inside: json("/api/cameras/{camera_in}", r#"{"name": "renamed {n}"}"#),
        outside: Some(json("/api/cameras/{camera_out}", r#"{"name": "renamed {n}"}"#)) },
    Row { op: "DELETE /api/cameras/{id}", access: Roles(&[A, P, C], Scoped),
        inside: get("/api/cameras/{camera_doomed_in}"), outside: Some(get("/api/cameras/{camera_doomed_out}")) },
    // The video platform's key (a reporter token) or a command centre posts what a camera saw.
    Row { op: "POST /api/cameras/{id}/alerts", access: Roles(&[A, C, R], Any),
        inside: json("/api/cameras/{camera_in}/alerts", r#"{"category": "{category}", "description": "seen"}"#),
        outside: None },

    // --- Patrols.
    Row { op: "GET /api/patrols", access: Roles(STAFF, Scoped),
        inside: get("/api/patrols?worker={spare_in}"), outside: Some(get("/api/patrols?worker={spare_out}")) },
    Row { op: "POST /api/patrols", access: Roles(&[A, C], Scoped),
        inside: json("/api/patrols", r#"{"worker": {spare_in}}"#), outside: Some(json("/api/patrols", r#"{"worker": {spare_out}}"#)) },
    Row { op: "GET /api/patrols/{id}", access: Roles(STAFF, Scoped),
        inside: get("/api/patrols/{patrol_in}"), outside: Some(get("/api/patrols/{patrol_out}")) },
    Row { op: "POST /api/patrols/{id}/end", access: Roles(&[A, C], Scoped),
        inside: get("/api/patrols/{patrol_in}/end"), outside: Some(get("/api/patrols/{patrol_out}/end")) },
    Row { op: "GET /api/checkpoints", access: Roles(STAFF, Scoped),
        inside: get("/api/checkpoints?grid={grid_in}"), outside: Some(get("/api/checkpoints?grid={grid_out}")) },
    Row { op: "POST /api/checkpoints", access: Roles(&[A, C], Scoped),
        inside: json("/api/checkpoints", r#"{"name": "k", "lat": {lat_in}, "lon": {lon_in}, "radius_m": 30}"#),
        outside: Some(json("/api/checkpoints", r#"{"name": "k", "lat": {lat_out}, "lon": {lon_out}, "radius_m": 30}"#)) },

    // --- Boundary plans (apply and roll back run last: they redraw community A).
    Row { op: "GET /api/communities/{id}/plans", access: Roles(&[A, P, C], Scoped),
        inside: get("/api/communities/{community_in}/plans"), outside: Some(get("/api/communities/{community_out}/plans")) },
    Row { op: "POST /api/communities/{id}/plans", access: Roles(&[A, P], Scoped),
        inside: json("/api/communities/{community_in}/plans", r#"{"auto": true}"#),
        outside: Some(json("/api/communities/{community_out}/plans", r#"{"auto": true}"#)) },
    Row { op: "GET /api/communities/{id}/plans/{plan}", access: Roles(&[A, P, C], Scoped),
        inside: get("/api/communities/{community_in}/plans/{plan_in}"), outside: Some(get("/api/communities/{community_out}/plans/{plan_out}")) },
    Row { op: "GET /api/communities/{id}/plans/{plan}/diff", access: Roles(&[A, P, C], Scoped),
        inside: get("/api/communities/{community_in}/plans/{plan_in}/diff"), outside: Some(get("/api/communities/{community_out}/plans/{plan_out}/diff")) },
    Row { op: "GET /api/communities/{id}/versions", access: Roles(&[A, P, C], Scoped),
        inside: get("/api/communities/{community_in}/versions"), outside: Some(get("/api/communities/{community_out}/versions")) },
    Row { op: "POST /api/communities/{id}/plans/{plan}/apply", access: Roles(&[A, P], Scoped),
        inside: json("/api/communities/{community_in}/plans/{plan_in}/apply", "{}"),
        outside: Some(json("/api/communities/{community_out}/plans/{plan_out}/apply", "{}")) },
    Row { op: "POST /api/communities/{id}/versions/{version}/rollback", access: Roles(&[A, P], Scoped),
        inside: json("/api/communities/{community_in}/versions/{version_in}/rollback", "{}"),
        outside: Some(json("/api/communities/{community_out}/versions/{version_out}/rollback", "{}")) },

    // --- Tokens: admins, within their own reach.
    Row { op: "GET /api/tokens", access: Roles(&[A], Any), inside: get("/api/tokens"), outside: None },
    Row { op: "POST /api/tokens", access: Roles(&[A], Scoped),
        inside: json("/api/tokens", r#"{"role": "reporter", "scopes": ["grid:{grid_in}"]}"#),
        outside: Some(json("/api/tokens", r#"{"role": "reporter", "scopes": ["grid:{grid_out}"]}"#)) },
    Row { op: "DELETE /api/tokens/{id}", access: Roles(&[A], Scoped),
        inside: get("/api/tokens/{token_in}"), outside: Some(get("/api/tokens/{token_out}")) },

    // --- People's accounts: signing in is public; one's own sessions and password need a session.
    Row { op: "POST /api/session", access: Public,
        inside: json("/api/session", r#"{"name": "{person}", "password": "{person_password}"}"#), outside: None },
    Row { op: "DELETE /api/session", access: Session, inside: get("/api/session"), outside: None },
    Row { op: "GET /api/sessions", access: Session, inside: get("/api/sessions"), outside: None },
    Row { op: "DELETE /api/sessions/{id}", access: Session, inside: get("/api/sessions/{person_session}"), outside: None },
    // The new password equals the current one: a 422 past authorization, and nothing changes.
    Row { op: "PUT /api/me/password", access: Session,
        inside: json("/api/me/password", r#"{"current_password": "{person_password}", "new_password": "{person_password}"}"#),
        outside: None },
    // Administrators manage accounts within their own reach (the token rules).
    Row { op: "GET /api/users", access: Roles(&[A], Any), inside: get("/api/users"), outside: None },
    Row { op: "POST /api/users", access: Roles(&[A], Scoped),
        inside: json("/api/users", r#"{"name": "authz.in{n}", "role": "commander", "scopes": ["grid:{grid_in}"]}"#),
        outside: Some(json("/api/users", r#"{"name": "authz.out{n}", "role": "commander", "scopes": ["grid:{grid_out}"]}"#)) },
    Row { op: "GET /api/users/{id}", access: Roles(&[A], Scoped),
        inside: get("/api/users/{user_in}"), outside: Some(get("/api/users/{user_out}")) },
    Row { op: "PATCH /api/users/{id}", access: Roles(&[A], Scoped),
        inside: json("/api/users/{user_in}", r#"{"display_name": "改名 {n}"}"#),
        outside: Some(json("/api/users/{user_out}", r#"{"display_name": "改名 {n}"}"#)) },
    Row { op: "POST /api/users/{id}/password", access: Roles(&[A], Scoped),
        inside: json("/api/users/{user_in}/password", "{}"), outside: Some(json("/api/users/{user_out}/password", "{}")) },
    Row { op: "POST /api/users/{id}/totp", access: Roles(&[A], Scoped),
        inside: get("/api/users/{user_in}/totp"), outside: Some(get("/api/users/{user_out}/totp")) },

    // --- The live map.
    Row { op: "GET /ws", access: Roles(STAFF, Any), inside: get("/ws"), outside: None },

    // --- Tiles: the catalog and TileJSON need a credential; each layer the permission of what it shows.
    Row { op: "GET /tiles/catalog", access: Roles(STAFF, Any), inside: get("/tiles/catalog"), outside: None },
    Row { op: "GET /tiles/{layer}.json", access: Roles(STAFF, Any), inside: get("/tiles/grids.json"), outside: None },
    Row { op: "GET /tiles/{layer}/{z}/{x}/{y}.mvt#communities", access: Roles(STAFF, Any), inside: get("/tiles/communities/{tile_in}.mvt"), outside: None },
    Row { op: "GET /tiles/{layer}/{z}/{x}/{y}.mvt#grids", access: Roles(STAFF, Any), inside: get("/tiles/grids/{tile_in}.mvt"), outside: None },
    Row { op: "GET /tiles/{layer}/{z}/{x}/{y}.mvt#buildings", access: Roles(STAFF, Any), inside: get("/tiles/buildings/{tile_in}.mvt"), outside: None },
    Row { op: "GET /tiles/{layer}/{z}/{x}/{y}.mvt#incidents", access: Roles(STAFF, Any), inside: get("/tiles/incidents/{tile_in}.mvt"), outside: None },
    Row { op: "GET /tiles/{layer}/{z}/{x}/{y}.mvt#workers", access: Roles(STAFF, Any), inside: get("/tiles/workers/{tile_in}.mvt"), outside: None },
    Row { op: "GET /tiles/{layer}/{z}/{x}/{y}.mvt#incident_density", access: Roles(STAFF, Any), inside: get("/tiles/incident_density/{tile_in}.mvt"), outside: None },
    Row { op: "GET /tiles/{layer}/{z}/{x}/{y}.mvt#household_density", access: Roles(STAFF, Any), inside: get("/tiles/household_density/{tile_in}.mvt"), outside: None },
    Row { op: "GET /tiles/{layer}/{z}/{x}/{y}.mvt#patrol_coverage", access: Roles(STAFF, Any), inside: get("/tiles/patrol_coverage/{tile_in}.mvt"), outside: None },
    Row { op: "GET /tiles/{layer}/{z}/{x}/{y}.mvt#warnings", access: Roles(&[A, C], Any), inside: get("/tiles/warnings/{tile_in}.mvt"), outside: None },
    Row { op: "GET /tiles/{layer}/{z}/{x}/{y}.mvt#cameras", access: Roles(STAFF, Any), inside: get("/tiles/cameras/{tile_in}.mvt"), outside: None },
    Row { op: "GET /tiles/{layer}/{z}/{x}/{y}.mvt#camera_coverage", access: Roles(STAFF, Any), inside: get("/tiles/camera_coverage/{tile_in}.mvt"), outside: None },
    Row { op: "GET /tiles/{layer}/{z}/{x}/{y}.mvt#basemap", access: Roles(STAFF, Any), inside: get("/tiles/basemap/{tile_in}.mvt"), outside: None },

    // --- The audit trail: the auditor reads it, nobody else (not even the unscoped admin).
    Row { op: "GET /api/audit", access: Roles(&[AU], Any), inside: get("/api/audit"), outside: None },
];
