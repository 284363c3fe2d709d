//! Evidence in the drawer (issue 22) through the real binary, on both stores. Photo thumbnails: `GET
//! /api/photos/{sha256}/thumbnail` answers a JPEG whose longest side is at most 320 pixels with the
//! photo's aspect, made once per photo (one row however often it is asked for, and however many cases
//! carry the photo), under the full photo's access rule; bad names and unknown photos are problems.
//! History: each line names who acted and the worker it went to, from structured data.

use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::{grid_place, report, token};
use crate::harness::{Flavor, Server, TestStore, assert_problem};
use crate::photos::{jpeg, sha256, upload};

#[tokio::test]
async fn thumbnails_on_sqlite() {
    thumbnails(Flavor::Sqlite).await;
}

#[tokio::test]
async fn thumbnails_on_postgis() {
    thumbnails(Flavor::Postgres).await;
}

/// A real `width` × `height` PNG with a gradient (so it is not trivially compressed away).
fn png(width: u32, height: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([
            u8::try_from(x % 256).unwrap(),
            u8::try_from(y % 256).unwrap(),
            120,
        ])
    });
    let mut out = Vec::new();
    picture
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// The thumbnail as `token` gets it: status, content type, bytes (or the problem as JSON).
async fn get(server: &Server, token: &str, sha: &str) -> (u16, String, Vec<u8>) {
    let response = server
        .http
        .get(server.url(&format!("/api/photos/{sha}/thumbnail")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

fn problem((status, _, body): (u16, String, Vec<u8>)) -> (u16, Value) {
    (status, serde_json::from_slice(&body).unwrap())
}

async fn thumbnails(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let here = grid_place(&server, 0, 0).await;
    let other = grid_place(&server, 1, 0).await;
    let worker = token(&server, "worker", Some(here.primary)).await;
    let stranger = token(&server, "worker", Some(other.primary)).await;
    let commander = token(&server, "commander", None).await;
    let first = report(&server, &commander, here.lat, here.lon, "city_appearance").await["id"]
        .as_i64()
        .unwrap();
    let second = report(&server, &commander, here.lat, here.lon, "hazard").await["id"]
        .as_i64()
        .unwrap();
    let rows = "SELECT COUNT(*) FROM photo_thumbnails";

    // A wide photo: the thumbnail is 320 wide and keeps 5:3.
    let photo = png(1000, 600);
    let sha = sha256(&photo);
    let (status, body) = upload(&server, &worker, first, &photo).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(store.count(rows).await, 0, "made when first asked for");
    let (status, content_type, thumb) = get(&server, &worker, &sha).await;
    assert_eq!((status, content_type.as_str()), (200, "image/jpeg"));
    let decoded = image::load_from_memory_with_format(&thumb, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (320, 192));
    assert_eq!(store.count(rows).await, 1);

    // Made once: asked again, and the same bytes on another case, it is the same thumbnail and row.
    let (status, _, again) = get(&server, &commander, &sha).await;
    assert_eq!((status, &again), (200, &thumb));
    let (status, body) = upload(&server, &worker, second, &photo).await;
    assert_eq!(status, 201, "{body}");
    let (status, _, again) = get(&server, &worker, &sha).await;
    assert_eq!((status, &again), (200, &thumb));
    assert_eq!(store.count(rows).await, 1, "one thumbnail per photo");

    // A tall one: 320 high, the aspect kept.
    let tall = png(150, 600);
    let (status, body) = upload(&server, &worker, first, &tall).await;
    assert_eq!(status, 201, "{body}");
    let (_, _, thumb) = get(&server, &worker, &sha256(&tall)).await;
    let decoded = image::load_from_memory_with_format(&thumb, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (80, 320));

    // The full photo's access rule: a worker of another grid is refused.
    assert_problem(
        &problem(get(&server, &stranger, &sha).await),
        403,
        "forbidden",
    );

    // A picture that cannot be decoded has none, tried once and remembered.
    let broken = jpeg(3000);
    let (status, body) = upload(&server, &worker, first, &broken).await;
    assert_eq!(status, 201, "{body}");
    let before = store.count(rows).await;
    for _ in 0..2 {
        let refused = problem(get(&server, &worker, &sha256(&broken)).await);
        assert_problem(&refused, 404, "no-thumbnail");
        assert_eq!(refused.1["code"], "no_thumbnail");
    }
    assert_eq!(store.count(rows).await, before + 1);

    // Bad names and unknown photos: problems, and nothing made.
    let before = store.count(rows).await;
    let unknown = sha256(b"never uploaded");
    let refused = problem(get(&server, &commander, &unknown).await);
    assert_problem(&refused, 404, "not-found");
    assert_eq!(refused.1["code"], "unknown_photo");
    for bad in ["abc", "ZZ", "../../etc/passwd", &unknown.to_uppercase()] {
        let refused = problem(get(&server, &commander, bad).await);
        assert!(refused.0 == 400 || refused.0 == 404, "{bad}: {refused:?}");
    }
    assert_problem(
        &problem(get(&server, &commander, &"0".repeat(63)).await),
        400,
        "invalid-path",
    );
    assert_eq!(
        store.count(rows).await,
        before,
        "nothing made for bad input"
    );
    store.finish().await;
}

#[tokio::test]
async fn history_names_on_sqlite() {
    history_names(Flavor::Sqlite).await;
}

#[tokio::test]
async fn history_names_on_postgis() {
    history_names(Flavor::Postgres).await;
}

/// The line of `history` for `action` (the last one).
fn line<'a>(history: &'a Value, action: &str) -> &'a Value {
    history
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["action"] == action)
        .unwrap_or_else(|| panic!("no {action} in {history}"))
}

async fn history_names(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let here = grid_place(&server, 0, 0).await;
    let other = grid_place(&server, 1, 0).await;
    let name = |body: &Value| body["properties"]["name"].as_str().unwrap().to_owned();
    let first = name(
        &server
            .get(&format!("/api/workers/{}", here.primary))
            .await
            .1,
    );
    let second = name(
        &server
            .get(&format!("/api/workers/{}", other.primary))
            .await
            .1,
    );
    let (status, minted) = server
        .send(
            Method::POST,
            "/api/tokens",
            &json!({"role": "commander", "label": "值班长 desk"}),
        )
        .await;
    assert_eq!(status, 201, "{minted}");
    let commander = minted["token"].as_str().unwrap().to_owned();
    let id = report(&server, &commander, here.lat, here.lon, "city_appearance").await["id"]
        .as_i64()
        .unwrap();
    let act = |body: Value, token: String| {
        let server = &server;
        async move {
            let (status, answer) = server
                .send_as(
                    &token,
                    Method::POST,
                    &format!("/api/incidents/{id}/actions"),
                    &body,
                )
                .await;
            assert_eq!(status, 200, "{answer}");
            answer
        }
    };
    act(
        json!({"action": "reassign", "to": other.primary}),
        commander.clone(),
    )
    .await;
    let worker = token(&server, "worker", Some(other.primary)).await;
    act(json!({"action": "accept"}), worker.clone()).await;
    let (status, case) = server.get(&format!("/api/incidents/{id}")).await;
    assert_eq!(status, 200, "{case}");
    let history = &case["properties"]["history"];

    // The routing decision and the automatic dispatch name the worker; the server acted.
    let dispatch = line(history, "dispatch");
    assert_eq!(dispatch["actor_kind"], "system");
    assert_eq!(dispatch["detail"]["to_name"], first.as_str());
    assert_eq!(
        line(history, "register")["detail"]["route"]["worker_name"],
        first.as_str()
    );
    // The reassignment: by the commander's token (its label), from one worker to the other.
    let reassign = line(history, "reassign");
    assert_eq!(reassign["actor_kind"], "token");
    assert_eq!(reassign["actor_name"], "值班长 desk");
    assert_eq!(reassign["detail"]["from_name"], first.as_str());
    assert_eq!(reassign["detail"]["to_name"], second.as_str());
    // The acceptance: by the worker, named.
    let accept = line(history, "accept");
    assert_eq!(accept["actor_kind"], "worker");
    assert_eq!(accept["actor_name"], second.as_str());
    store.finish().await;
}
