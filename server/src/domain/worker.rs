//! Workers: the people who take assignments — grid workers (网格员), patrollers (巡防员), department staff
//! — with who may see their contacts and the device ids their trackers authenticate with.

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::{GridId, Role, WorkerId};

/// What kind of work a worker does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkerKind {
    GridWorker,
    Patroller,
    DepartmentStaff,
}

impl WorkerKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GridWorker => "grid_worker",
            Self::Patroller => "patroller",
            Self::DepartmentStaff => "department_staff",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "grid_worker" => Some(Self::GridWorker),
            "patroller" => Some(Self::Patroller),
            "department_staff" => Some(Self::DepartmentStaff),
            _ => None,
        }
    }
}

/// Whether a worker can be dispatched to now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DutyStatus {
    OnDuty,
    OffDuty,
}

impl DutyStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OnDuty => "on_duty",
            Self::OffDuty => "off_duty",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "on_duty" => Some(Self::OnDuty),
            "off_duty" => Some(Self::OffDuty),
            _ => None,
        }
    }
}

/// A worker's responsibility for a grid: one primary per grid, any number of backups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Responsibility {
    Primary,
    Backup,
}

impl Responsibility {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Backup => "backup",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "primary" => Some(Self::Primary),
            "backup" => Some(Self::Backup),
            _ => None,
        }
    }
}

/// One grid a worker answers for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GridDuty {
    pub grid_id: GridId,
    pub responsibility: Responsibility,
}

/// A worker. Staff data only: residents are never stored by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Worker {
    pub id: WorkerId,
    pub name: String,
    pub kind: WorkerKind,
    pub duty: DutyStatus,
    /// Shown only to the roles that manage workers ([`sees_contacts`]).
    pub phone: Option<String>,
    /// The SHA-256 (lower-case hex) of the tracker's device id (OsmAnd / Traccar Client), unique when
    /// set. The id itself is a credential: issued by the server ([`DeviceId::new`]), shown once, never
    /// stored nor sent again.
    pub device_hash: Option<String>,
    pub grids: Vec<GridDuty>,
}

/// Whether a caller of `role` sees workers' contacts (phone numbers, whether a tracker is bound): the
/// roles that manage workers (`Permission::ManageWorkers`: admins and command centres). Planners,
/// workers (co-workers included), reporters and devices do not.
#[must_use]
pub fn sees_contacts(role: Role) -> bool {
    role.may(super::Permission::ManageWorkers)
}

/// A tracker's device id: `gwd_` and 32 hex digits, 128 bits of randomness, made by the server when a
/// device is bound to a worker. OsmAnd and Traccar Client send nothing else, so it is the device's only
/// credential: it is shown once, in the answer that binds it, and only its SHA-256 is kept.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceId(String);

/// The prefix of every device id, so a leaked one is easy to spot in a log or a config file.
pub const DEVICE_ID_PREFIX: &str = "gwd_";

impl DeviceId {
    /// A new random device id.
    #[must_use]
    pub fn new() -> Self {
        let mut bytes = [0_u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        Self(format!("{DEVICE_ID_PREFIX}{}", hex::encode(bytes)))
    }

    /// The id as the device sends it.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What is stored of it.
    #[must_use]
    pub fn hash(&self) -> String {
        device_hash(&self.0)
    }
}

impl Default for DeviceId {
    fn default() -> Self {
        Self::new()
    }
}

/// Never the secret in a log line.
impl std::fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceId(…)")
    }
}

/// The stored form of whatever a device sent as its id: lower-case hex SHA-256.
#[must_use]
pub fn device_hash(sent: &str) -> String {
    hex::encode(sha2::Sha256::digest(sent.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_are_random_128_bit_and_kept_as_their_sha256() {
        let a = DeviceId::new();
        let b = DeviceId::new();
        assert_ne!(a, b);
        let hex_part = a
            .as_str()
            .strip_prefix(DEVICE_ID_PREFIX)
            .expect("the prefix");
        assert_eq!(hex_part.len(), 32, "128 bits");
        assert!(hex_part.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a.hash(), device_hash(a.as_str()));
        // The SHA-256 of "abc" from FIPS 180-2, appendix B.1.
        assert_eq!(
            device_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(format!("{a:?}"), "DeviceId(…)", "never the secret in a log");
    }

    #[test]
    fn only_roles_that_manage_workers_see_contacts() {
        let see: Vec<Role> = [
            Role::Admin,
            Role::Planner,
            Role::Commander,
            Role::Worker,
            Role::Reporter,
            Role::Device,
            Role::Auditor,
        ]
        .into_iter()
        .filter(|r| sees_contacts(*r))
        .collect();
        assert_eq!(see, [Role::Admin, Role::Commander]);
    }
}
