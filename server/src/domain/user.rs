//! People's accounts (issue 18): who a user is to the rest of the system. A user signs in with a name
//! and a password (and a TOTP code for the roles that need one) and then acts with a role, scopes and
//! optionally a worker, exactly as a token with the same fields would. Never a resident's data.
//!
//! The password, its hash and the TOTP secret are not here: `identity` owns them and `store` keeps
//! them; this is what the world, events and lists may show.

use serde::{Deserialize, Serialize};

use super::{Role, Scope, UserId, WorkerId};

/// Whether an account may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    /// Refused at sign-in; its sessions end within a second on every node.
    Disabled,
}

impl UserStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }
}

/// Whether `role` belongs to a person: the machine roles (reporter, device) are for tokens only.
#[must_use]
pub const fn is_person_role(role: Role) -> bool {
    !matches!(role, Role::Reporter | Role::Device)
}

/// `user.created` / `user.updated`: who the account is and what it may reach; never its password hash
/// or TOTP secret (events are replayed to clients).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: UserId,
    pub name: String,
    pub display_name: String,
    pub role: Role,
    pub scopes: Vec<Scope>,
    pub worker: Option<WorkerId>,
    pub status: UserStatus,
}
