use axum::http::{HeaderMap, HeaderValue, StatusCode};

use super::{MAX_KEY_CHARS, kept, parse_key, request_hash};

fn headers(values: &[&[u8]]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for value in values {
        headers.append(super::KEY_HEADER, HeaderValue::from_bytes(value).unwrap());
    }
    headers
}

fn refused(values: &[&[u8]]) -> String {
    let error = parse_key(&headers(values)).unwrap_err();
    assert_eq!(error.status, StatusCode::BAD_REQUEST);
    assert_eq!(error.slug, "invalid-idempotency-key");
    error.detail
}

#[test]
fn a_key_is_bare_or_a_quoted_string_naming_the_same_key() {
    let uuid = "8e03978e-40d5-43e8-bc93-6894a57f9324";
    assert_eq!(parse_key(&headers(&[uuid.as_bytes()])).unwrap(), uuid);
    let quoted = format!("\"{uuid}\"");
    assert_eq!(parse_key(&headers(&[quoted.as_bytes()])).unwrap(), uuid);
    let longest = "k".repeat(MAX_KEY_CHARS);
    assert_eq!(parse_key(&headers(&[longest.as_bytes()])).unwrap(), longest);
}

#[test]
fn malformed_keys_are_refused() {
    assert!(refused(&["k".repeat(MAX_KEY_CHARS + 1).as_bytes()]).contains("longer than 255"));
    assert!(refused(&[b""]).contains("empty"));
    assert!(refused(&[b"\"\""]).contains("empty"));
    assert!(refused(&[b"a\tb"]).contains("control"));
    assert!(refused(&[b"caf\xc3\xa9"]).contains("ASCII"));
    assert!(refused(&[b"a\"b"]).contains("quotes"));
    assert!(refused(&[b"a b"]).contains("spaces"));
    assert!(refused(&[b"a", b"b"]).contains("once"));
}

#[test]
fn the_request_hash_covers_method_path_and_body() {
    let one = request_hash("POST", "/api/incidents", b"{}");
    assert_eq!(one.len(), 64);
    assert_eq!(one, request_hash("POST", "/api/incidents", b"{}"));
    assert_ne!(one, request_hash("PUT", "/api/incidents", b"{}"));
    assert_ne!(one, request_hash("POST", "/api/positions", b"{}"));
    assert_ne!(one, request_hash("POST", "/api/incidents", b"{ }"));
}

#[test]
fn only_answers_that_end_a_request_are_kept() {
    for status in [200, 201, 400, 403, 404, 409, 413, 422] {
        assert!(kept(StatusCode::from_u16(status).unwrap()), "{status}");
    }
    for status in [408, 429, 500, 503] {
        assert!(!kept(StatusCode::from_u16(status).unwrap()), "{status}");
    }
}
