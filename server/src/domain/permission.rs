//! What each role may do: the one table every route, tile layer and websocket message consults.
//!
//! A route names the [`Permission`] it needs; [`Permission::roles`] says which roles hold it. Scope (which
//! grids a principal answers for) is decided separately, by `world::Visibility`; a permission never
//! widens a scope. The table follows least privilege (GB/T 22239-2019 §8.1.4.2 c): a reporter (a
//! citizen-facing integration such as Open311) files and follows its own reports and nothing else; a
//! device (a tracker app) reports its own worker's positions and nothing else; an auditor reads the audit
//! trail and nothing else, and the audit trail is the one thing an admin may not read (three-role
//! separation). `SECURITY.md` prints this table for people; `tests/e2e/authz` checks every route against
//! an expectation table written apart from it.

use super::Role;

/// Something a request may do. Each variant is named for what a person would ask permission for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Regions, grids, grid lookup (`locate`), the base map and their tile layers.
    ReadMap,
    /// Buildings and their household counts.
    ReadBuildings,
    /// Add a building (`POST /api/buildings`).
    EditBuildings,
    /// Add a district, street or community.
    CreateRegions,
    /// Workers, their duty and grids (contact details need [`Permission::ManageWorkers`]).
    ReadWorkers,
    /// Create and change workers, set another worker's duty, grids or position, see phone numbers.
    ManageWorkers,
    /// Send position fixes (one's own worker's, unless one may manage workers).
    ReportPositions,
    /// A worker's stored track.
    ReadTracks,
    /// Workers and cases near a point.
    ReadNearby,
    /// Raise an area alert.
    RaiseAlerts,
    /// Register a case (REST or Open311).
    ReportCases,
    /// Read cases (a reporter: only those it reported).
    ReadCases,
    /// Take workflow actions on cases.
    ActOnCases,
    /// Attach photos to a case one may see.
    UploadPhotos,
    /// Fetch the photos of a case one may see.
    ReadPhotos,
    /// Cameras, their sectors and covered cells, and the cameras that see a case.
    ReadCameras,
    /// Create, change, import and delete cameras.
    ManageCameras,
    /// Post a camera's alert (the video platform's integration).
    PostCameraAlerts,
    /// Patrols, checkpoints and patrol coverage (visit times, blind spots).
    ReadPatrols,
    /// Start and end patrols (one's own, unless one may manage workers).
    Patrol,
    /// Create checkpoints.
    ManageCheckpoints,
    /// The KPI report.
    ReadKpi,
    /// Case categories and their deadlines.
    ReadCategories,
    /// Change categories and departments.
    EditCategories,
    /// Departments and their members.
    ReadDepartments,
    /// Boundary plans, diffs and versions.
    ReadPlans,
    /// Create, apply and roll back boundary plans.
    ChangeBoundaries,
    /// The live map over `/ws`.
    WatchLive,
    /// Mint, list and revoke API tokens.
    ManageTokens,
    /// Create, change, disable and reset people's accounts (within one's own reach).
    ManageUsers,
    /// The audit trail.
    ReadAudit,
    /// The command centre's alarms (`GET /api/alarms`, the live `alarms` layer): whoever watches the
    /// command centre, commanders and admins. Not the auditor: it reads the audit trail and nothing else
    /// (three-role separation), and every acknowledgement is in that trail.
    ReadAlarms,
    /// Acknowledge an alarm (`POST /api/alarms/{id}/acknowledge`): the same people who watch them.
    AcknowledgeAlarms,
    /// The live map at a past moment (回放, `GET /api/replay/state`): the command centre's after-action
    /// review, commanders and admins.
    ReplayMap,
    /// The early warnings in force (研判预警, `GET /api/warnings`, the live `warnings` layer): the
    /// command centre, commanders and admins.
    ReadWarnings,
}

use Role::{Admin, Auditor, Commander, Device, Planner, Reporter, Worker};

impl Permission {
    /// Every permission, for tests and for printing the table.
    pub const ALL: [Self; 35] = [
        Self::ReadMap,
        Self::ReadBuildings,
        Self::EditBuildings,
        Self::CreateRegions,
        Self::ReadWorkers,
        Self::ManageWorkers,
        Self::ReportPositions,
        Self::ReadTracks,
        Self::ReadNearby,
        Self::RaiseAlerts,
        Self::ReportCases,
        Self::ReadCases,
        Self::ActOnCases,
        Self::UploadPhotos,
        Self::ReadPhotos,
        Self::ReadCameras,
        Self::ManageCameras,
        Self::PostCameraAlerts,
        Self::ReadPatrols,
        Self::Patrol,
        Self::ManageCheckpoints,
        Self::ReadKpi,
        Self::ReadCategories,
        Self::EditCategories,
        Self::ReadDepartments,
        Self::ReadPlans,
        Self::ChangeBoundaries,
        Self::WatchLive,
        Self::ManageTokens,
        Self::ManageUsers,
        Self::ReadAudit,
        Self::ReadAlarms,
        Self::AcknowledgeAlarms,
        Self::ReplayMap,
        Self::ReadWarnings,
    ];

    /// The roles that hold this permission: the table itself.
    #[must_use]
    pub const fn roles(self) -> &'static [Role] {
        match self {
            Self::ReadMap
            | Self::ReadBuildings
            | Self::ReadWorkers
            | Self::ReadTracks
            | Self::ReadNearby
            | Self::ReadCameras
            | Self::ReadPatrols
            | Self::WatchLive => &[Admin, Planner, Commander, Worker],
            Self::EditBuildings | Self::CreateRegions | Self::ChangeBoundaries => &[Admin, Planner],
            Self::ManageWorkers
            | Self::RaiseAlerts
            | Self::ManageCheckpoints
            | Self::ReadKpi
            | Self::ReadAlarms
            | Self::AcknowledgeAlarms
            | Self::ReplayMap
            | Self::ReadWarnings => &[Admin, Commander],
            Self::ReportPositions => &[Admin, Commander, Worker, Device],
            Self::ReportCases | Self::UploadPhotos => &[Admin, Commander, Worker, Reporter],
            Self::ReadCases | Self::ReadPhotos | Self::ReadCategories => {
                &[Admin, Planner, Commander, Worker, Reporter]
            }
            Self::ActOnCases | Self::Patrol => &[Admin, Commander, Worker],
            Self::ManageCameras | Self::ReadPlans | Self::ReadDepartments => {
                &[Admin, Planner, Commander]
            }
            Self::PostCameraAlerts => &[Admin, Commander, Reporter],
            Self::EditCategories | Self::ManageTokens | Self::ManageUsers => &[Admin],
            Self::ReadAudit => &[Auditor],
        }
    }

    /// Whether `role` holds this permission.
    #[must_use]
    pub fn granted_to(self, role: Role) -> bool {
        self.roles().contains(&role)
    }
    /// What it allows, as `SECURITY.md`'s table says it.
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Self::ReadMap => "read the map: regions, grids, grid lookup, base map, their tiles",
            Self::ReadBuildings => "read buildings and their household counts",
            Self::EditBuildings => "add a building",
            Self::CreateRegions => "add a district, street or community",
            Self::ReadWorkers => "read workers, their duty and grids",
            Self::ManageWorkers => {
                "create and change workers; another's duty, grids or position; phone numbers"
            }
            Self::ReportPositions => {
                "send position fixes (one's own worker's, unless one manages workers)"
            }
            Self::ReadTracks => "read a worker's track",
            Self::ReadNearby => "find workers and cases near a point",
            Self::RaiseAlerts => "raise an area alert",
            Self::ReportCases => "register a case (REST or Open311)",
            Self::ReadCases => "read cases (a reporter: only its own)",
            Self::ActOnCases => "take workflow actions on cases",
            Self::UploadPhotos => "attach photos to a case one may see",
            Self::ReadPhotos => "fetch the photos of a case one may see",
            Self::ReadCameras => "read cameras and the cameras that see a case",
            Self::ManageCameras => "create, change, import and delete cameras",
            Self::PostCameraAlerts => "post a camera's alert",
            Self::ReadPatrols => "read patrols, checkpoints and patrol coverage",
            Self::Patrol => "start and end patrols (one's own, unless one manages workers)",
            Self::ManageCheckpoints => "create checkpoints",
            Self::ReadKpi => "read the KPI report",
            Self::ReadCategories => "read case categories",
            Self::EditCategories => "change categories and departments",
            Self::ReadDepartments => "read departments",
            Self::ReadPlans => "read boundary plans, diffs and versions",
            Self::ChangeBoundaries => "create, apply and roll back boundary plans",
            Self::WatchLive => "watch the live map (`/ws`)",
            Self::ManageTokens => "mint, list and revoke API tokens",
            Self::ManageUsers => "create, change, disable and reset people's accounts",
            Self::ReadAudit => "read the audit trail",
            Self::ReadAlarms => "read the command centre's alarms (list and live)",
            Self::AcknowledgeAlarms => "acknowledge an alarm",
            Self::ReplayMap => "look back at the live map at a past moment (回放)",
            Self::ReadWarnings => "read the early warnings (研判预警, list and live)",
        }
    }

    /// The role × permission table as Markdown, the form `SECURITY.md` prints.
    #[must_use]
    pub fn table() -> String {
        let mut out = String::from("| may | ");
        let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        out.push_str(&roles.join(" | "));
        out.push_str(" |\n|---|");
        out.push_str(&":---:|".repeat(roles.len()));
        out.push('\n');
        for p in Self::ALL {
            out.push_str("| ");
            out.push_str(p.describe());
            for role in Role::ALL {
                out.push_str(if role.may(p) { " | ✓" } else { " | ·" });
            }
            out.push_str(" |\n");
        }
        out
    }
}

impl Role {
    /// Whether this role holds `permission`.
    #[must_use]
    pub fn may(self, permission: Permission) -> bool {
        permission.granted_to(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_md_prints_this_table() {
        let security = include_str!("../../../SECURITY.md");
        let table = Permission::table();
        assert!(
            security.contains(&table),
            "SECURITY.md's role table is not Permission::table(); print it again:\n{table}"
        );
    }

    #[test]
    fn every_permission_is_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for p in Permission::ALL {
            assert!(seen.insert(p), "{p:?} twice");
        }
    }

    #[test]
    fn separation_of_duties_holds() {
        // The auditor reads the audit trail and nothing else; nobody else reads it, the admin included.
        for p in Permission::ALL {
            assert_eq!(Auditor.may(p), p == Permission::ReadAudit, "{p:?}");
        }
        assert!(!Admin.may(Permission::ReadAudit));
        // A device reports its worker's positions and nothing else.
        for p in Permission::ALL {
            assert_eq!(Device.may(p), p == Permission::ReportPositions, "{p:?}");
        }
        // A reporter holds only what Open311 offers: file and follow its own reports, read categories,
        // attach photos, and (as the video platform's key) post camera alerts.
        let reporter: Vec<_> = Permission::ALL
            .into_iter()
            .filter(|p| Reporter.may(*p))
            .collect();
        assert_eq!(
            reporter,
            [
                Permission::ReportCases,
                Permission::ReadCases,
                Permission::UploadPhotos,
                Permission::ReadPhotos,
                Permission::PostCameraAlerts,
                Permission::ReadCategories,
            ]
        );
        // Only admins mint tokens.
        for role in Role::ALL {
            assert_eq!(
                role.may(Permission::ManageTokens),
                role == Admin,
                "{role:?}"
            );
        }
    }
}
