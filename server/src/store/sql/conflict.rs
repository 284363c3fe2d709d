//! Refused writes: which schema rule a database error broke, and the human message it becomes. The
//! message never carries SQL, table or constraint names. A full disk is `StoreError::Full`; other
//! failures stay `StoreError::Database` with what the store was doing.

use sqlx::error::ErrorKind;

use crate::store::StoreError;

/// The codes of a full disk: `SQLite`'s `SQLITE_FULL` (13, which no extended code refines) and
/// PostgreSQL's SQLSTATE `53100` (`disk_full`). The two never collide: a SQLSTATE has five characters.
const DISK_FULL: [&str; 2] = ["13", "53100"];

/// Schema rules a client can break, each with the message it gets: the `PostgreSQL` constraint name, the
/// columns `SQLite` names in its `UNIQUE constraint failed: …` message, and the human text.
const RULES: &[(&str, &str, &str)] = &[
    (
        "regions_code_key",
        "regions.code",
        "a region with this code already exists",
    ),
    (
        "grids_code_key",
        "grids.code",
        "a grid with this code already exists",
    ),
    (
        "grid_cells_pkey",
        "grid_cells.cell",
        "a cell cannot belong to two grids",
    ),
    (
        "workers_device_hash_key",
        "workers.device_hash",
        "this device is already bound to another worker",
    ),
    (
        "worker_grids_one_primary",
        "worker_grids.grid_id",
        "this grid already has a primary worker",
    ),
    (
        "worker_grids_pkey",
        "worker_grids.worker_id, worker_grids.grid_id",
        "a worker lists the same grid twice",
    ),
    (
        "tokens_token_hash_key",
        "tokens.token_hash",
        "this token already exists",
    ),
    (
        "users_name_key",
        "users.name",
        "a user with this name already exists",
    ),
    (
        "sessions_session_hash_key",
        "sessions.session_hash",
        "this session already exists",
    ),
    (
        "regions_parent_id_fkey",
        "",
        "the parent region does not exist",
    ),
    (
        "grids_community_id_fkey",
        "",
        "the community does not exist",
    ),
    ("grid_cells_grid_id_fkey", "", "the grid does not exist"),
    ("buildings_grid_id_fkey", "", "the grid does not exist"),
    (
        "worker_grids_grid_id_fkey",
        "",
        "a grid duty names a grid that does not exist",
    ),
    (
        "worker_grids_worker_id_fkey",
        "",
        "the worker does not exist",
    ),
    (
        "tokens_worker_id_fkey",
        "",
        "the token's worker does not exist",
    ),
    (
        "users_worker_id_fkey",
        "",
        "the user's worker does not exist",
    ),
];

/// Turns a refused write into a `Conflict` with a human message (never SQL text) and a full disk into
/// `Full`; any other failure stays a `Database` error carrying what the store was `doing`.
pub(crate) fn classify(doing: &'static str, error: sqlx::Error) -> StoreError {
    let sqlx::Error::Database(db) = &error else {
        return StoreError::Database {
            context: doing,
            source: error,
        };
    };
    if db
        .code()
        .is_some_and(|code| DISK_FULL.contains(&code.as_ref()))
    {
        return StoreError::Full {
            context: doing,
            source: error,
        };
    }
    let generic = match db.kind() {
        ErrorKind::UniqueViolation => "a value that must be unique is already taken",
        ErrorKind::ForeignKeyViolation => {
            "it refers to a region, grid or worker that does not exist"
        }
        ErrorKind::CheckViolation => "a value is out of range",
        _ => {
            return StoreError::Database {
                context: doing,
                source: error,
            };
        }
    };
    let sqlite_columns = db.message().strip_prefix("UNIQUE constraint failed: ");
    let known = RULES.iter().find(|(pg, sqlite, _)| {
        db.constraint() == Some(*pg) || (!sqlite.is_empty() && sqlite_columns == Some(*sqlite))
    });
    let message = known.map_or(generic, |(_, _, message)| message);
    StoreError::Conflict(format!("{doing}: {message}"))
}

/// `.context("doing x")` on a sqlx result: the one place database errors become `StoreError`s.
pub(crate) trait Context<T> {
    fn context(self, doing: &'static str) -> Result<T, StoreError>;
}

impl<T> Context<T> for Result<T, sqlx::Error> {
    fn context(self, doing: &'static str) -> Result<T, StoreError> {
        self.map_err(|e| classify(doing, e))
    }
}
