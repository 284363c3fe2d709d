//! Who may do what: roles and scopes carried by a bearer token.

use serde::{Deserialize, Serialize};

use super::{GridId, RegionId, TokenId, WorkerId};

/// A token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Planner,
    Commander,
    Worker,
    Reporter,
    Device,
}

impl Role {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Planner => "planner",
            Self::Commander => "commander",
            Self::Worker => "worker",
            Self::Reporter => "reporter",
            Self::Device => "device",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "planner" => Some(Self::Planner),
            "commander" => Some(Self::Commander),
            "worker" => Some(Self::Worker),
            "reporter" => Some(Self::Reporter),
            "device" => Some(Self::Device),
            _ => None,
        }
    }
}

/// Where a token applies. A region scope covers every grid inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase", tag = "kind", content = "id")]
pub enum Scope {
    Region(RegionId),
    Grid(GridId),
}

impl Scope {
    /// Parses the CLI and stored form: `region:12` or `grid:7`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        let (kind, id) = s.split_once(':')?;
        let id: i64 = id.trim().parse().ok()?;
        match kind.trim() {
            "region" => Some(Self::Region(RegionId(id))),
            "grid" => Some(Self::Grid(GridId(id))),
            _ => None,
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Region(id) => write!(f, "region:{id}"),
            Self::Grid(id) => write!(f, "grid:{id}"),
        }
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub token: TokenId,
    pub role: Role,
    /// Empty means unrestricted (only admins are minted that way by default).
    pub scopes: Vec<Scope>,
    /// The worker this token acts for, for worker and device tokens.
    pub worker: Option<WorkerId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_round_trips_and_rejects_junk() {
        for s in ["region:3", "grid:42"] {
            assert_eq!(Scope::parse(s).map(|x| x.to_string()).as_deref(), Some(s));
        }
        for bad in ["", "grid", "grid:", "grid:x", "street:1", ":1"] {
            assert_eq!(Scope::parse(bad), None, "{bad}");
        }
    }
}
