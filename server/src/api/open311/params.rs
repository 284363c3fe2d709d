//! Reading Open311's form and query parameters strictly: every name known, none twice, every value
//! checked, each refusal a 400 that names the parameter.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, Utc};

use super::Open311Error;
use crate::domain::incident::Source;
use crate::domain::{Case, IncidentId};
use crate::store::ArchiveQuery;
use crate::world::World;

/// What `POST requests.json` accepts. The personal fields are listed so they are accepted, and only so:
/// they are dropped (see `create_request`).
pub const POST_FIELDS: &[&str] = &[
    "api_key",
    "jurisdiction_id",
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "description",
    "media_url",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
];
/// What `GET requests.json` accepts (`api_key` is harmless on a public read and some clients send it).
pub const GET_FIELDS: &[&str] = &[
    "jurisdiction_id",
    "api_key",
    "service_request_id",
    "service_code",
    "start_date",
    "end_date",
    "status",
];
/// The spec's default and largest window of `requested_datetime`, in days.
pub const WINDOW_DAYS: i64 = 90;
/// The spec's largest number of requests in one answer.
pub const MAX_REQUESTS: usize = 1000;
/// The longest `media_url` accepted.
const MAX_URL_CHARS: usize = 2000;

/// The parameters of one request, by name.
pub struct Fields(BTreeMap<&'static str, String>);

impl Fields {
    /// Refuses unknown names and names given twice.
    pub fn collect(
        pairs: Vec<(String, String)>,
        known: &[&'static str],
    ) -> Result<Self, Open311Error> {
        let mut fields = BTreeMap::new();
        for (name, value) in pairs {
            let Some(&name) = known.iter().find(|k| **k == name) else {
                let shown: String = name.chars().take(64).collect();
                return Err(Open311Error::bad(format!(
                    "unknown parameter {shown:?}; accepted: {}",
                    known.join(", ")
                )));
            };
            if fields.insert(name, value).is_some() {
                return Err(Open311Error::bad(format!("{name} is given more than once")));
            }
        }
        Ok(Self(fields))
    }

    /// The value, if given and not blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }
}

/// A new service request, as far as gridwatch keeps it.
pub struct NewRequest {
    pub service_code: String,
    /// Degrees (EPSG:4326).
    pub lat: f64,
    /// Degrees (EPSG:4326).
    pub long: f64,
    pub description: String,
}

impl NewRequest {
    pub fn parse(fields: &Fields) -> Result<Self, Open311Error> {
        let service_code = fields
            .get("service_code")
            .ok_or_else(|| Open311Error::bad("service_code is required"))?
            .trim()
            .to_owned();
        let (lat, long) = match (fields.get("lat"), fields.get("long")) {
            (Some(lat), Some(long)) => (degrees("lat", lat, 90.0)?, degrees("long", long, 180.0)?),
            (None, None)
                if fields.get("address_string").is_some() || fields.get("address_id").is_some() =>
            {
                return Err(Open311Error::bad(
                    "lat and long are required: this server does not geocode address_string or address_id",
                ));
            }
            _ => return Err(Open311Error::bad("lat and long are required")),
        };
        if let Some(url) = fields.get("media_url") {
            check_url(url)?;
        }
        let description = fields.get("description").unwrap_or_default().to_owned();
        Ok(Self {
            service_code,
            lat,
            long,
            description,
        })
    }
}

/// A coordinate in degrees: a finite number with `|value| <= max`.
fn degrees(name: &str, text: &str, max: f64) -> Result<f64, Open311Error> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| Open311Error::bad(format!("{name} must be a number of degrees (WGS 84)")))?;
    if !value.is_finite() || value.abs() > max {
        return Err(Open311Error::bad(format!(
            "{name} must be a finite number of degrees in [-{max}, {max}]"
        )));
    }
    Ok(value)
}

fn check_url(url: &str) -> Result<(), Open311Error> {
    let url = url.trim();
    let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
    if !scheme_ok || url.chars().count() > MAX_URL_CHARS || url.chars().any(char::is_whitespace) {
        return Err(Open311Error::bad(format!(
            "media_url must be an http(s) URL of at most {MAX_URL_CHARS} characters"
        )));
    }
    Ok(())
}

/// The filters of `GET requests.json`.
#[derive(Debug)]
pub struct ListQuery {
    /// `service_request_id`: when given, every other filter is ignored (the spec's rule).
    ids: Option<Vec<i64>>,
    service_codes: Option<Vec<String>>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    open: bool,
    closed: bool,
}

impl ListQuery {
    /// Reads the filters; `known_code` says whether a service code exists (active or not, so old
    /// requests stay findable).
    pub fn parse(
        fields: &Fields,
        now: DateTime<Utc>,
        offset: FixedOffset,
        known_code: impl Fn(&str) -> bool,
    ) -> Result<Self, Open311Error> {
        let ids = fields
            .get("service_request_id")
            .map(parse_ids)
            .transpose()?;
        let service_codes = fields
            .get("service_code")
            .map(|text| {
                list(text)
                    .map(|code| {
                        if known_code(code) {
                            Ok(code.to_owned())
                        } else {
                            Err(Open311Error::bad(format!(
                                "unknown service_code {code:?}; see services.json"
                            )))
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let start = fields
            .get("start_date")
            .map(|t| datetime("start_date", t, offset))
            .transpose()?;
        let end = fields
            .get("end_date")
            .map(|t| datetime("end_date", t, offset))
            .transpose()?;
        let (from, to) = window(start, end, now)?;
        let (mut open, mut closed) = (true, true);
        if let Some(text) = fields.get("status") {
            (open, closed) = (false, false);
            for status in list(text) {
                match status {
                    "open" => open = true,
                    "closed" => closed = true,
                    other => {
                        return Err(Open311Error::bad(format!(
                            "status must be open, closed or both, not {other:?}"
                        )));
                    }
                }
            }
        }
        Ok(Self {
            ids,
            service_codes,
            from,
            to,
            open,
            closed,
        })
    }

    /// The listed `service_request_id`s, in the order given; `None` when the query lists none.
    pub fn ids(&self) -> Option<Vec<IncidentId>> {
        (self.ids.as_ref()).map(|ids| ids.iter().copied().map(IncidentId).collect())
    }

    /// Whether a case is a request filed through Open311 that the filters keep.
    fn keeps(&self, c: &Case) -> bool {
        c.source == Source::Open311
            && self.from <= c.created_at
            && c.created_at <= self.to
            && if c.state.status.is_open() {
                self.open
            } else {
                self.closed
            }
            && (self.service_codes)
                .as_ref()
                .is_none_or(|codes| codes.contains(&c.category))
    }

    /// The matching requests the world holds, newest first, at most [`MAX_REQUESTS`]; and the query
    /// for the archived ones (all closed, in Open311's words), if any may match
    /// (`cases::archive::page` merges the two).
    pub fn select(&self, world: &World) -> (Vec<IncidentId>, Option<ArchiveQuery>) {
        let held = world
            .incidents()
            .rev()
            .filter(|c| self.keeps(c))
            .map(Case::id)
            .take(MAX_REQUESTS)
            .collect();
        let archived = crate::cases::archive::query(world, None)
            .filter(|_| self.closed)
            .map(|archived| ArchiveQuery {
                categories: self.service_codes.clone(),
                created_from: Some(self.from),
                created_to: Some(self.to),
                source: Some(Source::Open311),
                ..archived
            });
        (held, archived)
    }

    /// Whether a listed case is a request filed through Open311.
    pub fn listed(c: &Case) -> bool {
        c.source == Source::Open311
    }
}

/// The items of a comma-separated list, trimmed; empty items are skipped.
fn list(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn parse_ids(text: &str) -> Result<Vec<i64>, Open311Error> {
    let mut ids: Vec<i64> = Vec::new();
    for item in list(text) {
        let id = item.parse().map_err(|_| {
            Open311Error::bad(format!(
                "service_request_id must list whole numbers, not {item:?}"
            ))
        })?;
        if !ids.contains(&id) {
            ids.push(id);
        }
        if ids.len() > MAX_REQUESTS {
            return Err(Open311Error::bad(format!(
                "at most {MAX_REQUESTS} service_request_id values"
            )));
        }
    }
    Ok(ids)
}

/// An ISO 8601 (W3C profile) time: an RFC 3339 date-time, or a bare date meaning its first instant in
/// the deployment's offset. A `+` sent unencoded in a query arrives as a space, so a space before the
/// offset is read as `+`.
fn datetime(name: &str, text: &str, offset: FixedOffset) -> Result<DateTime<Utc>, Open311Error> {
    let text = text.trim();
    let parsed = DateTime::parse_from_rfc3339(text)
        .or_else(|e| {
            if text.contains(' ') {
                DateTime::parse_from_rfc3339(&text.replace(' ', "+"))
            } else {
                Err(e)
            }
        })
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            let midnight = NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()?
                .and_hms_opt(0, 0, 0)?;
            Some(
                midnight
                    .and_local_timezone(offset)
                    .single()?
                    .with_timezone(&Utc),
            )
        });
    parsed.ok_or_else(|| {
        Open311Error::bad(format!(
            "{name} must be an ISO 8601 date-time like 2026-01-31T08:00:00+08:00, or a date like 2026-01-31"
        ))
    })
}

/// The window of `requested_datetime`: the last 90 days by default, 90 days from a lone start or up
/// to a lone end; never longer than 90 days, never ending before it starts.
fn window(
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), Open311Error> {
    let span = TimeDelta::days(WINDOW_DAYS);
    let out_of_range = || Open311Error::bad("start_date or end_date is out of range");
    let (from, to) = match (start, end) {
        (None, None) => (now.checked_sub_signed(span).ok_or_else(out_of_range)?, now),
        (Some(from), None) => (
            from,
            from.checked_add_signed(span).ok_or_else(out_of_range)?,
        ),
        (None, Some(to)) => (to.checked_sub_signed(span).ok_or_else(out_of_range)?, to),
        (Some(from), Some(to)) => (from, to),
    };
    if from > to {
        return Err(Open311Error::bad("start_date must not be after end_date"));
    }
    if to.signed_duration_since(from) > span {
        return Err(Open311Error::bad(format!(
            "start_date to end_date may span at most {WINDOW_DAYS} days"
        )));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)], known: &[&'static str]) -> Result<Fields, Open311Error> {
        Fields::collect(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            known,
        )
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn open311_fields_refuse_unknown_and_repeated_names() {
        assert!(fields(&[("lat", "1"), ("long", "2")], POST_FIELDS).is_ok());
        assert_eq!(
            fields(&[("latt", "1")], POST_FIELDS)
                .err()
                .map(|e| e.status.as_u16()),
            Some(400)
        );
        assert_eq!(
            fields(&[("lat", "1"), ("lat", "2")], POST_FIELDS)
                .err()
                .map(|e| e.status.as_u16()),
            Some(400)
        );
    }

    #[test]
    fn open311_coordinates_are_finite_and_in_range() {
        let parse = |lat: &str, long: &str| {
            NewRequest::parse(
                &fields(
                    &[("service_code", "x"), ("lat", lat), ("long", long)],
                    POST_FIELDS,
                )
                .unwrap(),
            )
        };
        assert!(parse("36.19", "113.11").is_ok());
        for (lat, long) in [
            ("NaN", "1"),
            ("1", "inf"),
            ("91", "1"),
            ("1", "-180.5"),
            ("north", "1"),
            ("", "1"),
        ] {
            assert!(parse(lat, long).is_err(), "{lat}, {long}");
        }
    }

    #[test]
    fn open311_dates_read_rfc3339_dates_and_a_decoded_plus() {
        let cst = FixedOffset::east_opt(8 * 3600).unwrap();
        assert_eq!(
            datetime("d", "2026-01-31T08:00:00+08:00", cst).unwrap(),
            utc("2026-01-31T00:00:00Z")
        );
        assert_eq!(
            datetime("d", "2026-01-31T08:00:00 08:00", cst).unwrap(),
            utc("2026-01-31T00:00:00Z")
        );
        assert_eq!(
            datetime("d", "2026-01-31", cst).unwrap(),
            utc("2026-01-30T16:00:00Z")
        );
        assert!(datetime("d", "yesterday", cst).is_err());
        assert!(datetime("d", "2026-13-01", cst).is_err());
    }

    #[test]
    fn open311_window_defaults_to_ninety_days_and_never_exceeds_it() {
        let now = utc("2026-06-01T00:00:00Z");
        assert_eq!(
            window(None, None, now).unwrap(),
            (utc("2026-03-03T00:00:00Z"), now)
        );
        let start = utc("2026-01-01T00:00:00Z");
        assert_eq!(
            window(Some(start), None, now).unwrap().1,
            utc("2026-04-01T00:00:00Z")
        );
        assert!(window(Some(start), Some(now), now).is_err(), "151 days");
        assert!(
            window(Some(now), Some(start), now).is_err(),
            "end before start"
        );
    }
}
