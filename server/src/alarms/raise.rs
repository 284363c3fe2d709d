//! Which events raise an alarm: [`raised`], a pure function of one event.
//!
//! It matches [`Change`] with no `_` arm, like every consumer of the event enum: a new kind of event
//! (the warning detector's `warning.raised` to come) does not compile until it is decided here.
//!
//! | event | raises |
//! |---|---|
//! | `incident.created` of priority `urgent` | `urgent` |
//! | `incident.updated`, a case whose newest history entry is `escalate` with `detail.automatic` (the scheduler, at a deadline) | `overdue` |
//! | `incident.updated`, a case whose newest history entry is `escalate` by a person | `escalated` |
//! | `alert.raised` (应急联动) | `area_alert` |
//! | anything else | nothing |
//!
//! Every case of an `incident.updated` gets a new history entry in that event (an action, an absorbed
//! merge, a boundary re-route), so the newest entry is what the event did to the case, never an
//! escalation from before. An alert's place is the centre of its area; its grid is left to the world
//! (`World::place_alarm`), which knows the grids.

use serde_json::Value;

use crate::domain::event::{AlertRaised, IncidentSummary};
use crate::domain::incident::Priority;
use crate::domain::{Alarm, AlarmId, AlarmKind, Change, Event};

/// The alarms `event` raises, in the order of the cases it names; most events raise none.
#[must_use]
pub fn raised(event: &Event) -> Vec<Alarm> {
    match &event.change {
        Change::IncidentCreated(summary) => {
            if summary.priority == Priority::Urgent {
                vec![case_alarm(event, summary, AlarmKind::Urgent)]
            } else {
                Vec::new()
            }
        }
        Change::IncidentUpdated(updated) => updated
            .incidents
            .iter()
            .filter_map(|summary| escalation(summary).map(|kind| case_alarm(event, summary, kind)))
            .collect(),
        Change::AlertRaised(alert) => alert_alarm(event, alert).into_iter().collect(),
        Change::WarningRaised(warning) => warning_alarm(event, warning).into_iter().collect(),
        // What the command centre is not alarmed by: reference data, people, the map's shape, case
        // photos, cameras, patrols, plans, and an acknowledgement itself.
        Change::CityImported(_)
        | Change::RegionCreated(_)
        | Change::BuildingCreated(_)
        | Change::WorkerCreated(_)
        | Change::WorkerUpdated(_)
        | Change::TokenCreated(_)
        | Change::TokenRevoked(_)
        | Change::UserCreated(_)
        | Change::UserUpdated(_)
        | Change::IncidentPhotoAdded(_)
        | Change::CategoryUpdated(_)
        | Change::DepartmentUpdated(_)
        | Change::CameraCreated(_)
        | Change::CameraUpdated(_)
        | Change::CameraDeleted(_)
        | Change::PatrolStarted(_)
        | Change::PatrolEnded(_)
        | Change::PatrolGridEntered(_)
        | Change::PatrolGridExited(_)
        | Change::PatrolCheckedIn(_)
        | Change::CheckpointCreated(_)
        | Change::PlanCreated(_)
        | Change::BoundaryChanged(_)
        | Change::AlarmAcknowledged(_)
        // A warning that clears raises nothing: its alarm stays until someone acknowledges it.
        | Change::WarningCleared(_) => Vec::new(),
    }
}

/// The kind of alarm a changed case raises: an escalation, automatic (overdue) or by a person.
fn escalation(summary: &IncidentSummary) -> Option<AlarmKind> {
    let last = summary.last.as_ref().filter(|l| l.action == "escalate")?;
    let automatic = last
        .detail
        .as_ref()
        .and_then(|d| d.get("automatic"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Some(if automatic {
        AlarmKind::Overdue
    } else {
        AlarmKind::Escalated
    })
}

fn case_alarm(event: &Event, summary: &IncidentSummary, kind: AlarmKind) -> Alarm {
    let id = summary.id;
    let title = match kind {
        AlarmKind::Urgent => format!("urgent case {id} ({})", summary.category),
        AlarmKind::Overdue => format!("case {id} overdue, escalated to {}", summary.level),
        AlarmKind::Escalated => format!("case {id} escalated to {}", summary.level),
        AlarmKind::AreaAlert | AlarmKind::Warning => format!("case {id}"),
    };
    Alarm {
        id: AlarmId {
            seq: event.seq,
            case: Some(id),
        },
        kind,
        at: event.at,
        seq: event.seq,
        case: Some(id),
        lat: summary.lat,
        lon: summary.lon,
        grid: Some(summary.grid),
        community: Some(summary.community),
        street: summary.street,
        district: summary.district,
        title,
    }
}

/// An area alert's alarm, at its area's centre; `None` for an area with no point (never stored: the
/// API checks every area before raising it).
fn alert_alarm(event: &Event, alert: &AlertRaised) -> Option<Alarm> {
    let (lat, lon) = centre(&alert.area)?;
    Some(Alarm {
        id: AlarmId {
            seq: event.seq,
            case: None,
        },
        kind: AlarmKind::AreaAlert,
        at: event.at,
        seq: event.seq,
        case: None,
        lat,
        lon,
        grid: None,
        community: None,
        street: None,
        district: None,
        title: alert.title.chars().take(200).collect(),
    })
}

/// An early warning's alarm, at the centre of its cells, in the grid there (the world places it); `None`
/// for a warning without a cell (the detector always names one).
fn warning_alarm(event: &Event, warning: &crate::domain::event::Warning) -> Option<Alarm> {
    let (lat, lon) = crate::api::warnings::centre(warning)?;
    Some(Alarm {
        id: AlarmId {
            seq: event.seq,
            case: None,
        },
        kind: AlarmKind::Warning,
        at: event.at,
        seq: event.seq,
        case: None,
        lat,
        lon,
        grid: None,
        community: None,
        street: None,
        district: None,
        title: format!(
            "{} {}: {} cases in {} min, {:.2} expected (p = {:.1e})",
            warning.kind.as_str(),
            warning.group,
            warning.observed,
            (warning.window_end - warning.window_start).num_minutes(),
            warning.expected,
            warning.p_value
        ),
    })
}

/// The centre of an alert's area as stored, `(lat, lon)` degrees (EPSG:4326): a circle's centre, or
/// the middle of a `GeoJSON` geometry's bounding box (lon/lat positions).
fn centre(area: &Value) -> Option<(f64, f64)> {
    if let Some(circle) = area.get("circle") {
        return circle
            .get("lat")
            .and_then(Value::as_f64)
            .zip(circle.get("lon").and_then(Value::as_f64));
    }
    let mut bbox: Option<[f64; 4]> = None;
    extend(area.get("coordinates")?, &mut bbox, 0);
    bbox.map(|b| (f64::midpoint(b[1], b[3]), f64::midpoint(b[0], b[2])))
}

/// Widens `bbox` (`[min_lon, min_lat, max_lon, max_lat]`) by every position in nested coordinates.
fn extend(coordinates: &Value, bbox: &mut Option<[f64; 4]>, depth: usize) {
    let Some(items) = coordinates.as_array() else {
        return;
    };
    // A MultiPolygon nests four deep; the API refuses anything deeper before it is stored.
    if depth > 4 {
        return;
    }
    if let [x, y, ..] = items.as_slice()
        && let (Some(lon), Some(lat)) = (x.as_f64(), y.as_f64())
    {
        let b = bbox.get_or_insert([lon, lat, lon, lat]);
        *b = [b[0].min(lon), b[1].min(lat), b[2].max(lon), b[3].max(lat)];
        return;
    }
    for item in items {
        extend(item, bbox, depth + 1);
    }
}

#[cfg(test)]
mod tests;
