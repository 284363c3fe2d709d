//! Command-line configuration shared by every subcommand: which store to use.

use std::path::PathBuf;
use std::sync::Arc;

use crate::store::{self, Store, StoreError};

/// Where the store lives: `--database-url` wins, then `--data-dir`, then `DATABASE_URL`, then the
/// subcommand's default data directory.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StoreArgs {
    /// Directory of the embedded SQLite store (created if missing).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` (PostgreSQL + PostGIS) or `sqlite://…`; defaults to the `DATABASE_URL` variable.
    #[arg(long, value_name = "URL", conflicts_with = "data_dir")]
    pub database_url: Option<String>,
}

/// A resolved store location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    Dir(PathBuf),
    Url(String),
}

impl StoreArgs {
    /// Resolves the location, falling back to `default_dir`.
    #[must_use]
    pub fn location(&self, default_dir: &str) -> StoreLocation {
        if let Some(url) = &self.database_url {
            return StoreLocation::Url(url.clone());
        }
        if let Some(dir) = &self.data_dir {
            return StoreLocation::Dir(dir.clone());
        }
        match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => StoreLocation::Url(url),
            _ => StoreLocation::Dir(PathBuf::from(default_dir)),
        }
    }
}

impl StoreLocation {
    /// Opens the store and runs its migrations.
    pub async fn open(&self) -> Result<Arc<dyn Store>, StoreError> {
        match self {
            Self::Dir(dir) => Ok(Arc::new(store::sqlite::SqliteStore::open_dir(dir).await?)),
            Self::Url(url) => store::open(url).await,
        }
    }
}

impl std::fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Dir(dir) => write!(f, "SQLite in {}", dir.display()),
            Self::Url(url) => f.write_str(&store::redact(url)),
        }
    }
}

/// Vector tile settings (`/tiles`).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct TileArgs {
    /// Budget of the encoded-tile cache in MiB (least recently used tiles go first); 0 turns it off.
    #[arg(long, default_value_t = 64, value_name = "MIB")]
    pub tile_cache_mib: usize,
}

impl TileArgs {
    /// The budget in bytes.
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.tile_cache_mib.saturating_mul(1024 * 1024)
    }
}
