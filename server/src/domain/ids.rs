//! Typed identifiers, so a grid id can never be passed where a worker id is wanted.
//!
//! Each is the store's row id (a 64-bit integer) and serialises as a bare number.

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A district, street or community.
    RegionId
);
id_type!(
    /// A grid (网格).
    GridId
);
id_type!(
    /// A building (楼栋).
    BuildingId
);
id_type!(
    /// A worker (网格员, 巡防员, department staff).
    WorkerId
);
id_type!(
    /// An API token.
    TokenId
);
id_type!(
    /// A person's account (issue 18): signs in with a name and a password.
    UserId
);
id_type!(
    /// A signed-in session of a user.
    SessionId
);
id_type!(
    /// A patrol (巡逻): one worker's shift on the move.
    PatrolId
);
id_type!(
    /// A checkpoint (巡查点) a patrol checks in at.
    CheckpointId
);
id_type!(
    /// A camera (视频监控点).
    CameraId
);
