//! Incident categories (事件分类) and departments (职能部门): data a deployment edits, never code.
//!
//! A category carries the time limit for each priority, in working hours on the office's calendar
//! (限时办结), and optionally the department that owns it. A department is a named group of workers;
//! when a category has one, routing sends its incidents there before the grid.
//!
//! A category's [`CategoryClock`] says which clock its limits run on: the office's working calendar, or
//! around the clock (24/7) for emergencies and public safety, which cannot wait for Monday.
//! Its name is kept in English (`name`) and in Chinese (`name_zh`); a page shows the one in its language.

use serde::{Deserialize, Serialize};

use super::WorkerId;
use super::incident::{CaseKind, Priority};

/// Which family of classes a category belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CategoryClass {
    /// The digital-city-management classes (数字化城市管理).
    CityManagement,
    /// The social-governance classes (社会治理).
    SocialGovernance,
}

impl CategoryClass {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CityManagement => "city_management",
            Self::SocialGovernance => "social_governance",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "city_management" => Some(Self::CityManagement),
            "social_governance" => Some(Self::SocialGovernance),
            _ => None,
        }
    }
}

/// Which clock a category's time limits run on.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CategoryClock {
    /// Working hours on the office's calendar (weekends, holidays and nights do not count).
    #[default]
    Office,
    /// Every hour counts (24/7): a limit of 0.5 h is half an hour from registration, day or night.
    Always,
}

impl CategoryClock {
    /// The default, left out of a category's serialised form.
    #[must_use]
    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` passes a reference
    pub fn is_office(&self) -> bool {
        *self == Self::Office
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Office => "office",
            Self::Always => "always",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "office" => Some(Self::Office),
            "always" => Some(Self::Always),
            _ => None,
        }
    }
}

/// Hours allowed to close a case, per priority (working hours or clock hours, as the category's
/// [`CategoryClock`] says).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeLimits {
    pub low_h: f64,
    pub normal_h: f64,
    pub high_h: f64,
    pub urgent_h: f64,
}

impl TimeLimits {
    /// The limit for `priority`, in working hours.
    #[must_use]
    pub fn hours(&self, priority: Priority) -> f64 {
        match priority {
            Priority::Low => self.low_h,
            Priority::Normal => self.normal_h,
            Priority::High => self.high_h,
            Priority::Urgent => self.urgent_h,
        }
    }

    /// Each limit is finite, positive and at most [`MAX_LIMIT_H`].
    #[must_use]
    pub fn is_valid(&self) -> bool {
        [self.low_h, self.normal_h, self.high_h, self.urgent_h]
            .iter()
            .all(|h| h.is_finite() && *h > 0.0 && *h <= MAX_LIMIT_H)
    }
}

/// The longest time limit accepted, in working hours (a year of 7.5-hour days).
pub const MAX_LIMIT_H: f64 = 365.0 * 7.5;

/// An incident category. `code` is its stable identifier (also the Open311 `service_code`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Category {
    pub code: String,
    /// The name in English (`Hazards`).
    pub name: String,
    /// The name in Chinese (`安全隐患`); `None` when the deployment gave none (a page then shows `name`).
    /// Left out of the serialised form when `None`, and `clock` when `office`, so a `category.updated`
    /// event written before either existed serialises back to exactly what was stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_zh: Option<String>,
    pub class: CategoryClass,
    /// The department that owns the category, by code; `None` when the grid handles it.
    pub department: Option<String>,
    pub limits: TimeLimits,
    /// How cases of this category are usually handled.
    pub kind: CaseKind,
    /// Inactive categories are kept for history but refuse new incidents.
    pub active: bool,
    /// Which clock the limits run on (the office's calendar unless said otherwise).
    #[serde(default, skip_serializing_if = "CategoryClock::is_office")]
    pub clock: CategoryClock,
}

/// A department (职能部门): a group of workers that owns some categories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Department {
    pub code: String,
    pub name: String,
    /// In order of preference.
    pub members: Vec<WorkerId>,
}
