//! `gridwatch serve --tls-cert --tls-key` through the real binary, on both stores (issue 18): a
//! certificate made in the test (rcgen), `/health` over https with a client that trusts only it, a
//! client that does not trust it refused, plain HTTP on the TLS port unanswered, and a websocket over
//! `wss:`.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;

use crate::hardening::addr;
use crate::harness::{Flavor, Server, TestStore};

#[tokio::test]
async fn tls_on_sqlite() {
    tls(Flavor::Sqlite).await;
}

#[tokio::test]
async fn tls_on_postgis() {
    tls(Flavor::Postgres).await;
}

/// `gridwatch serve --tls-cert --tls-key` with a certificate made here: `/health` over https with a
/// client that trusts only that certificate, a websocket over `wss:`, and plain HTTP on the port gets
/// no answer.
async fn tls(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let mut server = Server::start(
        &[
            "serve",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        &store,
    );
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let port = addr(&server).rsplit(':').next().unwrap().to_owned();
    let base = format!("https://localhost:{port}");
    let trusted = reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap();
    let https = reqwest::Client::builder()
        .add_root_certificate(trusted)
        .resolve("localhost", format!("127.0.0.1:{port}").parse().unwrap())
        .build()
        .unwrap();
    let health: Value = https
        .get(format!("{base}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok", "{health}");

    // A client that does not trust the certificate refuses the server.
    let untrusting = reqwest::Client::builder()
        .resolve("localhost", format!("127.0.0.1:{port}").parse().unwrap())
        .build()
        .unwrap();
    assert!(
        untrusting
            .get(format!("{base}/health"))
            .send()
            .await
            .is_err()
    );

    // Plain HTTP on the TLS port: no HTTP answer.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/health"))
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");

    // A websocket over TLS: the token from the CLI, the TLS by hand (tokio-rustls), then the upgrade.
    let minted = store.cli(&["token", "create", "--role", "commander"]);
    assert!(minted.status.success(), "{minted:?}");
    let secret = String::from_utf8(minted.stdout).unwrap().trim().to_owned();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    // ring is the provider the server uses (see `transport/tls.rs` for its deprecation).
    #[allow(deprecated)]
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let stream = connector.connect(name, tcp).await.unwrap();
    let (mut socket, _) = tokio_tungstenite::client_async(
        format!("wss://localhost:{port}/ws?token={secret}"),
        stream,
    )
    .await
    .unwrap();
    socket
        .send(tokio_tungstenite::tungstenite::Message::text(
            json!({"type": "ping"}).to_string(),
        ))
        .await
        .unwrap();
    let pong = loop {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            break serde_json::from_str::<Value>(&text).unwrap();
        }
    };
    assert_eq!(pong["type"], "pong", "{pong}");
    server.kill();
    store.finish().await;
}
