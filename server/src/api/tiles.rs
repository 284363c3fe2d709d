//! `/tiles`: Mapbox Vector Tiles of the world, their TileJSON and a catalog.
//!
//! - `GET /tiles/catalog` → every tile set with its TileJSON URL, zooms and description.
//! - `GET /tiles/{layer}.json` → TileJSON 3.0.0; `tiles` is absolute, built from the request's `Host`.
//! - `GET /tiles/{layer}/{z}/{x}/{y}.mvt` → `application/vnd.mapbox-vector-tile`.
//!
//! Auth as every read: `Authorization: Bearer`, or `?token=` (as `/ws` takes it) because a map client
//! cannot set headers on tile requests, or the session cookie of a person signed in to the web map (so
//! its URLs carry no credential); a TileJSON fetched with `?token=` carries it in its URL.
//! Tiles come from the cache or are drawn from the world (never SQL); `ETag` is the first 16 hex
//! digits of the SHA-256 of the uncompressed tile (`-gz` appended for the gzip body), `If-None-Match`
//! gives 304, `Accept-Encoding: gzip` a gzip body, `Cache-Control: no-cache` so browsers always
//! revalidate. An empty tile is a `200` with an empty body. `Cache-Control: no-cache` on the request
//! skips the cache (benchmarks).

use std::io::Write;
use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridwatch_tiles::TileId;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::AppPath;
use crate::auth;
use crate::domain::{Permission, Principal};
use crate::error::ApiError;
use crate::state::AppState;
use crate::tiles::{self, Encoded, LAYERS, LayerSpec, RenderCtx};

const MVT: &str = "application/vnd.mapbox-vector-tile";
const OSM_ATTRIBUTION: &str = "© OpenStreetMap contributors";

/// The `token` query parameter, if any.
fn query_token(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

/// The caller, from `Authorization: Bearer`, `?token=` or the session cookie; the query's token, to
/// carry into the URLs a TileJSON names.
async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<(Principal, Option<String>), ApiError> {
    let token = query_token(query);
    let (principal, _) = auth::principal_of(state, headers, token.as_deref()).await?;
    Ok((principal, token))
}

fn layer(name: &str) -> Result<(usize, &'static LayerSpec), ApiError> {
    let i = tiles::layer_index(name).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown-layer",
            format!("no tile layer {name:?}; see /tiles/catalog"),
        )
    })?;
    Ok((i, &LAYERS[i]))
}

fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        == Some("https");
    format!("{}://{host}", if https { "https" } else { "http" })
}

/// `GET /tiles/catalog`.
#[utoipa::path(get, path = "/tiles/catalog", tag = "tiles",
    params(("token" = Option<String>, Query, description = "bearer token, when no Authorization header")),
    responses((status = 200, description = "`{layers: [{name, description, minzoom, maxzoom, tilejson, vector_layers}]}`: the layers the caller may read"),
        (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn catalog(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (principal, token) = caller(&state, &headers, query.as_deref()).await?;
    auth::Auth::permit(&principal, Permission::ReadMap)?;
    let base = base_url(&headers);
    let suffix = token
        .map(|t| format!("?token={}", encode(&t)))
        .unwrap_or_default();
    let layers: Vec<Value> = LAYERS
        .iter()
        .filter(|l| may_read(&principal, l))
        .map(|l| {
            json!({"name": l.name, "description": l.description, "minzoom": l.minzoom, "maxzoom": l.maxzoom,
                "tilejson": format!("{base}/tiles/{}.json{suffix}", l.name),
                "vector_layers": l.vector_layers.iter().map(|v| v.id).collect::<Vec<_>>()})
        })
        .collect();
    Ok(Json(json!({"layers": layers})))
}

/// Whether the caller may read a layer: the map itself, and the resource the layer shows.
fn may_read(principal: &Principal, spec: &LayerSpec) -> bool {
    principal.role.may(Permission::ReadMap) && principal.role.may(spec.permission)
}

/// 403 unless [`may_read`].
fn require_layer(principal: &Principal, spec: &LayerSpec) -> Result<(), ApiError> {
    let auth = auth::Auth(principal.clone());
    auth.require(Permission::ReadMap)?;
    auth.require(spec.permission)
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `GET /tiles/{file}` where `file` is `{layer}.json`: TileJSON 3.0.0.
#[utoipa::path(get, path = "/tiles/{layer}.json", tag = "tiles",
    params(("layer" = String, Path, description = "a layer of /tiles/catalog"),
        ("token" = Option<String>, Query, description = "bearer token; carried into the `tiles` URL")),
    responses((status = 200, description = "TileJSON 3.0.0"), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn tilejson(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    AppPath(file): AppPath<String>,
) -> Result<Json<Value>, ApiError> {
    let (principal, token) = caller(&state, &headers, query.as_deref()).await?;
    let name = file.strip_suffix(".json").ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no-route",
            format!("no route for /tiles/{file}; TileJSON is /tiles/{{layer}}.json"),
        )
    })?;
    let (_, spec) = layer(name)?;
    require_layer(&principal, spec)?;
    let base = base_url(&headers);
    let suffix = token
        .map(|t| format!("?token={}", encode(&t)))
        .unwrap_or_default();
    let world = state.world();
    let mut bounds: Option<geo::Rect<f64>> = None;
    for g in world.grids() {
        if let Some(r) = geo::BoundingRect::bounding_rect(&g.boundary) {
            bounds = Some(bounds.map_or(r, |b| {
                geo::Rect::new(
                    geo::Coord {
                        x: b.min().x.min(r.min().x),
                        y: b.min().y.min(r.min().y),
                    },
                    geo::Coord {
                        x: b.max().x.max(r.max().x),
                        y: b.max().y.max(r.max().y),
                    },
                )
            }));
        }
    }
    let bounds = bounds.map_or_else(
        || json!([-180.0, -85.051_128_779_806_59, 180.0, 85.051_128_779_806_59]),
        |b| json!([b.min().x, b.min().y, b.max().x, b.max().y]),
    );
    // The world does not keep the import's attribution; buildings from OSM say where they came from.
    let from_osm = world.buildings().any(|b| {
        b.source_id
            .as_deref()
            .is_some_and(|s| s.starts_with("osm:"))
    });
    let vector_layers: Vec<Value> = spec
        .vector_layers
        .iter()
        .map(|v| {
            let fields: serde_json::Map<String, Value> = v
                .fields
                .iter()
                .map(|(k, t)| ((*k).to_owned(), json!(t)))
                .collect();
            json!({"id": v.id, "fields": fields, "minzoom": spec.minzoom, "maxzoom": spec.maxzoom})
        })
        .collect();
    let mut body = json!({
        "tilejson": "3.0.0",
        "name": spec.name,
        "description": spec.description,
        "scheme": "xyz",
        "tiles": [format!("{base}/tiles/{}/{{z}}/{{x}}/{{y}}.mvt{suffix}", spec.name)],
        "vector_layers": vector_layers,
        "bounds": bounds,
        "minzoom": spec.minzoom,
        "maxzoom": spec.maxzoom,
    });
    if from_osm {
        body["attribution"] = json!(OSM_ATTRIBUTION);
    }
    Ok(Json(body))
}

/// Parses `z`, `x` and `y.mvt` into a tile inside the layer's zooms.
fn tile_of(spec: &LayerSpec, z: &str, x: &str, file: &str) -> Result<TileId, ApiError> {
    let bad = |detail: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid-tile", detail);
    let y = file
        .strip_suffix(".mvt")
        .ok_or_else(|| bad(format!("{file:?}: tiles are /{{z}}/{{x}}/{{y}}.mvt")))?;
    let parse = |what: &str, v: &str| {
        v.parse::<u32>()
            .map_err(|_| bad(format!("{what} {v:?} is not a non-negative integer")))
    };
    let (z, x, y) = (parse("z", z)?, parse("x", x)?, parse("y", y)?);
    let z = u8::try_from(z)
        .ok()
        .filter(|z| (spec.minzoom..=spec.maxzoom).contains(z))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "zoom-out-of-range",
                format!(
                    "layer {} has zooms {}..={}; got {z}",
                    spec.name, spec.minzoom, spec.maxzoom
                ),
            )
        })?;
    TileId::new(z, x, y).map_err(|e| bad(e.to_string()))
}

fn gzip(raw: &[u8]) -> Vec<u8> {
    if raw.is_empty() {
        return Vec::new();
    }
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(raw.len() / 2),
        flate2::Compression::fast(),
    );
    // Writing to a Vec cannot fail.
    encoder.write_all(raw).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

/// The tile ready to send. `with_gzip: false` (a tile drawn for this request alone, whose client did
/// not ask for gzip) leaves the gzip body empty; `respond` then never looks at it.
fn encoded(
    raw: Vec<u8>,
    expires: Option<chrono::DateTime<chrono::Utc>>,
    with_gzip: bool,
) -> Encoded {
    let etag = hex::encode(&Sha256::digest(&raw)[..8]);
    let gzip_body = if with_gzip { gzip(&raw) } else { Vec::new() };
    Encoded {
        gzip: gzip_body.into(),
        raw: raw.into(),
        etag,
        expires,
    }
}

/// `GET /tiles/{layer}/{z}/{x}/{y}.mvt`.
#[utoipa::path(get, path = "/tiles/{layer}/{z}/{x}/{y}.mvt", tag = "tiles",
    params(("layer" = String, Path), ("z" = u8, Path), ("x" = u32, Path), ("y" = u32, Path),
        ("token" = Option<String>, Query, description = "bearer token, when no Authorization header")),
    responses((status = 200, description = "application/vnd.mapbox-vector-tile (empty body: no features); ETag, gzip on request"),
        (status = 304, description = "If-None-Match matched"), (status = 400, description = "invalid tile address"),
        (status = 401), (status = 403), (status = 404, description = "unknown layer or zoom outside the layer's range")),
    security(("bearer" = [])))]
pub async fn tile(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    AppPath((name, z, x, file)): AppPath<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    let (principal, _) = caller(&state, &headers, query.as_deref()).await?;
    let (index, spec) = layer(&name)?;
    require_layer(&principal, spec)?;
    let tile = tile_of(spec, &z, &x, &file)?;
    let bypass = headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("no-cache"));
    let cache = &state.tiles().cache;
    // The epoch is read before the world (and the patrol book): see `tiles::cache`.
    let epoch = cache.epoch(index);
    let patrol_visits = if spec.name == "patrol_coverage" {
        let since = state.now() - chrono::Duration::hours(tiles::COVERAGE_WINDOW_H);
        // Copied out so the book's lock is never held with the world's.
        state.patrols().book().await?.visits_since(since).collect()
    } else {
        Vec::new()
    };
    let (scope, hit) = {
        let world = state.world();
        let visibility = world.visibility(&principal);
        let scope = tiles::scope_key(spec, &visibility);
        let now = state.now();
        let hit = if bypass {
            None
        } else {
            cache.get(index, tile, &scope, now)
        };
        if let Some(hit) = hit {
            (scope, Ok(hit))
        } else {
            let ctx = RenderCtx {
                world: &world,
                visibility: &visibility,
                tile,
                now,
                patrol_visits,
                expires: std::cell::Cell::new(None),
            };
            (
                scope,
                Err(tiles::render(spec, &ctx).map(|raw| (raw, ctx.expires.get()))),
            )
        }
    };
    let encoded = match hit {
        Ok(hit) => hit,
        Err(rendered) => {
            let (raw, expires) = rendered.map_err(|e| {
                tracing::error!(error = %e, layer = spec.name, %tile, "rendering a tile");
                ApiError::internal()
            })?;
            // A cached tile keeps both bodies for the clients to come; one drawn for this request only
            // is compressed only when this client takes gzip.
            let encoded = Arc::new(encoded(raw, expires, !bypass || accepts_gzip(&headers)));
            if !bypass {
                cache.insert(index, tile, scope, epoch, Arc::clone(&encoded));
            }
            encoded
        }
    };
    Ok(respond(&headers, &encoded))
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            let mut it = part.trim().split(';');
            let coding = it.next().unwrap_or("").trim();
            let q_zero = it.any(|p| p.trim().replace(' ', "") == "q=0");
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !q_zero
        })
}

fn respond(headers: &HeaderMap, encoded: &Encoded) -> Response {
    let gz = accepts_gzip(headers) && !encoded.raw.is_empty();
    let etag = if gz {
        format!("\"{}-gz\"", encoded.etag)
    } else {
        format!("\"{}\"", encoded.etag)
    };
    let mut response = if super::if_none_match(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else if gz {
        // `Bytes`: the cached body is shared, not copied, into the response.
        let mut r = encoded.gzip.clone().into_response();
        r.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        encoded.raw.clone().into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(MVT));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::VARY,
        HeaderValue::from_static("Accept-Encoding, Authorization"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_chosen_only_when_accepted() {
        let mut h = HeaderMap::new();
        assert!(!accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br, gzip;q=0.8"),
        );
        assert!(accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0"),
        );
        assert!(!accepts_gzip(&h));
    }
}
