//! `GET /api/reports/daily`: the daily report (日报) of an area for one local day — totals, the cases
//! registered that day and the cases still overdue at its end — as JSON or CSV.
//!
//! Everything is read from the cases' append-only history as of the day's end (as of now for today),
//! with `dispatch::kpi::snapshot`, so yesterday's report does not change when the cases move on.
//! Nothing is written.
//!
//! # Definitions (as of the day's end, `as_of`)
//! - `registered` — cases created that day; `by_category` and `by_source` split them.
//! - `closed` — cases whose closing verify fell that day and that were still closed at `as_of`.
//! - `open` — cases whose status was open (registered … resolved) at `as_of`, whenever registered.
//! - `overdue` — open cases past their deadline in force at `as_of`.
//!
//! # CSV
//! With `Accept: text/csv` or `format=csv`: one line per listed case (`list` is `registered` or
//! `overdue`; a case in both is listed twice), times in local time (`YYYY-MM-DD HH:MM`). The body starts
//! with a UTF-8 byte-order mark: Excel, the program this file is opened with in a street office, reads a
//! CSV without one in the system's ANSI code page (GBK on a Chinese Windows) and shows the Chinese names
//! as mojibake; with the mark it reads UTF-8. Other readers (Calc, Python's `utf-8-sig`) skip it.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::{Area, cases_in, inert, line, local_date, local_date_of, negotiated, wants_csv};
use crate::api::AppQuery;
use crate::auth::Auth;
use crate::dispatch::kpi::{self, Snapshot};
use crate::domain::{Case, Permission, RegionId};
use crate::error::ApiError;
use crate::state::AppState;
use crate::world::World;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DailyQuery {
    /// The local day, `YYYY-MM-DD`; today when absent. Not after today.
    date: Option<String>,
    /// `minLon,minLat,maxLon,maxLat`, degrees: only cases inside.
    bbox: Option<String>,
    /// A community, street or district: only cases in a grid under it.
    #[param(value_type = Option<i64>)]
    community: Option<RegionId>,
    /// `csv` for the CSV table (as `Accept: text/csv`), `json` (the default).
    format: Option<String>,
}

/// The daily report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DailyReport {
    /// `YYYY-MM-DD`, local.
    date: String,
    tz_offset_minutes: i32,
    /// The day's start, UTC.
    #[schema(value_type = String, format = DateTime)]
    from: DateTime<Utc>,
    /// The instant it is read as of: the day's end, or now for today.
    #[schema(value_type = String, format = DateTime)]
    as_of: DateTime<Utc>,
    totals: Totals,
    /// The cases registered that day, by id.
    registered: Vec<Line>,
    /// The cases open past their deadline at `as_of`, by id.
    overdue: Vec<Line>,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Totals {
    registered: u64,
    closed: u64,
    open: u64,
    overdue: u64,
    /// Registered that day, per category code.
    by_category: BTreeMap<String, u64>,
    /// Registered that day, per source.
    by_source: BTreeMap<String, u64>,
}

/// One listed case, as it stood at `as_of`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Line {
    id: i64,
    category: String,
    source: String,
    grid_id: i64,
    grid_code: Option<String>,
    grid_name: Option<String>,
    community_id: i64,
    community_name: Option<String>,
    /// The status at `as_of`.
    status: String,
    #[schema(value_type = String, format = DateTime)]
    created_at: DateTime<Utc>,
    /// The deadline in force at `as_of`.
    #[schema(value_type = Option<String>, format = DateTime)]
    deadline: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    closed_at: Option<DateTime<Utc>>,
}

#[utoipa::path(get, path = "/api/reports/daily", tag = "reports", params(DailyQuery),
    responses(
        (status = 200, description = "the day's totals (registered, closed, open, overdue, by category and source), the cases registered that day and those overdue at its end; CSV (with a UTF-8 byte-order mark) when `Accept: text/csv` or `format=csv`",
            content((DailyReport = "application/json"), (String = "text/csv"))),
        (status = 400, description = "malformed query or bbox"), (status = 403),
        (status = 404, description = "no such region"),
        (status = 422, description = "an unreadable or future date, or an unknown format")),
    security(("bearer" = [])))]
pub async fn daily(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    AppQuery(query): AppQuery<DailyQuery>,
) -> Result<Response, ApiError> {
    auth.require(Permission::ReadKpi)?;
    let csv = match query.format.as_deref() {
        None => wants_csv(&headers),
        Some("csv") => true,
        Some("json") => false,
        Some(other) => {
            return Err(
                ApiError::invalid(format!("format must be csv or json, not {other:?}"))
                    .with("field", "format"),
            );
        }
    };
    let tz = state.dispatch().calendar.tz_offset_minutes;
    let now = state.now();
    let today = local_date_of(now, tz).format("%Y-%m-%d").to_string();
    let date = query.date.unwrap_or(today);
    let (_, from) = local_date("date", &date, tz)?;
    if from > now {
        return Err(ApiError::invalid(format!("{date} has not begun yet")).with("field", "date"));
    }
    let as_of = (from + TimeDelta::days(1)).min(now);
    let area = Area::parse(&state.world(), query.bbox.as_deref(), query.community)?;
    let cases = cases_in(&state, &auth, area, from, as_of).await?;
    let world = state.world();
    let mut report = DailyReport {
        date,
        tz_offset_minutes: tz,
        from,
        as_of,
        totals: Totals::default(),
        registered: Vec::new(),
        overdue: Vec::new(),
    };
    let in_day = |at: DateTime<Utc>| from <= at && at < as_of;
    for case in &cases {
        let seen = kpi::snapshot(case, as_of);
        let t = &mut report.totals;
        if in_day(case.created_at) {
            t.registered += 1;
            *t.by_category.entry(case.category.clone()).or_insert(0) += 1;
            *t.by_source
                .entry(case.source.as_str().to_owned())
                .or_insert(0) += 1;
            report.registered.push(line_of(&world, case, &seen));
        }
        if seen.closed_at.is_some_and(in_day) {
            t.closed += 1;
        }
        if seen
            .status
            .is_some_and(crate::domain::incident::Status::is_open)
        {
            t.open += 1;
        }
        if seen.overdue(as_of) {
            t.overdue += 1;
            report.overdue.push(line_of(&world, case, &seen));
        }
    }
    drop(world);
    Ok(negotiated(csv, &report, |r| to_csv(r, tz)))
}

fn line_of(world: &World, case: &Case, seen: &Snapshot) -> Line {
    let grid = world.grid(case.place.grid);
    Line {
        id: case.id().0,
        category: case.category.clone(),
        source: case.source.as_str().to_owned(),
        grid_id: case.place.grid.0,
        grid_code: grid.map(|g| g.code.clone()),
        grid_name: grid.map(|g| g.name.clone()),
        community_id: case.place.community.0,
        community_name: world.region(case.place.community).map(|r| r.name.clone()),
        status: seen
            .status
            .map_or_else(String::new, |s| s.as_str().to_owned()),
        created_at: case.created_at,
        deadline: seen.deadline,
        closed_at: seen.closed_at,
    }
}

const CSV_HEADER: [&str; 12] = [
    "list",
    "id",
    "category",
    "source",
    "grid_code",
    "grid_name",
    "community",
    "status",
    "created_at",
    "deadline",
    "closed_at",
    "overdue",
];

fn to_csv(report: &DailyReport, tz_offset_minutes: i32) -> String {
    let local = |at: Option<DateTime<Utc>>| {
        at.map(|at| {
            (at + TimeDelta::minutes(i64::from(tz_offset_minutes)))
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
    };
    let overdue: std::collections::HashSet<i64> = report.overdue.iter().map(|l| l.id).collect();
    let mut out = String::from('\u{feff}');
    line(&mut out, CSV_HEADER.iter().map(|h| (*h).to_owned()));
    for (list, lines) in [
        ("registered", &report.registered),
        ("overdue", &report.overdue),
    ] {
        for l in lines {
            line(
                &mut out,
                [
                    list.to_owned(),
                    l.id.to_string(),
                    l.category.clone(),
                    l.source.clone(),
                    inert(l.grid_code.clone().unwrap_or_default()),
                    inert(l.grid_name.clone().unwrap_or_default()),
                    inert(l.community_name.clone().unwrap_or_default()),
                    l.status.clone(),
                    local(Some(l.created_at)),
                    local(l.deadline),
                    local(l.closed_at),
                    overdue.contains(&l.id).to_string(),
                ]
                .into_iter(),
            );
        }
    }
    out
}
