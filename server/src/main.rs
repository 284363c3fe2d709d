//! The `gridwatch` command: parses the CLI and calls the library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

mod cli {
    pub mod users;
}

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use gridwatch::admin::tokens;
use gridwatch::config::{ClusterArgs, HttpArgs, IdentityArgs, StoreArgs, TileArgs, WorldArgs};
use gridwatch::core::Options;
use gridwatch::dispatch::DispatchConfig;
use gridwatch::domain::worker::DeviceId;
use gridwatch::domain::{Role, WorkerId};
use gridwatch::store::Store;
use gridwatch::world::World;
use gridwatch::{Core, ServeConfig, city};

/// Default directory of the embedded store for `serve`, `import`, `token` and `migrate`.
const DEFAULT_DATA_DIR: &str = "data/gridwatch";

#[derive(Debug, Parser)]
#[command(
    name = "gridwatch",
    version,
    about = "Grid-based community management and patrol coordination"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Imports a demo city if the store is empty, then serves it and prints the URL and an admin token.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// The synthetic city to build (default: dongjie).
        #[arg(long, value_enum, conflicts_with = "osm")]
        synthetic: Option<Preset>,
        /// Build the demo from an OpenStreetMap PBF extract instead.
        #[arg(long, value_name = "FILE")]
        osm: Option<PathBuf>,
        /// H3 resolution of the grid cells (10–13).
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u8).range(10..=13))]
        resolution: u8,
        #[command(flatten)]
        store: StoreArgs,
        /// Dispatch settings (working calendar, routing radius, duplicate window), a JSON file.
        #[arg(long, value_name = "FILE")]
        dispatch_config: Option<PathBuf>,
        #[command(flatten)]
        live: LiveArgs,
        #[command(flatten)]
        tiles: TileArgs,
        #[command(flatten)]
        world: WorldArgs,
        #[command(flatten)]
        http: HttpArgs,
        /// Write no audit trail. Only for measuring what the trail costs (BENCHMARKS.md): a deployment
        /// must keep it.
        #[arg(long, env = "GRIDWATCH_NO_AUDIT")]
        no_audit: bool,
        #[command(flatten)]
        identity: IdentityArgs,
        #[command(flatten)]
        cluster: ClusterArgs,
        #[command(flatten)]
        simulation: gridwatch::simulation::Args,
    },
    /// Serves the API from an existing store.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        #[command(flatten)]
        store: StoreArgs,
        /// Dispatch settings (working calendar, routing radius, duplicate window), a JSON file.
        #[arg(long, value_name = "FILE")]
        dispatch_config: Option<PathBuf>,
        #[command(flatten)]
        live: LiveArgs,
        #[command(flatten)]
        tiles: TileArgs,
        #[command(flatten)]
        world: WorldArgs,
        #[command(flatten)]
        http: HttpArgs,
        /// Write no audit trail. Only for measuring what the trail costs (BENCHMARKS.md): a deployment
        /// must keep it.
        #[arg(long, env = "GRIDWATCH_NO_AUDIT")]
        no_audit: bool,
        #[command(flatten)]
        identity: IdentityArgs,
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Runs the store's migrations and exits.
    Migrate {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Imports a city into an empty store.
    Import {
        #[arg(value_enum)]
        format: ImportFormat,
        file: PathBuf,
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u8).range(10..=13))]
        resolution: u8,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Proposes grids for one community with the partitioner and prints the plan's figures; without
    /// `--dry-run`, stores the proposal as a draft plan and prints its id.
    Partition {
        /// The community's region id.
        #[arg(long)]
        community: i64,
        /// Print the figures only; store nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Manages API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manages people's accounts.
    User {
        #[command(subcommand)]
        command: cli::users::UserCommand,
    },
    /// Checks, reads and keeps the audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walks the hash chain from its anchor to its last row; exits 1 naming the first broken row.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Prints rows as CSV, oldest first (default: the last 24 hours).
    List {
        /// Start (inclusive), RFC 3339.
        #[arg(long)]
        from: Option<chrono::DateTime<chrono::Utc>>,
        /// End (exclusive), RFC 3339.
        #[arg(long)]
        to: Option<chrono::DateTime<chrono::Utc>>,
        /// A token's label or a user's name, or its id.
        #[arg(long)]
        actor: Option<String>,
        /// One action: `incident.created`, `http.denied`, …
        #[arg(long)]
        action: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Removes rows older than `--keep-days` (at least 180), after verifying every one of them.
    Prune {
        #[arg(long, default_value_t = gridwatch::admin::audit::MIN_KEEP_DAYS)]
        keep_days: u32,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Preset {
    Dongjie,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ImportFormat {
    Osm,
    Geojson,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Mints a token and prints it alone on stdout.
    Create {
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// `region:<id>` or `grid:<id>`; repeat for several.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// The worker a worker or device token acts for.
        #[arg(long)]
        worker: Option<i64>,
        #[arg(long)]
        label: Option<String>,
        /// Lifetime in days (default 90, or the role's maximum if less).
        #[arg(long)]
        expires_in_days: Option<u32>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Lists tokens (never their secrets), one a line.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revokes a token: a running server refuses it within a second and closes its websockets.
    Revoke {
        /// The token's id (from `gridwatch token list` or `GET /api/tokens`).
        id: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        format!("unknown role {s:?}; one of admin, planner, commander, worker, reporter, device")
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "gridwatch=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    gridwatch::api::install_recorder();
    match Cli::parse().command {
        Command::Demo {
            addr,
            synthetic,
            osm,
            resolution,
            store,
            dispatch_config,
            live,
            tiles,
            world,
            http,
            no_audit,
            identity,
            cluster,
            simulation,
        } => {
            let mut options = options(dispatch_config.as_deref(), &live, tiles, &identity)?;
            options.without_audit = no_audit;
            options.archive_after = Some(world.archive_after());
            options.warnings_every = Some(world.warnings_every());
            options.write_wait = Some(std::time::Duration::from_millis(http.write_wait_ms));
            options.node_id = cluster.node_id;
            options.nats_url = cluster.nats_url;
            let serving = http.serve_config()?;
            let place = (synthetic, osm, resolution);
            demo(addr, place, &store, options, serving, simulation.seed()).await
        }
        Command::Serve {
            addr,
            store,
            dispatch_config,
            live,
            tiles,
            world,
            http,
            no_audit,
            identity,
            cluster,
        } => {
            let mut options = options(dispatch_config.as_deref(), &live, tiles, &identity)?;
            options.without_audit = no_audit;
            options.archive_after = Some(world.archive_after());
            options.warnings_every = Some(world.warnings_every());
            options.write_wait = Some(std::time::Duration::from_millis(http.write_wait_ms));
            options.node_id = cluster.node_id;
            options.nats_url = cluster.nats_url;
            let serving = http.serve_config()?;
            let store = open(&store, DEFAULT_DATA_DIR).await?;
            serve(addr, store, None, options, serving, None).await
        }
        Command::Migrate { store } => {
            let location = store.location(DEFAULT_DATA_DIR);
            location
                .open()
                .await
                .with_context(|| format!("opening {location}"))?;
            eprintln!("migrations applied to {location}");
            Ok(())
        }
        Command::Import {
            format,
            file,
            resolution,
            store,
        } => {
            let store = open(&store, DEFAULT_DATA_DIR).await?;
            let dataset = match format {
                ImportFormat::Osm => gridwatch_geodata::read_osm_pbf(&file)?,
                ImportFormat::Geojson => gridwatch_geodata::read_geojson(&file)?,
            };
            let summary = city::import(&store, &dataset, resolution_of(resolution)?).await?;
            eprintln!("imported {}: {summary}", file.display());
            Ok(())
        }
        Command::Partition {
            community,
            dry_run,
            store,
        } => {
            let store = open(&store, DEFAULT_DATA_DIR).await?;
            partition(store, gridwatch::domain::RegionId(community), dry_run).await
        }
        Command::Token { command } => token_command(command).await,
        Command::User { command } => cli::users::run(command).await,
        Command::Audit { command } => audit_command(command).await,
    }
}

/// `gridwatch audit …`.
async fn audit_command(command: AuditCommand) -> Result<()> {
    use gridwatch::admin::audit::{self, AuditError};
    match command {
        AuditCommand::Verify { store } => {
            let store = open(&store, DEFAULT_DATA_DIR).await?;
            match audit::verify(store.as_ref()).await {
                Ok(v) => {
                    let last = v.last.map_or_else(
                        || "no rows kept".to_owned(),
                        |(seq, at)| format!("rows {} to {seq}, the last at {at}", v.anchor + 1),
                    );
                    println!("the audit trail holds: {} rows verified ({last})", v.rows);
                    Ok(())
                }
                Err(AuditError::Broken(broken)) => {
                    eprintln!("{broken}");
                    std::process::exit(1);
                }
                Err(other) => Err(other.into()),
            }
        }
        AuditCommand::List {
            from,
            to,
            actor,
            action,
            store,
        } => {
            let store = open(&store, DEFAULT_DATA_DIR).await?;
            let to = to.unwrap_or_else(chrono::Utc::now);
            let query = gridwatch::store::AuditQuery {
                from: from.unwrap_or(to - chrono::TimeDelta::hours(24)),
                to,
                actor,
                action,
                after: 0,
                limit: u32::MAX,
            };
            print!(
                "{}",
                gridwatch::audit::csv(&store.find_audit(&query).await?)
            );
            Ok(())
        }
        AuditCommand::Prune { keep_days, store } => {
            let store = open(&store, DEFAULT_DATA_DIR).await?;
            let pruned = audit::prune(store.as_ref(), keep_days, chrono::Utc::now()).await?;
            eprintln!(
                "{} audit rows older than {keep_days} days removed; the chain now starts after row {}",
                pruned.removed, pruned.anchor
            );
            Ok(())
        }
    }
}

/// `gridwatch token …`.
async fn token_command(command: TokenCommand) -> Result<()> {
    match command {
        TokenCommand::Create {
            role,
            scopes,
            worker,
            label,
            expires_in_days,
            store,
        } => {
            let store = open(&store, DEFAULT_DATA_DIR).await?;
            let world = World::from_snapshot(store.snapshot(Some(chrono::Utc::now())).await?);
            let request = tokens::Request {
                role,
                scopes,
                worker: worker.map(WorkerId),
                label,
                expires_in_days,
            };
            let secret = insert_token(&store, &world, request).await?;
            println!("{secret}");
            Ok(())
        }
        TokenCommand::List { store } => {
            let store = open(&store, DEFAULT_DATA_DIR).await?;
            for t in store.tokens().await? {
                let state = match (t.revoked_at, t.expires_at) {
                    (Some(at), _) => format!("revoked {at}"),
                    (None, Some(at)) => format!("expires {at}"),
                    (None, None) => "no expiry (refused)".to_owned(),
                };
                let scopes: Vec<String> = t.scopes.iter().map(ToString::to_string).collect();
                println!(
                    "{}\t{}\t{}\t[{}]\t{}\t{}",
                    t.id,
                    t.prefix.as_deref().unwrap_or("-"),
                    t.role.as_str(),
                    scopes.join(","),
                    t.label.as_deref().unwrap_or(""),
                    state
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { id, store } => {
            let store = open(&store, DEFAULT_DATA_DIR).await?;
            match store
                .revoke_token(gridwatch::domain::TokenId(id), None)
                .await?
            {
                Some(_) => eprintln!("token {id} revoked"),
                None => eprintln!("token {id} was already revoked"),
            }
            Ok(())
        }
    }
}

/// Checks and stores a token minted from the command line (or by the demo), returning its secret.
async fn insert_token(
    store: &Arc<dyn Store>,
    world: &World,
    request: tokens::Request,
) -> Result<String> {
    let new = tokens::checked(world, None, request, chrono::Utc::now())?;
    let (token, secret) = tokens::mint(new);
    store.insert_token(&token).await?;
    Ok(secret)
}

/// `gridwatch partition`: the automatic proposal for one community, its figures, and (unless a dry run)
/// the draft stored through the same path as `POST /api/communities/{id}/plans` with `auto: true`.
async fn partition(
    store: Arc<dyn Store>,
    community: gridwatch::domain::RegionId,
    dry_run: bool,
) -> Result<()> {
    let core = Core::load(store).await?;
    let request = gridwatch::plans::apply::Request {
        grids: None,
        effective_at: None,
        note: Some("gridwatch partition".into()),
    };
    let (plan, report) = {
        let world = core.world();
        let plan = gridwatch::plans::apply::draft(&world, None, community, request.clone())?;
        let report = gridwatch::plans::validate::report(&world, community, &plan.grids);
        (plan, report)
    };
    println!(
        "community {community}: {} grids, {} within 100–150 households ({:.1}%; {:.1}% of those that can be)",
        report.grids,
        report.in_range,
        report.share_in_range * 100.0,
        report.share_in_range_of_possible * 100.0
    );
    println!(
        "Polsby–Popper: mean {:.3}, min {:.3}",
        report.polsby_popper_mean, report.polsby_popper_min
    );
    for grid in report.per_grid.iter().filter(|g| g.reason.is_some()) {
        let reason = grid
            .reason
            .map(gridwatch::plans::validate::reason_json)
            .unwrap_or_default();
        println!("  {} {} households: {reason}", grid.code, grid.households);
    }
    let new = plan.grids.iter().filter(|g| g.new).count();
    println!(
        "{} grids keep their code, {new} are new",
        plan.grids.len() - new
    );
    if !dry_run {
        let record = gridwatch::plans::apply::create(&core, None, community, request).await?;
        println!("plan {} stored as a draft", record.id);
    }
    Ok(())
}

/// The core's options: the dispatch settings from `file` (validated), or the defaults.
fn options(
    file: Option<&std::path::Path>,
    live: &LiveArgs,
    tiles: TileArgs,
    identity: &IdentityArgs,
) -> Result<Options> {
    let dispatch = match file {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let config: DispatchConfig = serde_json::from_str(&text)
                .with_context(|| format!("parsing {}", file.display()))?;
            config
                .validate()
                .with_context(|| format!("checking {}", file.display()))?;
            config
        }
        None => DispatchConfig::default(),
    };
    let live = gridwatch::live::LiveConfig {
        queue: live.ws_queue,
        queue_bytes: live.ws_queue_bytes,
        total_bytes: live.ws_total_bytes,
        max_connections: live.ws_max_connections,
        snapshot_chunk: live.ws_snapshot_chunk_bytes,
        ping: std::time::Duration::from_millis(live.ws_ping_ms),
        send_buffer: live.socket_send_buffer,
        control_rate: live.ws_control_rate,
    };
    // Group commit's limit, for comparing against one transaction a report (`1`) in the load benchmark.
    let intake_batch_max = match std::env::var("GRIDWATCH_INTAKE_BATCH_MAX") {
        Ok(v) => Some(
            v.parse::<usize>()
                .with_context(|| format!("GRIDWATCH_INTAKE_BATCH_MAX={v:?}"))?,
        ),
        Err(_) => None,
    };
    Ok(Options {
        dispatch,
        live,
        intake_batch_max,
        tile_cache_bytes: Some(tiles.bytes()),
        identity: identity.policy()?,
        ..Options::default()
    })
}

/// Websocket settings.
#[derive(Debug, clap::Args)]
struct LiveArgs {
    /// Events a websocket subscriber may have queued before it is told to resync.
    #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(usize))]
    ws_queue: usize,
    /// Bytes of events a websocket subscriber may have queued before it is told to resync.
    #[arg(long, env = "GRIDWATCH_WS_QUEUE_BYTES", default_value_t = 4 << 20, value_parser = clap::value_parser!(usize))]
    ws_queue_bytes: usize,
    /// Bytes of events queued to every websocket subscriber together; past it, the subscriber whose
    /// event would pass it is told to resync.
    #[arg(long, env = "GRIDWATCH_WS_TOTAL_BYTES", default_value_t = 256 << 20, value_parser = clap::value_parser!(usize))]
    ws_total_bytes: usize,
    /// Websocket connections open at once; past it an upgrade is answered 503 with Retry-After.
    #[arg(long, env = "GRIDWATCH_WS_MAX_CONNECTIONS", default_value_t = 10_000, value_parser = clap::value_parser!(usize))]
    ws_max_connections: usize,
    /// A snapshot is sent in parts of about this many bytes (at least one case or worker a part).
    #[arg(long, env = "GRIDWATCH_WS_SNAPSHOT_CHUNK_BYTES", default_value_t = 256 << 10, value_parser = clap::value_parser!(usize))]
    ws_snapshot_chunk_bytes: usize,
    /// Milliseconds between pings; a connection silent for two intervals is closed.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(100..=600_000))]
    ws_ping_ms: u64,
    /// Caps each connection's kernel send buffer, in bytes (default: the kernel's autotuning, up to
    /// `net.ipv4.tcp_wmem`'s maximum).
    #[arg(long, value_parser = clap::value_parser!(usize))]
    socket_send_buffer: Option<usize>,
    /// Messages a websocket client may send other than positions (`subscribe`, `resume`, `ping`, …),
    /// as `<count>/s`, `/min`, `/h` or `off`; over it a message is answered with an error and ignored.
    #[arg(
        long,
        env = "GRIDWATCH_WS_CONTROL_RATE",
        default_value = "10/s",
        value_name = "RATE"
    )]
    ws_control_rate: gridwatch::throttle::Rate,
}

fn resolution_of(value: u8) -> Result<h3o::Resolution> {
    h3o::Resolution::try_from(value).with_context(|| format!("resolution {value}"))
}

async fn open(args: &StoreArgs, default_dir: &str) -> Result<Arc<dyn Store>> {
    let location = args.location(default_dir);
    location
        .open()
        .await
        .with_context(|| format!("opening {location}"))
}

async fn demo(
    addr: SocketAddr,
    (synthetic, osm, resolution): (Option<Preset>, Option<PathBuf>, u8),
    args: &StoreArgs,
    options: Options,
    serving: ServeConfig,
    simulation_seed: Option<u64>,
) -> Result<()> {
    let default_dir = match &osm {
        Some(file) => format!(
            "data/demo-{}",
            file.file_stem().and_then(|s| s.to_str()).unwrap_or("osm")
        ),
        None => "data/demo-dongjie".to_owned(),
    };
    let store = open(args, &default_dir).await?;
    store.set_audited(!options.without_audit);
    if store
        .snapshot(Some(chrono::Utc::now()))
        .await?
        .grids
        .is_empty()
    {
        let dataset = match (&osm, synthetic) {
            (Some(file), _) => gridwatch_geodata::read_osm_pbf(file)?,
            (None, Some(Preset::Dongjie) | None) => {
                gridwatch_geodata::synthetic_city(gridwatch_geodata::Preset::Dongjie, 1)
            }
        };
        eprintln!("importing the demo city {:?}…", dataset.name);
        let summary = city::import(&store, &dataset, resolution_of(resolution)?).await?;
        let workers = city::seed_demo_workers(&store).await?;
        eprintln!("imported: {summary}; {workers} grid workers on duty");
    }
    let world = World::from_snapshot(store.snapshot(Some(chrono::Utc::now())).await?);
    let admin = tokens::Request {
        role: Role::Admin,
        scopes: Vec::new(),
        worker: None,
        label: Some("demo admin".into()),
        expires_in_days: None,
    };
    let secret = insert_token(&store, &world, admin).await?;
    serve(addr, store, Some(secret), options, serving, simulation_seed).await
}

async fn serve(
    addr: SocketAddr,
    store: Arc<dyn Store>,
    admin_token: Option<String>,
    options: Options,
    serving: ServeConfig,
    simulation_seed: Option<u64>,
) -> Result<()> {
    let core = Core::load_with(store, options).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr()?;
    let scheme = if serving.transport.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let local = format!("{scheme}://{local}");
    {
        let world = core.world();
        println!(
            "gridwatch is up at {local}/  ({} grids, store: {:?})",
            world.grids().count(),
            core.store().kind()
        );
    }
    let limits = &serving.limits;
    tracing::info!(
        max_connections = serving.transport.max_connections,
        header_read_timeout = ?serving.transport.header_read_timeout,
        request_timeout = ?limits.request_timeout,
        open311 = %limits.open311,
        photos = %limits.photos,
        positions = %limits.positions,
        "serving"
    );
    let simulation = simulation_seed.map(|seed| gridwatch::simulation::Settings {
        seed,
        admin_token: admin_token.clone(),
    });
    if let Some(token) = admin_token {
        let people = cli::users::demo_people(&core).await?;
        cli::users::print_demo_people(&local, &people);
        // A machine's token, for scripts and curl; people sign in with the names above.
        println!("admin token: {token}");
        if let Some((name, device, (lat, lon))) = demo_tracker(&core).await? {
            println!(
                "tracker:        {local}/osmand?id={}&lat={lat}&lon={lon}  ({name}; OsmAnd / Traccar Client: server {local}/osmand, device id {})",
                device.as_str(),
                device.as_str()
            );
        }
        if let Some(settings) = &simulation {
            println!(
                "simulation: on (seed {}; `--no-simulation` keeps the city still)",
                settings.seed
            );
        }
        println!("try: curl -H 'Authorization: Bearer {token}' '{local}/api/grids'");
    }
    // Returns once a shutdown signal was handled gracefully (`gridwatch::serve`): exit status 0. The
    // demo's simulation runs beside the services and ends as the connections close.
    let which = gridwatch::services::Which::ALL;
    gridwatch::serve_beside(
        listener,
        core,
        serving,
        which,
        shutdown_signal(),
        |state| async move {
            if let Some(settings) = simulation {
                gridwatch::simulation::run(state, settings).await;
            }
        },
    )
    .await?;
    Ok(())
}

/// Binds a new tracker to the demo's first grid worker with a grid
/// and returns its device id, shown only here, and a point in the worker's grid to send. A device id is
/// kept only as its hash, so each start binds a new one (the previous stops working).
async fn demo_tracker(core: &Core) -> Result<Option<(String, DeviceId, (f64, f64))>> {
    let worker = {
        let world = core.world();
        world
            .workers()
            .filter(|w| !w.grids.is_empty())
            .min_by_key(|w| w.id)
            .and_then(|w| {
                let grid = world.grid(w.grids[0].grid_id)?;
                let centre = h3o::LatLng::from(*grid.cells.first()?);
                Some((w.id, w.name.clone(), (centre.lat(), centre.lng())))
            })
    };
    let Some((id, name, place)) = worker else {
        return Ok(None);
    };
    let device = DeviceId::new();
    let hash = device.hash();
    gridwatch::admin::workers::change_as_operator(core, id, move |_, worker| {
        worker.device_hash = Some(hash);
        Ok(())
    })
    .await?;
    Ok(Some((name, device, place)))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = terminate => {} }
    tracing::info!("shutting down");
}
