//! Photos on a case through the real binary: upload (multipart), fetch by content hash, the rules
//! (type by magic bytes, size, once per case, at most 20, open cases only, scope), bad input that changes
//! nothing, and photos surviving a SIGKILL.

use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::cases::{act_ok, case, grid_place, last_seq, report, token};
use crate::harness::{Flavor, Server, TestStore, assert_problem};

/// A 1×1 PNG (a real image: signature, IHDR, IDAT, IEND).
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\0\x05\0\x01\xff\x89\x99=\x1d\0\0\0\0IEND\xaeB`\x82";
const BOUNDARY: &str = "gridwatch-test-boundary-7f3a";

#[tokio::test]
async fn photos_on_sqlite() {
    photos(Flavor::Sqlite).await;
}

#[tokio::test]
async fn photos_on_postgis() {
    photos(Flavor::Postgres).await;
}

/// A JPEG-looking body: SOI + APP0 (JFIF) and `n` filler bytes.
pub(crate) fn jpeg(n: usize) -> Vec<u8> {
    let mut data = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0".to_vec();
    data.extend((0..n).map(|i| u8::try_from(i % 251).unwrap()));
    data
}

/// `multipart/form-data` with the given `(name, bytes)` parts.
fn multipart(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, data) in parts {
        body.extend(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"x.bin\"\r\n").bytes());
        body.extend(b"Content-Type: application/octet-stream\r\n\r\n");
        body.extend(*data);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{BOUNDARY}--\r\n").bytes());
    body
}

/// Posts `body` with `content_type` to the case's photos as `token`, resending once if the server's
/// early 413 broke the upload (see `Server::send_raw`).
async fn upload_raw(
    server: &Server,
    token: &str,
    id: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let url = server.url(&format!("/api/incidents/{id}/photos"));
    let mut attempts = 0;
    loop {
        let sent = server
            .http
            .request(Method::POST, &url)
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let bytes = response.bytes().await.unwrap();
                return (
                    status,
                    serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                );
            }
            Err(e) if e.is_request() && attempts < 5 => attempts += 1,
            Err(e) => panic!("upload: {e}"),
        }
    }
}

pub(crate) async fn upload(server: &Server, token: &str, id: i64, data: &[u8]) -> (u16, Value) {
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    upload_raw(
        server,
        token,
        &id.to_string(),
        &content_type,
        multipart(&[("photo", data)]),
    )
    .await
}

pub fn sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The photo's bytes, content type and `ETag` as `token` sees them.
pub async fn fetch(
    server: &Server,
    token: &str,
    sha: &str,
    etag: Option<&str>,
) -> (u16, Vec<u8>, String, String) {
    let mut request = server
        .http
        .get(server.url(&format!("/api/photos/{sha}")))
        .bearer_auth(token);
    if let Some(etag) = etag {
        request = request.header("if-none-match", etag);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (content_type, tag) = (header("content-type"), header("etag"));
    (
        status,
        response.bytes().await.unwrap().to_vec(),
        content_type,
        tag,
    )
}

async fn photo_count(server: &Server, id: i64) -> usize {
    case(server, id).await["photos"].as_array().unwrap().len()
}

async fn photos(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let mut server = Server::demo(&store);
    let here = grid_place(&server, 0, 0).await;
    let other = grid_place(&server, 1, 0).await;
    let worker = token(&server, "worker", Some(here.primary)).await;
    let stranger = token(&server, "worker", Some(other.primary)).await;
    let planner = token(&server, "planner", None).await;
    let commander = token(&server, "commander", None).await;
    let reporter = token(&server, "reporter", None).await;
    let id = report(&server, &reporter, here.lat, here.lon, "city_appearance").await["id"]
        .as_i64()
        .unwrap();

    // --- Upload and fetch back, byte for byte.
    let (status, photo) = upload(&server, &worker, id, PNG).await;
    assert_eq!(status, 201, "{photo}");
    assert_eq!(photo["sha256"], sha256(PNG));
    assert_eq!(photo["content_type"], "image/png");
    assert_eq!(photo["size"], PNG.len());
    assert_eq!(photo["by"]["worker"], here.primary);
    assert_eq!(photo["url"], format!("/api/photos/{}", sha256(PNG)));
    let (status, bytes, content_type, etag) = fetch(&server, &worker, &sha256(PNG), None).await;
    assert_eq!((status, content_type.as_str()), (200, "image/png"));
    assert_eq!(bytes, PNG);
    assert_eq!(etag, format!("\"{}\"", sha256(PNG)));
    assert_eq!(
        fetch(&server, &worker, &sha256(PNG), Some(&etag)).await.0,
        304,
        "a cached copy is still good"
    );
    // The reporter who filed the case may add and see photos of it; the JPEG type is read from the bytes.
    let shot = jpeg(5000);
    let (status, second) = upload(&server, &reporter, id, &shot).await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(second["content_type"], "image/jpeg");
    assert_eq!(
        fetch(&server, &reporter, &sha256(&shot), None).await.1,
        shot
    );
    let listed = case(&server, id).await["photos"].clone();
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    assert_eq!(listed[0]["sha256"], sha256(PNG));
    assert_eq!(listed[1]["sha256"], sha256(&shot));

    // --- Refusals: a problem, and nothing stored.
    let seq = last_seq(&server).await;
    let webp_wav = b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0".to_vec();
    let over = jpeg(10 * 1024 * 1024);
    let json_type = "application/json";
    let multipart_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let refusals: Vec<((u16, Value), u16, &str, &str)> = vec![
        (
            upload(&server, &worker, id, PNG).await,
            409,
            "conflict",
            "the same photo twice on a case",
        ),
        (
            upload(&server, &worker, id, b"GIF89a\x01\0\x01\0").await,
            415,
            "unsupported-media-type",
            "a GIF",
        ),
        (
            upload(
                &server,
                &worker,
                id,
                b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            )
            .await,
            415,
            "unsupported-media-type",
            "an SVG",
        ),
        (
            upload(&server, &worker, id, &webp_wav).await,
            415,
            "unsupported-media-type",
            "RIFF that is not WebP",
        ),
        (
            upload(&server, &worker, id, b"").await,
            422,
            "invalid-input",
            "an empty part",
        ),
        (
            upload(&server, &worker, id, &over).await,
            413,
            "too-large",
            "over 10 MiB",
        ),
        (
            upload(&server, &worker, 999_999, PNG).await,
            404,
            "not-found",
            "an unknown case",
        ),
        (
            upload_raw(
                &server,
                &worker,
                "abc",
                &multipart_type,
                multipart(&[("photo", PNG)]),
            )
            .await,
            400,
            "invalid-path",
            "a bad id",
        ),
        (
            upload(&server, &stranger, id, PNG).await,
            403,
            "forbidden",
            "another grid's worker",
        ),
        (
            upload(&server, &planner, id, PNG).await,
            403,
            "forbidden",
            "a planner",
        ),
        (
            upload_raw(
                &server,
                &worker,
                &id.to_string(),
                json_type,
                br#"{"photo": "x"}"#.to_vec(),
            )
            .await,
            415,
            "unsupported-media-type",
            "JSON, not multipart",
        ),
        (
            upload_raw(
                &server,
                &worker,
                &id.to_string(),
                "multipart/form-data",
                multipart(&[("photo", PNG)]),
            )
            .await,
            400,
            "invalid-multipart",
            "no boundary",
        ),
        (
            upload_raw(
                &server,
                &worker,
                &id.to_string(),
                &multipart_type,
                b"--nope\r\n\r\ngarbage".to_vec(),
            )
            .await,
            400,
            "invalid-multipart",
            "a body that is not multipart",
        ),
        (
            upload_raw(
                &server,
                &worker,
                &id.to_string(),
                &multipart_type,
                multipart(&[("file", PNG)]),
            )
            .await,
            422,
            "invalid-input",
            "a part not named photo",
        ),
        (
            upload_raw(
                &server,
                &worker,
                &id.to_string(),
                &multipart_type,
                multipart(&[("photo", PNG), ("photo", &shot)]),
            )
            .await,
            422,
            "invalid-input",
            "two photos",
        ),
        (
            upload_raw(
                &server,
                &worker,
                &id.to_string(),
                &multipart_type,
                multipart(&[]),
            )
            .await,
            422,
            "invalid-input",
            "no photo part",
        ),
    ];
    for (got, status, slug, what) in &refusals {
        assert_eq!(got.0, *status, "{what}: {}", got.1);
        assert_problem(got, *status, slug);
    }
    assert_eq!(
        last_seq(&server).await,
        seq,
        "a refused upload stores nothing"
    );
    assert_eq!(photo_count(&server, id).await, 2);
    // Fetching: only a lower-case hex SHA-256, only a stored one, only from a case in scope.
    assert_eq!(fetch(&server, &worker, "not-a-hash", None).await.0, 400);
    assert_eq!(
        fetch(&server, &worker, &sha256(PNG).to_uppercase(), None)
            .await
            .0,
        400
    );
    assert_eq!(
        fetch(&server, &worker, &sha256(b"never uploaded"), None)
            .await
            .0,
        404
    );
    assert_eq!(
        fetch(&server, &stranger, &sha256(PNG), None).await.0,
        403,
        "another grid's worker"
    );

    // --- At most 20 photos a case.
    for n in 2..20 {
        let (status, body) = upload(&server, &worker, id, &jpeg(100 + n)).await;
        assert_eq!(status, 201, "photo {n}: {body}");
    }
    assert_eq!(photo_count(&server, id).await, 20);
    let seq = last_seq(&server).await;
    assert_problem(
        &upload(&server, &worker, id, &jpeg(99)).await,
        409,
        "conflict",
    );
    assert_eq!(last_seq(&server).await, seq);

    // --- The same image on another case is fine (stored once); a closed case takes no photos.
    let other_case = report(&server, &reporter, here.lat, here.lon, "street_order").await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(upload(&server, &worker, other_case, PNG).await.0, 201);
    act_ok(
        &server,
        &commander,
        other_case,
        &json!({"action": "cancel", "reason": "reported twice by phone"}),
    )
    .await;
    let seq = last_seq(&server).await;
    let refused = upload(&server, &worker, other_case, &jpeg(7)).await;
    assert_problem(&refused, 409, "conflict");
    assert_eq!(refused.1["current_state"], "cancelled");
    assert_eq!(last_seq(&server).await, seq);
    // The stranger still may not see the image through the case in scope of someone else.
    assert_eq!(fetch(&server, &stranger, &sha256(PNG), None).await.0, 403);

    // --- Photos are durable: SIGKILL, restart, same list and bytes.
    let before = case(&server, id).await["photos"].clone();
    let admin = server.token().to_owned();
    server.kill();
    let mut server = Server::start(&["serve"], &store);
    server.admin = Some(admin);
    assert_eq!(case(&server, id).await["photos"], before);
    let (status, bytes, content_type, _) = fetch(&server, &worker, &sha256(&shot), None).await;
    assert_eq!(
        (status, content_type.as_str(), bytes),
        (200, "image/jpeg", shot)
    );
    drop(server);
    store.finish().await;
}
