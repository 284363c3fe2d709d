//! Photos: `POST /api/incidents/{id}/photos` (multipart, one image in the part `photo`) and
//! `GET /api/photos/{sha256}`. The rules are in `crate::cases::photos`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppPath;
use crate::auth::Auth;
use crate::cases::{self, actions, archive, photos};
use crate::domain::IncidentId;
use crate::domain::Permission;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::ArchiveQuery;

/// Who may add a photo: the workers and commanders on the case, the reporter who filed it, and cameras.
/// The route's body limit: one photo at its largest plus room for the multipart framing.
pub const UPLOAD_BODY_LIMIT_BYTES: usize = photos::MAX_PHOTO_BYTES + 64 * 1024;

#[utoipa::path(post, path = "/api/incidents/{id}/photos", tag = "incidents", params(("id" = i64, Path), super::idempotency::KeyHeader),
    request_body(content_type = "multipart/form-data",
        description = "one part named `photo`: a JPEG, PNG or WebP image of at most 10 MiB"),
    responses((status = 201, description = "the photo as attached: `{sha256, content_type, size, at, by, url}`", headers(("Idempotent-Replayed" = String, description = "`true` on an answer given again for an `Idempotency-Key`"))),
        (status = 400), (status = 403), (status = 404),
        (status = 409, description = "the case is closed, already has this photo, or has 20 photos; or a request with this `Idempotency-Key` is still in flight (`idempotency-key-in-flight`, `Retry-After`), or was carried out with its answer lost (`idempotency-key-committed`)"),
        (status = 413), (status = 415),
        (status = 422, description = "a value is invalid, or the `Idempotency-Key` was used with another request (`idempotency-key-reused`)"),
        (status = 429, description = "this address uploaded too many photos (`--rate-photos`)", headers(("Retry-After" = u64, description = "seconds until the next request is taken")))),
    security(("bearer" = [])))]
pub async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    request: Request,
) -> Result<(StatusCode, HeaderMap, Json<Value>), ApiError> {
    auth.require(Permission::UploadPhotos)?;
    let data = read_photo(request).await?;
    let photo = photos::attach(
        state.core(),
        cases::actor_of(&auth.0),
        &auth.0,
        IncidentId(id),
        data,
    )
    .await?;
    let url = format!("/api/photos/{}", photo.sha256);
    let mut headers = HeaderMap::new();
    if let Ok(location) = HeaderValue::from_str(&url) {
        headers.insert(header::LOCATION, location);
    }
    let mut body = json!(photo);
    body["url"] = json!(url);
    Ok((StatusCode::CREATED, headers, Json(body)))
}

/// The bytes of the one part `photo` of a `multipart/form-data` body.
async fn read_photo(request: Request) -> Result<Bytes, ApiError> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    if !is_multipart {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send the photo as multipart/form-data with one part named `photo`",
        ));
    }
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid-multipart", e.body_text()))?;
    let mut photo = None;
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name != "photo" {
            return Err(ApiError::invalid(format!(
                "unexpected part {name:?}; send one part named `photo`"
            ))
            .with("field", name));
        }
        if photo.is_some() {
            return Err(ApiError::invalid("send one photo per request").with("field", "photo"));
        }
        photo = Some(field.bytes().await.map_err(multipart_error)?);
    }
    photo.ok_or_else(|| {
        ApiError::invalid("the body has no part named `photo`").with("field", "photo")
    })
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(multipart_error)`
fn multipart_error(error: axum::extract::multipart::MultipartError) -> ApiError {
    let status = error.status();
    let slug = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "too-large"
    } else {
        "invalid-multipart"
    };
    ApiError::new(status, slug, error.body_text())
}

#[utoipa::path(get, path = "/api/photos/{sha256}", tag = "incidents", params(("sha256" = String, Path)),
    responses((status = 200, description = "the image bytes, with their content type"),
        (status = 304, description = "`If-None-Match` names this photo"), (status = 400), (status = 403),
        (status = 404)),
    security(("bearer" = [])))]
pub async fn fetch(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(sha256): AppPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_seen(&state, &auth, &sha256).await?;
    let etag = format!("\"{sha256}\"");
    let cache = immutable(&etag);
    if super::if_none_match(&headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    let (content_type, data) = state
        .store()
        .photo(&sha256)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("photo {sha256}")))?;
    Ok((
        StatusCode::OK,
        cache,
        [(header::CONTENT_TYPE, content_type)],
        data,
    )
        .into_response())
}

/// Refused unless the caller may see photo `sha256`: 400 for a name that is no SHA-256, 404 for a
/// photo on no case, 403 for one only on cases out of the caller's scope. The full photo and its
/// thumbnail share this rule.
async fn check_seen(state: &AppState, auth: &Auth, sha256: &str) -> Result<(), ApiError> {
    let sha256 = sha256.to_owned();
    auth.require(Permission::ReadPhotos)?;
    if !photos::is_sha256(&sha256) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-path",
            "a photo is named by its lower-case hex SHA-256",
        )
        .code("invalid_photo_name"));
    }
    // A photo may show people and homes: it is shown only to someone who may see a case carrying it,
    // held in the world or archived.
    let (carried, seen, archived) = {
        let world = state.world();
        let mut carried = false;
        let mut seen = false;
        for case in world
            .incidents()
            .filter(|c| c.photos.iter().any(|p| p.sha256 == sha256))
        {
            carried = true;
            if actions::can_see(&world, &auth.0, case) {
                seen = true;
                break;
            }
        }
        let archived = archive::query(&world, None).map(|archived| ArchiveQuery {
            photo: Some(sha256.clone()),
            ..archived
        });
        let reader = archive::seer(&world, &auth.0);
        (carried, seen, archived.map(|query| (query, reader)))
    };
    let store = state.store();
    let seen = seen
        || match &archived {
            Some((query, reader)) => {
                let seen_by = reader.clone();
                let query = ArchiveQuery {
                    seen_by,
                    ..query.clone()
                };
                store.archived(&query, 1).await?.0 > 0
            }
            None => false,
        };
    if !seen {
        let carried = carried
            || match &archived {
                Some((query, _)) => store.archived(query, 1).await?.0 > 0,
                None => false,
            };
        return Err(if carried {
            ApiError::forbidden(format!("photo {sha256} is on no case in your scope"))
                .code("photo_out_of_scope")
        } else {
            ApiError::not_found(format!("photo {sha256}")).code("unknown_photo")
        });
    }
    Ok(())
}

#[utoipa::path(get, path = "/api/photos/{sha256}/thumbnail", tag = "incidents", params(("sha256" = String, Path)),
    responses((status = 200, description = "a JPEG of the photo whose longest side is at most 320 pixels, made once per photo", content_type = "image/jpeg"),
        (status = 304, description = "`If-None-Match` names this thumbnail"), (status = 400), (status = 403),
        (status = 404, description = "no such photo, or it has no thumbnail (`no-thumbnail`: a WebP or an image that cannot be decoded; show the photo itself)")),
    security(("bearer" = [])))]
pub async fn thumbnail(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(sha256): AppPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_seen(&state, &auth, &sha256).await?;
    let etag = format!("\"{sha256}-thumbnail\"");
    let cache = immutable(&etag);
    if super::if_none_match(&headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    let data = photos::thumbnail(state.store().as_ref(), &sha256)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no-thumbnail",
                format!("photo {sha256} has no thumbnail; show the photo itself"),
            )
            .code("no_thumbnail")
        })?;
    Ok((
        StatusCode::OK,
        cache,
        [(header::CONTENT_TYPE, "image/jpeg".to_owned())],
        data,
    )
        .into_response())
}

/// The headers of an image named by its content (a photo or its thumbnail): its `ETag`, cached for a
/// year by the one who asked only, never sniffed as another type.
fn immutable(etag: &str) -> [(header::HeaderName, String); 3] {
    [
        (header::ETAG, etag.to_owned()),
        (
            header::CACHE_CONTROL,
            "private, max-age=31536000, immutable".to_owned(),
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
    ]
}
