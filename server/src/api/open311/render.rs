//! Open311's JSON shapes for services and service requests: exactly the spec's field names, with
//! `null` where gridwatch has no value (the schemas allow it), and nothing else.

use chrono::{DateTime, FixedOffset, Offset, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::domain::incident::Status;
use crate::domain::{Case, Category};
use crate::state::AppState;
use crate::world::World;

/// The deployment's UTC offset (its working calendar's), in which times are written.
pub fn offset(state: &AppState) -> FixedOffset {
    // The calendar is validated to ±14 h, so this is always in range; UTC is only a fallback.
    FixedOffset::east_opt(state.dispatch().calendar.tz_offset_minutes * 60)
        .unwrap_or_else(|| Utc.fix())
}

/// ISO 8601 with the offset, to the second: `2026-01-31T08:00:00+08:00`.
pub fn time(at: DateTime<Utc>, offset: FixedOffset) -> String {
    at.with_timezone(&offset)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// A category as an Open311 service.
pub fn service(world: &World, category: &Category) -> Value {
    let handler = match category
        .department
        .as_deref()
        .and_then(|code| world.department(code))
    {
        Some(department) => department.name.clone(),
        None => "the grid's worker".to_owned(),
    };
    let description = format!(
        "{}: handled by {handler}, within {} working hours at normal priority",
        category.name, category.limits.normal_h
    );
    json!({
        "service_code": category.code,
        "service_name": category.name,
        "description": description,
        "metadata": false,
        "type": "realtime",
        "keywords": null,
        "group": category.class.as_str(),
    })
}

/// A case as an Open311 service request. Only what a resident may see: no worker, no note, no route.
pub fn request(world: &World, case: &Case, offset: FixedOffset) -> Value {
    let category = world.category(&case.category);
    let status = if case.state.status.is_open() {
        "open"
    } else {
        "closed"
    };
    let description = (!case.description.is_empty()).then_some(&case.description);
    json!({
        "service_request_id": case.id().to_string(),
        "status": status,
        "status_notes": status_notes(case.state.status),
        "service_name": category.map(|c| &c.name),
        "service_code": case.category,
        "description": description,
        "agency_responsible": agency(world, case),
        "service_notice": null,
        "requested_datetime": time(case.created_at, offset),
        "updated_datetime": time(case.updated_at, offset),
        "expected_datetime": case.state.deadline.map(|d| time(d, offset)),
        "address": null,
        "address_id": null,
        "zipcode": null,
        "lat": case.place.lat,
        "long": case.place.lon,
        "media_url": null,
    })
}

/// The stage in plain words.
fn status_notes(status: Status) -> &'static str {
    match status {
        Status::Registered => "registered; waiting to be dispatched",
        Status::Dispatched => "dispatched to a worker",
        Status::Accepted => "accepted by a worker",
        Status::InProgress => "being dealt with",
        Status::Resolved => "reported done; waiting for verification",
        Status::Closed => "verified and closed",
        Status::Deferred => "deferred",
        Status::Cancelled => "cancelled",
        Status::Merged => "merged into another request about the same problem",
    }
}

/// The department that owns the category, else the community the place lies in (属地).
fn agency(world: &World, case: &Case) -> Option<String> {
    let department = world
        .category(&case.category)
        .and_then(|c| c.department.as_deref())
        .and_then(|code| world.department(code))
        .map(|d| d.name.clone());
    department.or_else(|| world.region(case.place.community).map(|r| r.name.clone()))
}
