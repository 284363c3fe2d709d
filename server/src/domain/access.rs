//! Who may do what: roles and scopes carried by a bearer token, and the two refusals every service
//! shares when a request names something ([`AccessError`]: it does not exist, or it lies outside the
//! caller's scope). No HTTP here: `error.rs` maps them to 404 and 403.

use serde::{Deserialize, Serialize};

use super::{
    CameraId, GridId, IncidentId, PatrolId, RegionId, SessionId, TokenId, UserId, WorkerId,
};

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
    /// Reads the audit trail and nothing else: a person's role, never a token's.
    Auditor,
}

impl Role {
    /// Every role.
    pub const ALL: [Self; 7] = [
        Self::Admin,
        Self::Planner,
        Self::Commander,
        Self::Worker,
        Self::Reporter,
        Self::Device,
        Self::Auditor,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Planner => "planner",
            Self::Commander => "commander",
            Self::Worker => "worker",
            Self::Reporter => "reporter",
            Self::Device => "device",
            Self::Auditor => "auditor",
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
            "auditor" => Some(Self::Auditor),
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
    /// What the caller proved who it is with: a machine's token or a person's session.
    pub credential: Credential,
    pub role: Role,
    /// Empty means unrestricted (only admins are minted that way by default).
    pub scopes: Vec<Scope>,
    /// The worker this token acts for, for worker and device tokens.
    pub worker: Option<WorkerId>,
    /// When the credential stops working (`None`: never, for the server's own actors). For a session,
    /// its absolute end; its idle timeout moves with every request.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// What a caller authenticated with. Both build the same [`Principal`]; rules that depend on who is
/// asking (a reporter's own cases, a token's own record, one's own sessions) read it here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A bearer token: a machine (an integration, a tracker, a script).
    Token(TokenId),
    /// A person's signed-in session (`POST /api/session`).
    Session { user: UserId, session: SessionId },
}

impl Principal {
    /// The token the caller holds, if it authenticated with one.
    #[must_use]
    pub fn token(&self) -> Option<TokenId> {
        match self.credential {
            Credential::Token(id) => Some(id),
            Credential::Session { .. } => None,
        }
    }

    /// The person signed in, if the caller is a session.
    #[must_use]
    pub fn user(&self) -> Option<UserId> {
        match self.credential {
            Credential::Session { user, .. } => Some(user),
            Credential::Token(_) => None,
        }
    }

    /// The caller's session, if it is one.
    #[must_use]
    pub fn session(&self) -> Option<SessionId> {
        match self.credential {
            Credential::Session { session, .. } => Some(session),
            Credential::Token(_) => None,
        }
    }
}

/// Something a request names, as a person reads it: `incident 7`, `plan 3 of community 12`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Incident(IncidentId),
    Worker(WorkerId),
    Grid(GridId),
    Community(RegionId),
    /// The parent named for a new region.
    ParentRegion(RegionId),
    /// A new region with no parent (a district).
    TopLevelRegion,
    Camera(CameraId),
    Patrol(PatrolId),
    Plan {
        id: i64,
        community: RegionId,
    },
    Version {
        id: i64,
        community: RegionId,
    },
    /// The region or grid a token's scope names.
    ScopeTarget(Scope),
    Token(TokenId),
    User(UserId),
    Session(SessionId),
    Alarm(super::AlarmId),
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Incident(id) => write!(f, "incident {id}"),
            Self::Worker(id) => write!(f, "worker {id}"),
            Self::Grid(id) => write!(f, "grid {id}"),
            Self::Community(id) => write!(f, "community {id}"),
            Self::ParentRegion(id) => write!(f, "parent region {id}"),
            Self::TopLevelRegion => write!(f, "a region with no parent"),
            Self::Camera(id) => write!(f, "camera {id}"),
            Self::Patrol(id) => write!(f, "patrol {id}"),
            Self::Plan { id, community } => write!(f, "plan {id} of community {community}"),
            Self::Version { id, community } => write!(f, "version {id} of community {community}"),
            Self::ScopeTarget(scope) => write!(f, "scope target {scope}"),
            Self::Token(id) => write!(f, "token {id}"),
            Self::User(id) => write!(f, "user {id}"),
            Self::Session(id) => write!(f, "session {id}"),
            Self::Alarm(id) => write!(f, "alarm {id}"),
        }
    }
}

/// A request named something the caller cannot have: shared by every service's error enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("{0} does not exist")]
    NotFound(Subject),
    /// It exists, but not for this caller (its grid is outside the token's scopes).
    #[error("{0} is outside your scope")]
    OutOfScope(Subject),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_errors_name_what_was_asked_for() {
        let plan = Subject::Plan {
            id: 3,
            community: RegionId(12),
        };
        assert_eq!(
            AccessError::NotFound(plan).to_string(),
            "plan 3 of community 12 does not exist"
        );
        assert_eq!(
            AccessError::OutOfScope(Subject::Incident(IncidentId(7))).to_string(),
            "incident 7 is outside your scope"
        );
        assert_eq!(
            AccessError::NotFound(Subject::ScopeTarget(Scope::Grid(GridId(4)))).to_string(),
            "scope target grid:4 does not exist"
        );
    }

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
