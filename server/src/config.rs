//! Command-line configuration shared by the subcommands: which store to use, the tile cache, how
//! the server meets its clients (`HttpArgs`: timeouts, connection cap, TLS, rate limits), identity rules.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::store::{self, Store, StoreError};
use crate::throttle::Rate;
use crate::transport::tls::TlsError;

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

/// Several nodes on one database (README, "Running several nodes").
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ClusterArgs {
    /// This node's name, in `/health`, `/ready`, the logs and NATS; defaults to the host name and the
    /// process id.
    #[arg(long, env = "GRIDWATCH_NODE_ID", value_name = "NAME", value_parser = node_id)]
    pub node_id: Option<String>,
    /// The NATS server (`nats://host:4222`) positions travel between nodes through; without it a
    /// node's websocket clients see only the positions reported through that node.
    #[arg(long, env = "GRIDWATCH_NATS_URL", value_name = "URL", value_parser = nats_url)]
    pub nats_url: Option<String>,
}

/// A node's name: 1 to 64 letters, digits, `-`, `_` or `.`.
fn node_id(name: &str) -> Result<String, String> {
    let fits = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if fits {
        Ok(name.to_owned())
    } else {
        Err("1 to 64 letters, digits, '-', '_' or '.'".to_owned())
    }
}

/// A NATS address the client can use.
fn nats_url(url: &str) -> Result<String, String> {
    url.parse::<async_nats::ServerAddr>()
        .map(|_| url.to_owned())
        .map_err(|e| e.to_string())
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

/// What the in-memory world keeps, and how often it looks for trouble building up.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct WorldArgs {
    /// Seconds between two evaluations of the early warnings (研判预警, `crate::warnings`), on the
    /// node holding the escalation lease. Default: 5 minutes, as the detector was measured.
    #[arg(long, env = "GRIDWATCH_WARNINGS_EVERY_S", default_value_t = 300, value_name = "S",
        value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub warnings_every_s: u64,
    /// Seconds a finished case (closed, cancelled or merged) stays in memory after its last change;
    /// after that only the store holds it and reads of history ask the store. Default: 7 days.
    #[arg(long, env = "GRIDWATCH_ARCHIVE_AFTER_S", default_value_t = 604_800, value_name = "S",
        value_parser = clap::value_parser!(u64).range(1..=3_153_600_000))]
    pub archive_after_s: u64,
}

impl WorldArgs {
    /// The evaluation interval of the early warnings.
    #[must_use]
    pub fn warnings_every(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.warnings_every_s)
    }

    /// The window as the core takes it.
    #[must_use]
    pub fn archive_after(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::seconds(i64::try_from(self.archive_after_s).unwrap_or(i64::MAX / 1000))
    }
}

/// How the server meets its clients (`serve` and `demo`): connections, TLS, request deadlines and the
/// rate limits of public writes and position endpoints.
#[derive(Debug, Clone, clap::Args)]
pub struct HttpArgs {
    /// Milliseconds a connection may go without a request in flight — sending its request head,
    /// completing its TLS handshake, or idle between keep-alive requests — before it is closed.
    #[arg(long, default_value_t = 10_000, value_name = "MS",
        value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub header_read_timeout_ms: u64,
    /// Milliseconds a request may take from its complete head to its response (its body and the work
    /// for it; not `/ws`, not the download of the response) before it is answered 408.
    #[arg(long, default_value_t = 30_000, value_name = "MS",
        value_parser = clap::value_parser!(u64).range(100..=3_600_000))]
    pub request_timeout_ms: u64,
    /// The same for photo uploads (`POST /api/incidents/{id}/photos`).
    #[arg(long, default_value_t = 300_000, value_name = "MS",
        value_parser = clap::value_parser!(u64).range(100..=3_600_000))]
    pub upload_timeout_ms: u64,
    /// Milliseconds a write may wait for the store (the writer lock, then a database connection)
    /// before it is refused with a 503 and `Retry-After`, instead of queueing behind a slow or
    /// unreachable database.
    #[arg(long, env = "GRIDWATCH_WRITE_WAIT_MS", default_value_t = 5_000, value_name = "MS",
        value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub write_wait_ms: u64,
    /// Most connections open at once, websockets included (default: the open-file limit less 128).
    /// At the cap a new connection takes the place of the one idle longest; when every one is busy it
    /// is refused with a 503.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: Option<u64>,
    /// Serve HTTPS (and `wss:`) with this certificate chain (PEM, leaf first); needs `--tls-key`.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of `--tls-cert` (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    #[command(flatten)]
    pub rates: RateArgs,
}

/// Rate limits per client address, each `<count>/s`, `<count>/min`, `<count>/h` or `off`: a client may
/// spend the whole count at once, then one request each period / count; over it, 429 with
/// `Retry-After`. The variables let a test or a load run raise them without a flag.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct RateArgs {
    /// Open311 requests filed (`POST /open311/v2/requests.json`).
    #[arg(
        long,
        env = "GRIDWATCH_RATE_OPEN311",
        default_value = "30/min",
        value_name = "RATE"
    )]
    pub rate_open311: Rate,
    /// Photo uploads (`POST /api/incidents/{id}/photos`).
    #[arg(
        long,
        env = "GRIDWATCH_RATE_PHOTOS",
        default_value = "20/min",
        value_name = "RATE"
    )]
    pub rate_photos: Rate,
    /// Position reports (`POST /api/positions`, `/osmand`); a batch is one.
    #[arg(
        long,
        env = "GRIDWATCH_RATE_POSITIONS",
        default_value = "1200/min",
        value_name = "RATE"
    )]
    pub rate_positions: Rate,
}

impl HttpArgs {
    /// The server's settings; reads the TLS files if given.
    pub fn serve_config(&self) -> Result<crate::ServeConfig, TlsError> {
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(crate::transport::tls::acceptor(cert, key)?),
            _ => None,
        };
        let transport = crate::transport::Settings {
            header_read_timeout: Duration::from_millis(self.header_read_timeout_ms),
            max_connections: self
                .max_connections
                .map_or_else(crate::transport::default_max_connections, |n| {
                    usize::try_from(n).unwrap_or(usize::MAX)
                }),
            tls,
            send_buffer: None,
        };
        let limits = crate::api::Limits {
            request_timeout: Duration::from_millis(self.request_timeout_ms),
            upload_timeout: Duration::from_millis(self.upload_timeout_ms),
            open311: self.rates.rate_open311,
            photos: self.rates.rate_photos,
            positions: self.rates.rate_positions,
        };
        Ok(crate::ServeConfig { transport, limits })
    }
}

/// The identity rules (`identity::Policy`): passwords, lockout, session timeouts, TOTP. The defaults
/// are GB/T 22239-2019 level 3's; each can be set by a flag or its `GRIDWATCH_…` variable.
#[derive(Debug, Clone, clap::Args)]
pub struct IdentityArgs {
    /// Fewest characters in a password.
    #[arg(long, env = "GRIDWATCH_PASSWORD_MIN_CHARS", default_value_t = 8,
        value_parser = clap::value_parser!(u16).range(8..=128))]
    pub password_min_chars: u16,
    /// Fewest of the four classes (lower case, upper case, digits, others) a password draws from.
    #[arg(long, env = "GRIDWATCH_PASSWORD_MIN_CLASSES", default_value_t = 3,
        value_parser = clap::value_parser!(u8).range(1..=4))]
    pub password_min_classes: u8,
    /// Failed sign-ins that lock an account.
    #[arg(long, env = "GRIDWATCH_LOCKOUT_FAILURES", default_value_t = 5,
        value_parser = clap::value_parser!(u32).range(1..=100))]
    pub lockout_failures: u32,
    /// Failed sign-ins from one client address, on any names, that refuse the address for the lockout.
    #[arg(long, env = "GRIDWATCH_ADDRESS_LOCKOUT_FAILURES", default_value_t = 5,
        value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub address_lockout_failures: u32,
    /// Seconds a lockout lasts.
    #[arg(long, env = "GRIDWATCH_LOCKOUT_S", default_value_t = 900,
        value_parser = clap::value_parser!(u32).range(1..=86_400))]
    pub lockout_s: u32,
    /// Seconds without a request after which a session ends.
    #[arg(long, env = "GRIDWATCH_SESSION_IDLE_S", default_value_t = 1800,
        value_parser = clap::value_parser!(u32).range(1..=86_400))]
    pub session_idle_s: u32,
    /// Seconds after sign-in at which a session ends, however busy.
    #[arg(long, env = "GRIDWATCH_SESSION_ABSOLUTE_S", default_value_t = 43_200,
        value_parser = clap::value_parser!(u32).range(1..=604_800))]
    pub session_absolute_s: u32,
    /// Roles that must give a TOTP code at sign-in, comma-separated (`none` for none).
    #[arg(long, env = "GRIDWATCH_TOTP_ROLES", default_value = "admin,auditor")]
    pub totp_roles: String,
}

impl Default for IdentityArgs {
    fn default() -> Self {
        Self {
            password_min_chars: 8,
            password_min_classes: 3,
            lockout_failures: 5,
            address_lockout_failures: 5,
            lockout_s: 900,
            session_idle_s: 1800,
            session_absolute_s: 43_200,
            totp_roles: "admin,auditor".into(),
        }
    }
}

/// A role in `--totp-roles` that is not a person's role.
#[derive(Debug, thiserror::Error)]
#[error("--totp-roles: {0:?} is not a person's role (admin, planner, commander, worker, auditor)")]
pub struct BadTotpRole(pub String);

impl IdentityArgs {
    /// The policy these flags describe.
    pub fn policy(&self) -> Result<crate::identity::Policy, BadTotpRole> {
        let mut totp_roles = Vec::new();
        for name in self.totp_roles.split(',').map(str::trim) {
            if name.is_empty() || name == "none" {
                continue;
            }
            let role = crate::domain::Role::parse(name)
                .filter(|r| crate::domain::user::is_person_role(*r))
                .ok_or_else(|| BadTotpRole(name.to_owned()))?;
            totp_roles.push(role);
        }
        Ok(crate::identity::Policy {
            passwords: crate::identity::Rules {
                min_chars: usize::from(self.password_min_chars),
                min_classes: usize::from(self.password_min_classes),
            },
            max_failures: self.lockout_failures,
            address_max_failures: self.address_lockout_failures,
            lockout: chrono::TimeDelta::seconds(i64::from(self.lockout_s)),
            idle_timeout: chrono::TimeDelta::seconds(i64::from(self.session_idle_s)),
            absolute_timeout: chrono::TimeDelta::seconds(i64::from(self.session_absolute_s)),
            totp_roles,
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        http: HttpArgs,
    }

    #[test]
    fn the_flags_default_to_the_library_defaults() {
        let cli = Cli::try_parse_from(["gridwatch"]).unwrap();
        let config = cli.http.serve_config().unwrap();
        let defaults = crate::ServeConfig::default();
        // The variables of a test run may raise the rates; the rest must agree.
        assert_eq!(
            config.limits.request_timeout,
            defaults.limits.request_timeout
        );
        assert_eq!(config.limits.upload_timeout, defaults.limits.upload_timeout);
        assert_eq!(
            config.transport.header_read_timeout,
            defaults.transport.header_read_timeout
        );
        assert_eq!(
            config.transport.max_connections,
            defaults.transport.max_connections
        );
        assert!(config.transport.tls.is_none());
        if std::env::var_os("GRIDWATCH_RATE_OPEN311").is_none() {
            assert_eq!(config.limits.open311, defaults.limits.open311);
        }
        if std::env::var_os("GRIDWATCH_RATE_POSITIONS").is_none() {
            assert_eq!(config.limits.positions, defaults.limits.positions);
        }
        if std::env::var_os("GRIDWATCH_RATE_PHOTOS").is_none() {
            assert_eq!(config.limits.photos, defaults.limits.photos);
        }
    }

    #[test]
    fn a_cert_needs_its_key_and_rates_are_checked() {
        assert!(Cli::try_parse_from(["gridwatch", "--tls-cert", "c.pem"]).is_err());
        assert!(Cli::try_parse_from(["gridwatch", "--rate-open311", "lots"]).is_err());
        let cli = Cli::try_parse_from([
            "gridwatch",
            "--rate-photos",
            "off",
            "--max-connections",
            "5",
        ])
        .unwrap();
        let config = cli.http.serve_config().unwrap();
        assert_eq!(config.limits.photos, Rate::Off);
        assert_eq!(config.transport.max_connections, 5);
    }

    #[test]
    fn the_default_flags_are_the_default_policy() {
        let policy = IdentityArgs::default().policy().expect("valid");
        let default = crate::identity::Policy::default();
        assert_eq!(policy.passwords, default.passwords);
        assert_eq!(policy.max_failures, default.max_failures);
        assert_eq!(policy.address_max_failures, default.address_max_failures);
        assert_eq!(policy.lockout, default.lockout);
        assert_eq!(policy.idle_timeout, default.idle_timeout);
        assert_eq!(policy.absolute_timeout, default.absolute_timeout);
        assert_eq!(policy.totp_roles, default.totp_roles);
        let args = IdentityArgs {
            totp_roles: "reporter".into(),
            ..IdentityArgs::default()
        };
        assert!(
            args.policy().is_err(),
            "a machine's role signs in with no code"
        );
    }

    #[test]
    fn a_node_name_and_a_nats_address_are_checked() {
        assert_eq!(node_id("node-1.a_b").as_deref(), Ok("node-1.a_b"));
        for bad in ["", "node 1", "节点", &"n".repeat(65)] {
            assert!(node_id(bad).is_err(), "{bad:?} was taken as a node name");
        }
        assert_eq!(
            nats_url("nats://127.0.0.1:4222").as_deref(),
            Ok("nats://127.0.0.1:4222")
        );
        for bad in ["http://127.0.0.1:4222", "nats://[::1", "nats://host:port"] {
            assert!(
                nats_url(bad).is_err(),
                "{bad:?} was taken as a NATS address"
            );
        }
    }
}
