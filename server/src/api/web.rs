//! The web map (`web-map/`), served from the binary: the pages at `/` (command centre), `/worker`,
//! `/planner` and `/login.html`, their scripts, styles and vendored libraries under `/static/`, and the worker view's
//! service worker at `/sw.js` (at the root, so it may control `/worker`).
//!
//! The files are embedded at compile time (see `build.rs`). While working on the map,
//! `GRIDWATCH_WEB_DIR=web-map/dist` serves them from that folder instead, read on every request, so
//! `npm run build` and a reload show a change without rebuilding the server.
//!
//! Also the headers that keep the pages safe in a browser ([`page_headers`]: the CSP, no framing, no
//! referrer) and `nosniff` for every response of the server ([`nosniff`]).

use std::path::PathBuf;
use std::sync::LazyLock;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rustc_hash::FxHashMap;

use super::AppPath;
use crate::error::ApiError;

#[allow(clippy::unreadable_literal)]
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));
}

/// The embedded files by path.
static ASSETS: LazyLock<FxHashMap<&'static str, (&'static [u8], u64)>> = LazyLock::new(|| {
    embedded::ASSETS
        .iter()
        .map(|&(name, bytes, hash)| (name, (bytes, hash)))
        .collect()
});

/// A folder to serve the files from instead (`GRIDWATCH_WEB_DIR`), for working on the map.
static WEB_DIR: LazyLock<Option<PathBuf>> =
    LazyLock::new(|| std::env::var_os("GRIDWATCH_WEB_DIR").map(PathBuf::from));

/// An embedded file of the web map and its hash (never from `GRIDWATCH_WEB_DIR`: the server's own
/// inputs, such as the fonts, are those it was built with).
pub fn embedded_file(path: &str) -> Option<(&'static [u8], u64)> {
    ASSETS.get(path).copied()
}

#[utoipa::path(get, path = "/", tag = "web",
    responses((status = 200, description = "the command centre (指挥中心): the map, the cases in view, the case drawer", content_type = "text/html"),
        (status = 304, description = "`If-None-Match` names the page's `ETag`")))]
pub async fn centre(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

#[utoipa::path(get, path = "/worker", tag = "web",
    responses((status = 200, description = "the grid worker's phone view", content_type = "text/html"),
        (status = 304, description = "`If-None-Match` names the page's `ETag`")))]
pub async fn worker(headers: HeaderMap) -> Response {
    serve("worker.html", &headers)
}

#[utoipa::path(get, path = "/planner", tag = "web",
    responses((status = 200, description = "the planner: a community's grids as cells, to redraw", content_type = "text/html"),
        (status = 304, description = "`If-None-Match` names the page's `ETag`")))]
pub async fn planner(headers: HeaderMap) -> Response {
    serve("planner.html", &headers)
}

#[utoipa::path(get, path = "/login.html", tag = "web",
    responses((status = 200, description = "the login page: a name, a password and a TOTP code; a first sign-in's new password", content_type = "text/html"),
        (status = 304, description = "`If-None-Match` names the page's `ETag`")))]
pub async fn login(headers: HeaderMap) -> Response {
    serve("login.html", &headers)
}

#[utoipa::path(get, path = "/sw.js", tag = "web",
    responses((status = 200, description = "the worker view's service worker (`Service-Worker-Allowed: /`)",
            content_type = "text/javascript"),
        (status = 304, description = "`If-None-Match` names the script's `ETag`")))]
pub async fn service_worker(headers: HeaderMap) -> Response {
    let mut response = serve("sw.js", &headers);
    if response.status().is_success() {
        response
            .headers_mut()
            .insert("service-worker-allowed", HeaderValue::from_static("/"));
    }
    response
}

#[utoipa::path(get, path = "/static/{path}", tag = "web",
    params(("path" = String, Path, description = "a file of the web map, e.g. `js/centre.js` or `vendor/maplibre-gl.css`")),
    responses((status = 200, description = "the file, with the content type of its extension",
            content(("text/html"), ("text/javascript"), ("text/css"), ("application/json"), ("image/svg+xml"),
                ("image/png"), ("font/ttf"), ("text/plain"), ("application/octet-stream"))),
        (status = 304, description = "`If-None-Match` names the file's `ETag`"),
        (status = 400, description = "a path that is not UTF-8 once percent-decoded"),
        (status = 404, description = "no such file in the web map")))]
/// `AppPath`: a path that is not UTF-8 once decoded is a problem+json 400 like everywhere else.
pub async fn asset(AppPath(path): AppPath<String>, headers: HeaderMap) -> Response {
    serve(&path, &headers)
}

/// One file with its content type and a strong `ETag`; `If-None-Match` → 304. `no-cache` makes the
/// browser revalidate, so a new build is picked up on the next load and an unchanged file costs a 304.
fn serve(path: &str, headers: &HeaderMap) -> Response {
    let Some((bytes, hash)) = lookup(path) else {
        return ApiError::not_found(format!("no file /static/{path} in the web map"))
            .into_response();
    };
    let etag = format!("\"{hash:016x}\"");
    if super::if_none_match(headers, &etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    Response::builder()
        .header(header::CONTENT_TYPE, content_type(path))
        .header(header::ETAG, etag)
        .header(header::CACHE_CONTROL, "no-cache")
        .header("x-content-type-options", "nosniff")
        .body(Body::from(bytes))
        .expect("static headers are valid")
}

/// The file's bytes and a hash of them: from `GRIDWATCH_WEB_DIR` if set, else embedded. A path that
/// climbs out of the web root is not found.
fn lookup(path: &str) -> Option<(std::borrow::Cow<'static, [u8]>, u64)> {
    if path
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return None;
    }
    if let Some(dir) = WEB_DIR.as_ref() {
        let bytes = std::fs::read(dir.join(path)).ok()?;
        let hash = {
            use std::hash::{DefaultHasher, Hash, Hasher};
            let mut hasher = DefaultHasher::new();
            bytes.hash(&mut hasher);
            hasher.finish()
        };
        return Some((bytes.into(), hash));
    }
    ASSETS.get(path).map(|&(bytes, hash)| (bytes.into(), hash))
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ttf") => "font/ttf",
        Some("wav") => "audio/wav",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The web map's Content Security Policy: everything from this origin only. MapLibre draws on canvases
/// from `blob:` images and may start its worker from a `blob:` URL; sprites and icons can be `data:`.
/// `connect-src` names `ws:`/`wss:` of this host beside `'self'` for browsers whose `'self'` does not
/// cover websockets yet.
fn content_security_policy(host: Option<&str>) -> String {
    let sockets = host
        .filter(|h| is_plain_host(h))
        .map(|h| format!(" ws://{h} wss://{h}"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
         font-src 'self' data:; worker-src 'self' blob:; child-src 'self' blob:; \
         connect-src 'self'{sockets}; manifest-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// A `Host` header fit to be written into a policy: a name or address and a port, nothing that could
/// end a directive.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// The headers of the web map's pages, scripts and styles: its CSP, no framing (`frame-ancestors`
/// and, for older browsers, `X-Frame-Options`), no referrer.
pub(crate) async fn page_headers(request: Request, next: Next) -> Response {
    let policy = content_security_policy(
        request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok()),
    );
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// `X-Content-Type-Options: nosniff` on every response: a browser takes each body as the type it is
/// sent as (a JSON answer is never run as a script).
pub(crate) async fn nosniff(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pages_and_the_vendored_map_library_are_embedded() {
        for path in [
            "index.html",
            "worker.html",
            "planner.html",
            "login.html",
            "vendor/maplibre-gl.mjs",
            "vendor/maplibre-gl-worker.mjs",
            "vendor/maplibre-gl.css",
            "fonts/NotoSans-Regular.ttf",
            "LICENSES.txt",
        ] {
            assert!(
                ASSETS.get(path).is_some_and(|(bytes, _)| !bytes.is_empty()),
                "{path} is not embedded"
            );
        }
    }

    #[test]
    fn paths_that_leave_the_web_root_are_not_served() {
        for path in [
            "../Cargo.toml",
            "js/../../Cargo.toml",
            "/etc/passwd",
            "js//centre.js",
            "./index.html",
        ] {
            assert!(lookup(path).is_none(), "{path} was served");
        }
        assert!(lookup("index.html").is_some());
    }

    #[test]
    fn a_file_the_browser_has_is_a_304() {
        let first = serve("index.html", &HeaderMap::new());
        assert_eq!(first.status(), StatusCode::OK);
        let etag = first.headers()[header::ETAG].clone();
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, etag.clone());
        assert_eq!(
            serve("index.html", &headers).status(),
            StatusCode::NOT_MODIFIED
        );
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"0000000000000000\""),
        );
        assert_eq!(serve("index.html", &headers).status(), StatusCode::OK);
        // Another file's tag does not match.
        headers.insert(header::IF_NONE_MATCH, etag);
        assert_eq!(serve("worker.html", &headers).status(), StatusCode::OK);
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(
            content_type("js/centre.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type("vendor/maplibre-gl.mjs"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("fonts/x.ttf"), "font/ttf");
        assert_eq!(content_type("README"), "application/octet-stream");
    }

    #[test]
    fn the_policy_names_the_sockets_of_a_plain_host_only() {
        let policy = content_security_policy(Some("127.0.0.1:8080"));
        assert!(policy.contains("connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080;"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(policy.contains("worker-src 'self' blob:"));
        for hostile in ["a; script-src *", "a b", "x\"y", ""] {
            let policy = content_security_policy(Some(hostile));
            assert!(
                policy.contains("connect-src 'self';"),
                "{hostile:?}: {policy}"
            );
        }
        assert!(content_security_policy(None).contains("connect-src 'self';"));
        assert!(is_plain_host("[::1]:8080"));
    }
}
