//! `GET /`: a plain landing page until the web map is served here.

use axum::response::Html;

pub async fn index() -> Html<&'static str> {
    Html(concat!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>gridwatch</title>",
        "<body style=\"font-family:sans-serif;max-width:40em;margin:2em auto\">",
        "<h1>gridwatch</h1><p>Grid-based community management and patrol coordination.</p><ul>",
        "<li><a href=\"/health\">/health</a></li><li><a href=\"/metrics\">/metrics</a></li>",
        "<li><a href=\"/api/openapi.json\">/api/openapi.json</a> — the API</li></ul>",
        "<p>API calls need <code>Authorization: Bearer &lt;token&gt;</code>; <code>gridwatch demo</code> prints an admin token.</p>",
        "</body></html>"
    ))
}
