//! `GET /api/reports/kpi`: the evaluation figures (综合评价) of a period — the monthly bulletin (月报告) —
//! per grid, community, street or worker, as JSON or CSV.
//!
//! This file parses the period, gathers the cases that can count in it (the world's, and the archived
//! ones from the store), keeps those the caller may see and labels the rows with codes and names. Every figure and its definition belongs to `crate::dispatch::kpi`; nothing is computed or
//! stored here, and nothing is written.
//!
//! # The period
//! Exactly one of `period=YYYY-MM` (the calendar month, from the 1st 00:00 local time to the 1st of the
//! next month) or `from` and `to` (each RFC 3339, or `YYYY-MM-DD` for local midnight), with `from < to`
//! and at most 366 days between them. Local time is the deployment calendar's fixed UTC offset
//! (`tz_offset_minutes`). The period is half-open, `[from, to)`, and the response gives both ends in UTC.
//!
//! # Who sees what
//! Commanders (and admins). A scoped token counts only the cases in grids it may see, by the grid
//! recorded on the case.
//!
//! # Formats
//! JSON by default. When the `Accept` header names `text/csv`, a `text/csv; charset=utf-8` table (RFC 4180,
//! CRLF line ends): a header line, one line per row and a last line whose `key_id` is `total`; a `null`
//! figure or key is an empty field. A code or name that a spreadsheet would take for a formula starts
//! with `'`.

pub mod daily;
pub mod series;
#[cfg(test)]
mod tests;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Months, NaiveDate, NaiveTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::AppQuery;
use crate::auth::Auth;
use crate::cases::archive;
use crate::dispatch::kpi::{self, Counts, Key, Level, Report};
use crate::domain::{Case, Permission, RegionId};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{ArchiveQuery, Seer};
use crate::world::World;

/// The longest period one request may cover (a leap year).
const MAX_SPAN_DAYS: i64 = 366;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KpiQuery {
    /// What each row groups: `grid`, `community`, `street` or `worker` (the case's handler).
    #[param(inline)]
    level: Level,
    /// A calendar month, `YYYY-MM`, in local time. Not with `from`/`to`.
    period: Option<String>,
    /// Start (inclusive): RFC 3339, or `YYYY-MM-DD` for local midnight.
    from: Option<String>,
    /// End (exclusive): RFC 3339, or `YYYY-MM-DD` for local midnight.
    to: Option<String>,
}

/// The figures of a period; the definitions are those of `dispatch::kpi`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KpiReport {
    level: Level,
    /// Start of the period (inclusive), UTC.
    #[schema(value_type = String, format = DateTime)]
    from: DateTime<Utc>,
    /// End of the period (exclusive), UTC; everything is evaluated as of this instant.
    #[schema(value_type = String, format = DateTime)]
    to: DateTime<Utc>,
    /// Sorted by key id; the `null` key (no street, no handler) last.
    rows: Vec<KpiRow>,
    total: KpiFigures,
}

/// One group: its key and figures.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KpiRow {
    /// The grid, region or worker; `null` for cases without a street (street level) or a handler (worker
    /// level).
    key: Option<KpiKey>,
    #[serde(flatten)]
    figures: KpiFigures,
}

/// What a row is about.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KpiKey {
    id: i64,
    /// The grid's or region's municipal code; `null` for a worker, or for a grid or region no longer known.
    code: Option<String>,
    name: Option<String>,
}

/// Counters, rates (fractions in `[0, 1]`, `null` over a zero denominator) and means (wall-clock hours,
/// `null` over no cases).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KpiFigures {
    registered: u64,
    due: u64,
    closed: u64,
    closed_on_time: u64,
    deferred: u64,
    reworked: u64,
    closure_rate: Option<f64>,
    on_time_rate: Option<f64>,
    rework_rate: Option<f64>,
    mean_hours_to_accept: Option<f64>,
    mean_hours_to_close: Option<f64>,
}

impl From<&Counts> for KpiFigures {
    fn from(c: &Counts) -> Self {
        Self {
            registered: c.registered,
            due: c.due,
            closed: c.closed,
            closed_on_time: c.closed_on_time,
            deferred: c.deferred,
            reworked: c.reworked,
            closure_rate: c.closure_rate(),
            on_time_rate: c.on_time_rate(),
            rework_rate: c.rework_rate(),
            mean_hours_to_accept: c.mean_hours_to_accept(),
            mean_hours_to_close: c.mean_hours_to_close(),
        }
    }
}

#[utoipa::path(get, path = "/api/reports/kpi", tag = "reports", params(KpiQuery),
    responses(
        (status = 200, description = "registered, due, closed, closed on time, deferred and reworked cases, the closure, on-time and rework rates and the mean hours to accept and to close, per group and in total; CSV when `Accept: text/csv`",
            content((KpiReport = "application/json"), (String = "text/csv"))),
        (status = 400, description = "unknown level or malformed query"), (status = 403),
        (status = 422, description = "not exactly one of period or from+to, an unreadable date, from not before to, or more than 366 days")),
    security(("bearer" = [])))]
pub async fn kpi(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    AppQuery(query): AppQuery<KpiQuery>,
) -> Result<Response, ApiError> {
    auth.require(Permission::ReadKpi)?;
    let (from, to) = period_of(&query, state.dispatch().calendar.tz_offset_minutes)?;
    // The cases that can count in the period: those the world holds, and the archived ones read from
    // the store (the world holds only the recent finished ones).
    let cases = cases_in(&state, &auth, Area::default(), from, to).await?;
    let body = {
        let world = state.world();
        let report = kpi::kpi(cases.iter(), query.level, from, to);
        body_of(&world, &report)
    };
    let mut response = if wants_csv(&headers) {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            )],
            to_csv(&body),
        )
            .into_response()
    } else {
        Json(body).into_response()
    };
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    Ok(response)
}

/// The period `[from, to)` in UTC, from either `period` or `from` and `to`.
fn period_of(
    query: &KpiQuery,
    tz_offset_minutes: i32,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let (from, to) = match (&query.period, &query.from, &query.to) {
        (Some(period), None, None) => {
            let first = month(period)?;
            let next = first
                .checked_add_months(Months::new(1))
                .ok_or_else(|| bad_month(period))?;
            (
                local_midnight(first, tz_offset_minutes, "period")?,
                local_midnight(next, tz_offset_minutes, "period")?,
            )
        }
        (None, Some(from), Some(to)) => (
            instant("from", from, tz_offset_minutes)?,
            instant("to", to, tz_offset_minutes)?,
        ),
        (Some(_), _, _) => {
            return Err(ApiError::invalid(
                "give either period or from and to, not both",
            ));
        }
        (None, _, _) => {
            return Err(ApiError::invalid(
                "give period=YYYY-MM, or both from and to",
            ));
        }
    };
    if from >= to {
        return Err(
            ApiError::invalid(format!("from ({from}) must be before to ({to})"))
                .with("field", "from"),
        );
    }
    if to - from > TimeDelta::days(MAX_SPAN_DAYS) {
        return Err(
            ApiError::invalid(format!("a report covers at most {MAX_SPAN_DAYS} days"))
                .with("field", "to"),
        );
    }
    Ok((from, to))
}

/// The first day of a `YYYY-MM` month.
fn month(text: &str) -> Result<NaiveDate, ApiError> {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let (year, month) = text
        .split_once('-')
        .filter(|(y, m)| digits(y, 4) && digits(m, 2))
        .ok_or_else(|| bad_month(text))?;
    let (Ok(year), Ok(month)) = (year.parse(), month.parse()) else {
        return Err(bad_month(text));
    };
    NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(|| bad_month(text))
}

fn bad_month(text: &str) -> ApiError {
    ApiError::invalid(format!("period must be a month like 2026-03, not {text:?}"))
        .with("field", "period")
}

/// An RFC 3339 instant, or a `YYYY-MM-DD` date meaning local midnight.
fn instant(
    field: &'static str,
    text: &str,
    tz_offset_minutes: i32,
) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && text.len() == "YYYY-MM-DD".len()
    {
        return local_midnight(date, tz_offset_minutes, field);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ApiError::invalid(format!(
                "{field} must be an RFC 3339 instant or a YYYY-MM-DD date, not {text:?}"
            ))
            .with("field", field)
        })
}

fn local_midnight(
    date: NaiveDate,
    tz_offset_minutes: i32,
    field: &'static str,
) -> Result<DateTime<Utc>, ApiError> {
    date.and_time(NaiveTime::MIN)
        .checked_sub_signed(TimeDelta::minutes(i64::from(tz_offset_minutes)))
        .map(|utc| utc.and_utc())
        .ok_or_else(|| ApiError::invalid(format!("{field} is out of range")).with("field", field))
}

fn body_of(world: &World, report: &Report) -> KpiReport {
    KpiReport {
        level: report.level,
        from: report.from,
        to: report.to,
        rows: report
            .rows
            .iter()
            .map(|row| KpiRow {
                key: row.key.map(|key| label(world, key)),
                figures: KpiFigures::from(&row.counts),
            })
            .collect(),
        total: KpiFigures::from(&report.total),
    }
}

fn label(world: &World, key: Key) -> KpiKey {
    let (code, name) = match key {
        Key::Grid(id) => world
            .grid(id)
            .map(|g| (Some(g.code.clone()), g.name.clone()))
            .unzip(),
        Key::Region(id) => world
            .region(id)
            .map(|r| (Some(r.code.clone()), r.name.clone()))
            .unzip(),
        Key::Worker(id) => (None, world.worker(id).map(|w| w.name.clone())),
    };
    KpiKey {
        id: key.id(),
        code: code.flatten(),
        name,
    }
}

/// Whether the `Accept` header names `text/csv` (with a non-zero quality).
fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| {
            let mut parts = range.split(';').map(str::trim);
            let csv = parts
                .next()
                .is_some_and(|media| media.eq_ignore_ascii_case("text/csv"));
            let refused = parts.any(|p| {
                p.split_once('=').is_some_and(|(k, q)| {
                    k.trim().eq_ignore_ascii_case("q")
                        && q.trim().parse::<f64>().is_ok_and(|q| q <= 0.0)
                })
            });
            csv && !refused
        })
}

const CSV_HEADER: [&str; 14] = [
    "key_id",
    "key_code",
    "key_name",
    "registered",
    "due",
    "closed",
    "closed_on_time",
    "deferred",
    "reworked",
    "closure_rate",
    "on_time_rate",
    "rework_rate",
    "mean_hours_to_accept",
    "mean_hours_to_close",
];

fn to_csv(body: &KpiReport) -> String {
    let mut out = String::new();
    line(&mut out, CSV_HEADER.iter().map(|h| (*h).to_owned()));
    for row in &body.rows {
        let key = match &row.key {
            Some(k) => [
                k.id.to_string(),
                inert(k.code.clone().unwrap_or_default()),
                inert(k.name.clone().unwrap_or_default()),
            ],
            None => Default::default(),
        };
        line(&mut out, key.into_iter().chain(figures(&row.figures)));
    }
    line(
        &mut out,
        ["total".to_owned(), String::new(), String::new()]
            .into_iter()
            .chain(figures(&body.total)),
    );
    out
}

fn figures(f: &KpiFigures) -> impl Iterator<Item = String> {
    let counts = [
        f.registered,
        f.due,
        f.closed,
        f.closed_on_time,
        f.deferred,
        f.reworked,
    ]
    .map(|n| n.to_string());
    let reals = [
        f.closure_rate,
        f.on_time_rate,
        f.rework_rate,
        f.mean_hours_to_accept,
        f.mean_hours_to_close,
    ]
    .map(|x| x.map(|x| x.to_string()).unwrap_or_default());
    counts.into_iter().chain(reals)
}

/// A text field a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a
/// carriage return: names are typed by people) gets a leading `'`, so it is shown as text (OWASP's
/// advice against CSV injection). Figures are never touched.
fn inert(text: String) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text
    }
}

/// Appends one CSV record, quoting every field that holds a comma, a quote or a line break (RFC 4180).
fn line(out: &mut String, fields: impl Iterator<Item = String>) {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&field);
        }
    }
    out.push_str("\r\n");
}

/// The area a dashboard or a daily report covers: a `bbox` (the map's view), a region (a community,
/// street or district: every case in a grid under it), both, or neither (everything in scope).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Area {
    /// `[min_lon, min_lat, max_lon, max_lat]`, degrees (EPSG:4326), edges included.
    pub bbox: Option<[f64; 4]>,
    pub region: Option<RegionId>,
}

impl Area {
    /// Parses `bbox` and checks that `region` names a known region.
    pub(crate) fn parse(
        world: &World,
        bbox: Option<&str>,
        region: Option<RegionId>,
    ) -> Result<Self, ApiError> {
        let bbox = super::geo_json::Bbox::parse_opt(bbox)?.map(|b| b.0);
        if let Some(region) = region
            && world.region(region).is_none()
        {
            return Err(ApiError::not_found(format!("region {region}")));
        }
        Ok(Self { bbox, region })
    }

    fn holds(&self, case: &Case) -> bool {
        let p = &case.place;
        self.bbox
            .is_none_or(|[w, s, e, n]| (w..=e).contains(&p.lon) && (s..=n).contains(&p.lat))
            && self
                .region
                .is_none_or(|r| p.community == r || p.street == Some(r) || p.district == Some(r))
    }
}

/// The cases in `area` that the caller may see and that can count in `[from, to)`: those the world
/// holds, and the archived ones registered before `to` and changed or due since `from`. Copies, so no
/// lock is held while the caller works through them.
pub(crate) async fn cases_in(
    state: &AppState,
    auth: &Auth,
    area: Area,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Case>, ApiError> {
    let archived = {
        let world = state.world();
        archive::query(&world, None).map(|archived| ArchiveQuery {
            created_to: Some(to),
            active_since: Some(from),
            region: area.region,
            bbox: area.bbox,
            seen_by: archive::seer(&world, &auth.0).map(|seer| Seer {
                worker: None,
                token: None,
                ..seer
            }),
            ..archived
        })
    };
    let archived = match archived {
        Some(query) => {
            let (_, ids) = state.store().archived(&query, u64::MAX).await?;
            state.store().incidents_in(&ids).await?
        }
        None => Vec::new(),
    };
    let world = state.world();
    let visibility = world.visibility(&auth.0);
    let mut cases: Vec<Case> = world
        .incidents()
        .filter(|c| c.created_at < to)
        .cloned()
        .chain(
            archived
                .into_iter()
                .filter(|c| world.incident(c.id()).is_none()),
        )
        .filter(|c| visibility.grid(c.place.grid) && area.holds(c))
        .collect();
    cases.sort_by_key(Case::id);
    Ok(cases)
}

/// A local date (`YYYY-MM-DD`, the deployment's calendar) as the UTC instant of its midnight.
pub(crate) fn local_date(
    field: &'static str,
    text: &str,
    tz_offset_minutes: i32,
) -> Result<(NaiveDate, DateTime<Utc>), ApiError> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|_| text.len() == "YYYY-MM-DD".len())
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "{field} must be a date like 2026-03-01, not {text:?}"
            ))
            .with("field", field)
        })?;
    Ok((date, local_midnight(date, tz_offset_minutes, field)?))
}

/// The deployment's local date of an instant.
pub(crate) fn local_date_of(at: DateTime<Utc>, tz_offset_minutes: i32) -> NaiveDate {
    (at + TimeDelta::minutes(i64::from(tz_offset_minutes))).date_naive()
}

/// Sets `Vary: accept` and picks JSON or the CSV body (with the content type given).
pub(crate) fn negotiated<T: Serialize>(
    csv: bool,
    body: &T,
    to_csv: impl FnOnce(&T) -> String,
) -> Response {
    let mut response = if csv {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            )],
            to_csv(body),
        )
            .into_response()
    } else {
        Json(body).into_response()
    };
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    response
}
