//! Area alerts (应急联动): the on-duty workers whose latest position lies inside an area (and inside the
//! caller's scope) are named in an `alert.raised` event, which the hub delivers to them at once, whatever
//! they subscribed to; a phone that was offline gets it on `resume`. The HTTP handler (`api/alerts.rs`)
//! parses the area; this service picks the workers and commits the event through `Core::write`.

use geo::{Contains, Point};
use serde_json::Value;

use crate::admin::workers::can_see;
use crate::core::Core;
use crate::domain::event::AlertRaised;
use crate::domain::incident::Actor;
use crate::domain::{DutyStatus, Principal, WorkerId};
use crate::geodesy::haversine_m;
use crate::store::StoreError;

/// Where an alert applies.
#[derive(Debug, Clone)]
pub enum Area {
    /// Degrees (EPSG:4326, lon/lat order).
    Shape(geo::MultiPolygon<f64>),
    /// A centre in degrees and a radius in meters (haversine).
    Circle { lat: f64, lon: f64, radius_m: f64 },
}

impl Area {
    fn contains(&self, lat: f64, lon: f64) -> bool {
        match self {
            Self::Shape(shape) => shape.contains(&Point::new(lon, lat)),
            Self::Circle {
                lat: c_lat,
                lon: c_lon,
                radius_m,
            } => haversine_m(*c_lat, *c_lon, lat, lon) <= *radius_m,
        }
    }
}

/// An alert to raise: its text, the area as the caller sent it (stored in the event) and as parsed.
#[derive(Debug, Clone)]
pub struct Alert {
    pub title: String,
    pub message: String,
    pub area_json: Value,
    pub area: Area,
}

/// Raises `alert` for the workers `principal` may see inside its area. Returns the event's sequence
/// number and the workers it names. Only the store can refuse it: an area naming no worker is still
/// an alert (recorded, delivered to no one).
pub async fn raise(
    core: &Core,
    principal: &Principal,
    alert: Alert,
) -> Result<(i64, Vec<WorkerId>), StoreError> {
    let principal = principal.clone();
    core.write(move |w| async move {
        let workers: Vec<WorkerId> = {
            let world = w.world();
            let visibility = world.visibility(&principal);
            world
                .workers()
                .filter(|wk| wk.duty == DutyStatus::OnDuty && can_see(&visibility, &principal, wk))
                .filter(|wk| {
                    world
                        .position(wk.id)
                        .is_some_and(|p| alert.area.contains(p.lat, p.lon))
                })
                .map(|wk| wk.id)
                .collect()
        };
        let raised = AlertRaised {
            title: alert.title,
            message: alert.message,
            area: alert.area_json,
            workers: workers.clone(),
            raised_by: Actor {
                worker: principal.worker,
                role: principal.role,
            },
        };
        let event = w.store().insert_alert(&raised).await?;
        let seq = event.seq;
        w.stored(event, |_| {});
        metrics::counter!("gridwatch_alerts_total").increment(1);
        Ok((seq, workers))
    })
    .await
}
