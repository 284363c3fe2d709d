//! `GET /api/reports/series`: the dashboard's figures per local day — cases registered per category,
//! cases closed, and each day's closure and on-time rates — for the area in view.
//!
//! Every rate is `dispatch::kpi`'s, over the one day, evaluated as of the day's end (or as of now for
//! today, so a deadline later today is not yet due): `null` when nothing was due that day, never 0.
//! Nothing is written.
//!
//! # The days
//! `from` and `to` are local dates (`YYYY-MM-DD`, the deployment calendar's `tz_offset_minutes`), `from`
//! inclusive, `to` exclusive, `from < to`, at most 92 days. A day after today reads all zeros.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::{Area, cases_in, local_date};
use crate::api::AppQuery;
use crate::auth::Auth;
use crate::dispatch::kpi::{self, Level};
use crate::domain::{Permission, RegionId};
use crate::error::ApiError;
use crate::state::AppState;

/// The most days one request may cover (a quarter).
const MAX_DAYS: i64 = 92;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// First day (inclusive), `YYYY-MM-DD` local.
    from: String,
    /// Last day (exclusive), `YYYY-MM-DD` local.
    to: String,
    /// `minLon,minLat,maxLon,maxLat`, degrees: only cases inside.
    bbox: Option<String>,
    /// A community, street or district: only cases in a grid under it.
    #[param(value_type = Option<i64>)]
    community: Option<RegionId>,
}

/// One figure per local day.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Series {
    from: String,
    to: String,
    tz_offset_minutes: i32,
    /// Every category registered on some day, sorted.
    categories: Vec<String>,
    days: Vec<Day>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Day {
    /// `YYYY-MM-DD`, local.
    date: String,
    /// Cases registered that day.
    registered: u64,
    /// Of them, per category code.
    by_category: BTreeMap<String, u64>,
    /// Cases whose closing verify fell that day and that were still closed at its end.
    closed: u64,
    /// Cases due that day (`dispatch::kpi`'s `due`), and the deferred ones among them.
    due: u64,
    deferred: u64,
    /// 结案率 of the cases due that day; `null` when nothing was due.
    closure_rate: Option<f64>,
    /// 按期结案率 of the cases due that day; `null` when nothing was due.
    on_time_rate: Option<f64>,
}

#[utoipa::path(get, path = "/api/reports/series", tag = "reports", params(SeriesQuery),
    responses(
        (status = 200, description = "per local day: cases registered (in all and per category), closed, due and deferred, and the closure and on-time rates (`null` when nothing was due)", body = Series),
        (status = 400, description = "malformed query or bbox"), (status = 403),
        (status = 404, description = "no such region"),
        (status = 422, description = "an unreadable date, from not before to, or more than 92 days")),
    security(("bearer" = [])))]
pub async fn series(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<SeriesQuery>,
) -> Result<Json<Series>, ApiError> {
    auth.require(Permission::ReadKpi)?;
    let tz = state.dispatch().calendar.tz_offset_minutes;
    let (first, from) = local_date("from", &query.from, tz)?;
    let (_, to) = local_date("to", &query.to, tz)?;
    if from >= to {
        return Err(ApiError::invalid(format!(
            "from ({}) must be before to ({})",
            query.from, query.to
        ))
        .with("field", "from"));
    }
    let span = (to - from).num_days();
    if span > MAX_DAYS {
        return Err(
            ApiError::invalid(format!("a series covers at most {MAX_DAYS} days"))
                .with("field", "to"),
        );
    }
    let area = Area::parse(&state.world(), query.bbox.as_deref(), query.community)?;
    let now = state.now();
    let cases = cases_in(&state, &auth, area, from, to.min(now)).await?;
    let mut categories = std::collections::BTreeSet::new();
    let days = (0..span)
        .map(|n| {
            let start = from + TimeDelta::days(n);
            // Today is evaluated as of now: what the day will bring is not known yet.
            let end = (start + TimeDelta::days(1)).min(now);
            let in_day = |at: DateTime<Utc>| start <= at && at < end;
            let mut by_category = BTreeMap::new();
            let mut closed = 0;
            for case in &cases {
                if in_day(case.created_at) {
                    *by_category.entry(case.category.clone()).or_insert(0) += 1;
                    categories.insert(case.category.clone());
                }
                if kpi::snapshot(case, end).closed_at.is_some_and(in_day) {
                    closed += 1;
                }
            }
            let figures = kpi::kpi(&cases, Level::Grid, start, end).total;
            Day {
                date: (first + TimeDelta::days(n)).format("%Y-%m-%d").to_string(),
                registered: by_category.values().sum(),
                by_category,
                closed,
                due: figures.due,
                deferred: figures.deferred,
                closure_rate: figures.closure_rate(),
                on_time_rate: figures.on_time_rate(),
            }
        })
        .collect();
    Ok(Json(Series {
        from: query.from,
        to: query.to,
        tz_offset_minutes: tz,
        categories: categories.into_iter().collect(),
        days,
    }))
}
