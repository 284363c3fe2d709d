//! Alarms (告警) as plain values: what the command centre is alerted to, and who acknowledged it.
//!
//! An alarm is not stored as such: it is derived from the event that raised it (`crate::alarms::raised`,
//! a pure function of one [`super::Event`]), so its id is the event's. Its acknowledgement *is* an event,
//! `alarm.acknowledged` ([`AlarmAcknowledged`]), carrying the whole alarm so that every node, the live
//! hub and a `resume` can route and apply it from the payload alone. No IO here.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{GridId, IncidentId, RegionId, Role, TokenId, UserId};

/// An alarm's id: the sequence number of the event that raised it, and the case when the event may
/// name several (`incident.updated`). Written `"{seq}"` or `"{seq}.{case}"`; orders by event, then case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlarmId {
    pub seq: i64,
    pub case: Option<IncidentId>,
}

impl fmt::Display for AlarmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.case {
            Some(case) => write!(f, "{}.{case}", self.seq),
            None => write!(f, "{}", self.seq),
        }
    }
}

/// Why a text is not an alarm id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not an alarm id (\"<seq>\" or \"<seq>.<case>\", positive integers)")]
pub struct BadAlarmId {
    pub value: String,
}

impl FromStr for AlarmId {
    type Err = BadAlarmId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadAlarmId {
            value: s.chars().take(64).collect(),
        };
        // Digits only: `i64::from_str` would take a sign.
        let number = |part: &str| {
            (!part.is_empty() && part.len() <= 18 && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse::<i64>().ok())
                .flatten()
                .filter(|n| *n > 0)
        };
        let (seq, case) = match s.split_once('.') {
            Some((seq, case)) => (seq, Some(case)),
            None => (s, None),
        };
        let seq = number(seq).ok_or_else(bad)?;
        let case = match case {
            Some(case) => Some(IncidentId(number(case).ok_or_else(bad)?)),
            None => None,
        };
        Ok(Self { seq, case })
    }
}

impl Serialize for AlarmId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AlarmId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What an alarm is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    /// A new case of priority `urgent`.
    Urgent,
    /// A case passed its deadline: the escalation scheduler escalated it (`detail.automatic`).
    Overdue,
    /// A person escalated a case (督办).
    Escalated,
    /// An area alert (应急联动) was raised.
    AreaAlert,
    /// An early warning (研判预警) was raised: trouble building up at one place.
    Warning,
}

impl AlarmKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Urgent => "urgent",
            Self::Overdue => "overdue",
            Self::Escalated => "escalated",
            Self::AreaAlert => "area_alert",
            Self::Warning => "warning",
        }
    }
}

/// One alarm, as `GET /api/alarms` lists it and the live `alarms` layer carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Alarm {
    /// `"{seq}"` or `"{seq}.{case}"`.
    #[schema(value_type = String, example = "42.7")]
    pub id: AlarmId,
    pub kind: AlarmKind,
    /// When the event that raised it was committed.
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    /// The event that raised it.
    pub seq: i64,
    #[schema(value_type = Option<i64>)]
    pub case: Option<IncidentId>,
    /// Degrees (EPSG:4326): the case's point, or the centre of an alert's area.
    pub lat: f64,
    /// Degrees (EPSG:4326).
    pub lon: f64,
    /// The grid it belongs to (a case's grid for life; the grid at an alert's centre), which decides
    /// who may see it. `None`: only an unrestricted principal sees it.
    #[schema(value_type = Option<i64>)]
    pub grid: Option<GridId>,
    #[schema(value_type = Option<i64>)]
    pub community: Option<RegionId>,
    #[schema(value_type = Option<i64>)]
    pub street: Option<RegionId>,
    #[schema(value_type = Option<i64>)]
    pub district: Option<RegionId>,
    /// A short text for a list or a notification (the page translates the kind itself).
    pub title: String,
}

/// Who acknowledged an alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AcknowledgedBy {
    /// The person's account, when signed in with a session.
    #[schema(value_type = Option<i64>)]
    pub user: Option<UserId>,
    /// The token, when the caller used one.
    #[schema(value_type = Option<i64>)]
    pub token: Option<TokenId>,
    /// The account's display name, when known.
    pub name: Option<String>,
    pub role: Role,
}

/// An alarm's acknowledgement: who and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Acknowledgement {
    pub by: AcknowledgedBy,
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    /// The event that recorded it.
    pub seq: i64,
}

/// `alarm.acknowledged`: the alarm (whole, so it is routed and applied from the payload alone), who
/// acknowledged it and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmAcknowledged {
    pub alarm: Alarm,
    pub by: AcknowledgedBy,
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_acknowledgement_keeps_its_stored_form() {
        use crate::domain::Change;
        // Newer than the events_v1 fixture: the stored form is pinned here.
        let ack = Change::AlarmAcknowledged(Box::new(AlarmAcknowledged {
            alarm: Alarm {
                id: AlarmId {
                    seq: 9,
                    case: Some(IncidentId(4)),
                },
                kind: AlarmKind::Overdue,
                at: "2026-12-07T08:00:00Z".parse().expect("a time"),
                seq: 9,
                case: Some(IncidentId(4)),
                lat: 36.5,
                lon: 113.25,
                grid: Some(GridId(2)),
                community: Some(RegionId(3)),
                street: None,
                district: None,
                title: "case 4 overdue".into(),
            },
            by: AcknowledgedBy {
                user: Some(UserId(5)),
                token: None,
                name: Some("王芳".into()),
                role: Role::Commander,
            },
            at: "2026-12-07T08:01:00Z".parse().expect("a time"),
        }));
        assert_eq!(ack.kind(), "alarm.acknowledged");
        let text = r#"{"alarm":{"at":"2026-12-07T08:00:00Z","case":4,"community":3,"district":null,"grid":2,"id":"9.4","kind":"overdue","lat":36.5,"lon":113.25,"seq":9,"street":null,"title":"case 4 overdue"},"at":"2026-12-07T08:01:00Z","by":{"name":"王芳","role":"commander","token":null,"user":5}}"#;
        assert_eq!(ack.payload_text(), text);
        assert_eq!(
            Change::from_stored("alarm.acknowledged", text).expect("decodes"),
            ack
        );
    }

    #[test]
    fn ids_read_back_as_written_and_refuse_anything_else() {
        for (text, id) in [
            ("7", AlarmId { seq: 7, case: None }),
            (
                "42.9",
                AlarmId {
                    seq: 42,
                    case: Some(IncidentId(9)),
                },
            ),
        ] {
            assert_eq!(text.parse::<AlarmId>(), Ok(id));
            assert_eq!(id.to_string(), text);
        }
        for bad in [
            "",
            "0",
            "-1",
            "+1",
            "1.",
            ".1",
            "1.2.3",
            "a",
            "1.x",
            " 1",
            "1e3",
            "0.5",
            "99999999999999999999",
        ] {
            assert!(bad.parse::<AlarmId>().is_err(), "{bad:?}");
        }
        assert!(
            AlarmId { seq: 3, case: None }
                < AlarmId {
                    seq: 3,
                    case: Some(IncidentId(1))
                }
        );
    }
}
