//! `GET|POST /osmand`: the OsmAnd / Traccar Client position protocol, so off-the-shelf tracker apps work.
//!
//! Two shapes arrive here:
//! - **query or form** (OsmAnd, older Traccar Client): `id` or `deviceid`; `lat` and `lon`, or
//!   `location=lat,lon`; `timestamp` as epoch seconds, epoch milliseconds, ISO 8601 or
//!   `yyyy-MM-dd HH:mm:ss` (UTC); `speed` in knots; `bearing` or `heading`; `altitude`; `accuracy`;
//!   `batt` (percent). Every other key is kept as an attribute.
//! - **JSON** (Traccar Client 9+): `{"device_id", "location": {"timestamp", "coords": {"latitude",
//!   "longitude", "accuracy", "speed" (m/s), "heading", "altitude"}, "is_moving", "battery": {"level"
//!   (0–1), "is_charging"}, …}}`.
//!
//! The device id names the worker. These apps cannot send a bearer token, so the device id is the only
//! credential: the server makes it (128 random bits, `domain::worker::DeviceId`) when a tracker is bound
//! to a worker (`device: true` on `POST /api/workers` or `PATCH /api/workers/{id}`), shows it once and
//! keeps only its SHA-256. A success is an empty 200, which is all these clients look at; a refusal is a
//! problem+json with the reason, decided before the id is looked up, and an unknown id gets the same
//! empty 200 as a known one (nothing is stored), so the answers cannot be used to probe for ids.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::{Map, Value, json};

use crate::audit;
use crate::domain::Fix;
use crate::error::ApiError;
use crate::state::AppState;
use crate::tracking::{Judge, PositionError, RefusedFix};

/// One knot in m/s.
const KNOT_MPS: f64 = 1852.0 / 3600.0;
/// Epoch values at or above this are milliseconds (1e11 s is the year 5138).
const MILLIS_FROM: f64 = 1e11;

#[utoipa::path(get, path = "/osmand", tag = "live",
    params(("id" = String, Query, description = "device id (or `deviceid`)"), ("lat" = f64, Query), ("lon" = f64, Query),
        ("timestamp" = Option<String>, Query, description = "epoch s or ms, ISO 8601, or yyyy-MM-dd HH:mm:ss (UTC)"),
        ("speed" = Option<f64>, Query, description = "knots")),
    responses((status = 200, description = "stored (or, for an unknown device id, nothing stored: the same answer)"), (status = 400),
        (status = 422),
        (status = 429, description = "this address sent too many reports (`--rate-positions`)", headers(("Retry-After" = u64, description = "seconds until the next request is taken"))),
        (status = 503, description = "not stored; send again")))]
pub async fn get(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<StatusCode, ApiError> {
    let fields = form_fields(query.as_deref().unwrap_or_default().as_bytes());
    accept(&state, from_fields(fields, state.now())?).await
}

#[utoipa::path(post, path = "/osmand", tag = "live",
    request_body(content((Object = "application/x-www-form-urlencoded"), (Object = "application/json")),
        description = "form fields as for GET (they may also be in the query), or Traccar Client's JSON"),
    responses((status = 200, description = "stored (or, for an unknown device id, nothing stored: the same answer)"), (status = 400),
        (status = 413), (status = 415, description = "neither form fields nor JSON"), (status = 422),
        (status = 429, description = "this address sent too many reports (`--rate-positions`)", headers(("Retry-After" = u64, description = "seconds until the next request is taken"))),
        (status = 503, description = "not stored; send again")))]
pub async fn post(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let body = body?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let now = state.now();
    let (device, fix) = if content_type.starts_with("application/json") {
        let value: Value = serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed-json",
                format!("invalid JSON: {e}"),
            )
        })?;
        from_json(&value, now)?
    } else if body.is_empty() || content_type.starts_with("application/x-www-form-urlencoded") {
        let mut fields = form_fields(query.as_deref().unwrap_or_default().as_bytes());
        fields.extend(form_fields(&body));
        from_fields(fields, now)?
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send form fields (application/x-www-form-urlencoded) or Traccar Client's JSON",
        ));
    };
    accept(&state, (device, fix)).await
}

/// A fix still without its worker: the device id names them.
type Unresolved = (String, Fix);

/// Stores the fix of a known device. The fix is checked before the device is looked up, and an unknown
/// device id is answered exactly as a known one is (an empty 200; nothing stored), so no answer tells
/// a guessed id from a bound one.
async fn accept(state: &AppState, (device, mut fix): Unresolved) -> Result<StatusCode, ApiError> {
    if let Err(bad) = fix.check(state.now()) {
        let refused = RefusedFix {
            index: 0,
            reason: bad.into(),
        };
        return Err(PositionError::Refused {
            count: 1,
            fixes: vec![refused],
        }
        .into());
    }
    let worker = state
        .world()
        .worker_by_device(&device)
        .map(|w| (w.id, w.name.clone()));
    let Some((worker, name)) = worker else {
        // Recorded as a refusal, beside the answer: the answer itself is a known id's.
        audit::record_beside(
            state.store(),
            audit::Entry::new(
                audit::current().as_ref(),
                "device.unknown",
                None,
                audit::Outcome::Denied,
                None,
            ),
        );
        return Ok(StatusCode::OK);
    };
    audit::identify(audit::Actor {
        kind: audit::ActorKind::Device,
        id: Some(worker.0),
        name: Some(name),
        role: Some(crate::domain::Role::Device),
    });
    fix.worker = worker;
    state.positions().report(vec![fix], Judge::Jumps).await?;
    Ok(StatusCode::OK)
}

fn form_fields(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn bad(detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid-position", detail)
}

fn number(key: &str, text: &str) -> Result<f64, ApiError> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| bad(format!("{key}={text:?} is not a number")))?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(bad(format!("{key}={text:?} is not a finite number")))
    }
}

/// The query / form shape.
fn from_fields(fields: Vec<(String, String)>, now: DateTime<Utc>) -> Result<Unresolved, ApiError> {
    let mut device = None;
    let (mut lat, mut lon) = (None, None);
    let mut fix = Fix::at(crate::domain::WorkerId(0), 0.0, 0.0, now);
    let mut seen = std::collections::HashSet::new();
    for (key, value) in fields {
        if !seen.insert(key.clone()) {
            return Err(bad(format!("{key} is given twice")));
        }
        match key.as_str() {
            "id" | "deviceid" => device = Some(value),
            "lat" => lat = Some(number("lat", &value)?),
            "lon" => lon = Some(number("lon", &value)?),
            "location" => {
                let (a, b) = value
                    .split_once(',')
                    .ok_or_else(|| bad("location must be lat,lon"))?;
                lat = Some(number("location", a)?);
                lon = Some(number("location", b)?);
            }
            "timestamp" => fix.at = timestamp(&value)?,
            "speed" => fix.speed_mps = Some(number("speed", &value)? * KNOT_MPS),
            "bearing" | "heading" => fix.heading_deg = Some(number(&key, &value)?),
            "altitude" => fix.altitude_m = Some(number("altitude", &value)?),
            "accuracy" => fix.accuracy_m = Some(number("accuracy", &value)?),
            "batt" => fix.battery_pct = Some(number("batt", &value)?),
            _ => {
                fix.attributes.insert(key, Value::String(value));
            }
        }
    }
    let device = device
        .filter(|d| !d.trim().is_empty())
        .ok_or_else(|| bad("id (or deviceid) is required"))?;
    fix.lat = lat.ok_or_else(|| bad("lat (or location) is required"))?;
    fix.lon = lon.ok_or_else(|| bad("lon (or location) is required"))?;
    Ok((device, fix))
}

/// Epoch seconds or milliseconds, ISO 8601 / RFC 3339, or `yyyy-MM-dd HH:mm:ss` in UTC.
fn timestamp(text: &str) -> Result<DateTime<Utc>, ApiError> {
    let text = text.trim();
    if let Ok(epoch) = text.parse::<f64>() {
        if !epoch.is_finite() || epoch < 0.0 {
            return Err(bad(format!("timestamp {text:?} is not a time")));
        }
        let millis = if epoch >= MILLIS_FROM {
            epoch
        } else {
            epoch * 1000.0
        };
        #[allow(clippy::cast_possible_truncation)]
        // checked finite and non-negative; chrono bounds it below
        let millis = millis.round() as i64;
        return Utc
            .timestamp_millis_opt(millis)
            .single()
            .ok_or_else(|| bad(format!("timestamp {text:?} is out of range")));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.to_utc());
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(t.and_utc());
        }
    }
    Err(bad(format!(
        "timestamp {text:?} is not epoch seconds or milliseconds, ISO 8601, or yyyy-MM-dd HH:mm:ss"
    )))
}

/// Traccar Client's JSON shape.
fn from_json(value: &Value, now: DateTime<Utc>) -> Result<Unresolved, ApiError> {
    let device = match &value["device_id"] {
        Value::String(s) if !s.trim().is_empty() => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(bad("device_id is required")),
    };
    let location = value
        .get("location")
        .filter(|l| l.is_object())
        .ok_or_else(|| bad("location is required"))?;
    let coords = location
        .get("coords")
        .filter(|c| c.is_object())
        .ok_or_else(|| bad("location.coords is required"))?;
    let required = |key: &str| {
        coords[key]
            .as_f64()
            .ok_or_else(|| bad(format!("location.coords.{key} must be a number")))
    };
    // Transistorsoft's plugin reports -1 for an unknown speed, heading or accuracy.
    let optional = |key: &str| -> Result<Option<f64>, ApiError> {
        match &coords[key] {
            Value::Null => Ok(None),
            v => v
                .as_f64()
                .map(|x| (x >= 0.0).then_some(x))
                .ok_or_else(|| bad(format!("location.coords.{key} must be a number"))),
        }
    };
    let at = match &location["timestamp"] {
        Value::Null => now,
        Value::String(s) => timestamp(s)?,
        Value::Number(n) => timestamp(&n.to_string())?,
        _ => return Err(bad("location.timestamp must be a time")),
    };
    let mut fix = Fix::at(
        crate::domain::WorkerId(0),
        required("latitude")?,
        required("longitude")?,
        at,
    );
    fix.accuracy_m = optional("accuracy")?;
    fix.speed_mps = optional("speed")?;
    fix.heading_deg = optional("heading")?;
    fix.altitude_m = match &coords["altitude"] {
        Value::Null => None,
        v => Some(
            v.as_f64()
                .ok_or_else(|| bad("location.coords.altitude must be a number"))?,
        ),
    };
    fix.moving = location["is_moving"].as_bool();
    if let Some(level) = location["battery"]["level"].as_f64().filter(|l| *l >= 0.0) {
        fix.battery_pct = Some(level * 100.0);
    }
    let mut attributes = Map::new();
    for key in ["event", "odometer", "activity", "uuid"] {
        if let Some(v) = location.get(key) {
            attributes.insert(key.to_owned(), v.clone());
        }
    }
    if let Some(charging) = location["battery"].get("is_charging") {
        attributes.insert("charging".to_owned(), json!(charging));
    }
    fix.attributes = attributes;
    Ok((device, fix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-29T08:00:00Z")
            .expect("a time")
            .to_utc()
    }

    fn fields(query: &str) -> Vec<(String, String)> {
        form_fields(query.as_bytes())
    }

    #[test]
    fn osmand_timestamps_in_every_form_mean_the_same_instant() {
        let expected = DateTime::parse_from_rfc3339("2026-11-29T07:59:30Z")
            .expect("a time")
            .to_utc();
        for text in [
            "1795939170",
            "1795939170000",
            "2026-11-29T07:59:30Z",
            "2026-11-29T15:59:30+08:00",
            "2026-11-29 07:59:30",
        ] {
            assert_eq!(timestamp(text).expect(text), expected, "{text}");
        }
        for text in ["yesterday", "NaN", "-5", "2026-13-01 00:00:00", ""] {
            assert!(timestamp(text).is_err(), "{text}");
        }
    }

    #[test]
    fn osmand_query_fields_map_to_a_fix_with_speed_in_knots() {
        let (device, fix) = from_fields(
            fields("id=tracker-7&lat=36.19&lon=113.11&timestamp=1795939170&speed=10&bearing=90&altitude=900&accuracy=5&batt=80&hdop=0.9"),
            now(),
        )
        .expect("a fix");
        assert_eq!(device, "tracker-7");
        assert_eq!((fix.lat, fix.lon), (36.19, 113.11));
        // 10 knots = 18.52 km/h = 5.1444 m/s.
        assert!((fix.speed_mps.expect("speed") - 5.144_444).abs() < 1e-6);
        assert_eq!(
            (
                fix.heading_deg,
                fix.altitude_m,
                fix.accuracy_m,
                fix.battery_pct
            ),
            (Some(90.0), Some(900.0), Some(5.0), Some(80.0))
        );
        assert_eq!(fix.attributes["hdop"], "0.9", "extra keys are kept");
        let (_, fix) =
            from_fields(fields("deviceid=x&location=36.2%2C113.1"), now()).expect("location form");
        assert_eq!((fix.lat, fix.lon, fix.at), (36.2, 113.1, now()));
        for bad_query in [
            "lat=1&lon=2",
            "id=x&lon=2",
            "id=x&lat=abc&lon=2",
            "id=x&lat=1&lon=2&lat=3",
            "id=x&location=1",
            "id=x&lat=1&lon=2&speed=fast",
        ] {
            assert!(
                from_fields(fields(bad_query), now()).is_err(),
                "{bad_query}"
            );
        }
    }

    #[test]
    fn traccar_client_json_maps_to_a_fix() {
        let body = json!({"device_id": "phone-1", "location": {"timestamp": "2026-11-29T07:59:30.000Z",
            "coords": {"latitude": 36.19, "longitude": 113.11, "accuracy": 4.5, "speed": 1.4, "heading": -1, "altitude": 880},
            "is_moving": true, "odometer": 12.5, "event": "motionchange", "battery": {"level": 0.83, "is_charging": false}}});
        let (device, fix) = from_json(&body, now()).expect("a fix");
        assert_eq!(device, "phone-1");
        assert_eq!(
            (fix.lat, fix.lon, fix.accuracy_m, fix.speed_mps),
            (36.19, 113.11, Some(4.5), Some(1.4))
        );
        assert_eq!(fix.heading_deg, None, "-1 means unknown");
        assert_eq!(fix.moving, Some(true));
        assert!((fix.battery_pct.expect("battery") - 83.0).abs() < 1e-9);
        assert_eq!(fix.attributes["event"], "motionchange");
        for broken in [
            json!({"location": {"coords": {"latitude": 1, "longitude": 2}}}),
            json!({"device_id": "x", "location": {"coords": {"latitude": "1", "longitude": 2}}}),
            json!({"device_id": "x"}),
            json!({"device_id": "x", "location": {"timestamp": true, "coords": {"latitude": 1, "longitude": 2}}}),
        ] {
            assert!(from_json(&broken, now()).is_err(), "{broken}");
        }
    }
}
