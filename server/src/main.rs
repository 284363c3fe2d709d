//! The `gridwatch` command: parses the CLI and calls the library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use gridwatch::admin::tokens::{checked_scopes, new_token};
use gridwatch::auth::{hash_secret, new_secret};
use gridwatch::config::{StoreArgs, TileArgs};
use gridwatch::core::Options;
use gridwatch::dispatch::DispatchConfig;
use gridwatch::domain::{Role, WorkerId};
use gridwatch::store::Store;
use gridwatch::world::World;
use gridwatch::{Core, city};

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
        } => {
            let options = options(dispatch_config.as_deref(), &live, tiles)?;
            demo(addr, synthetic, osm, resolution, &store, options).await
        }
        Command::Serve {
            addr,
            store,
            dispatch_config,
            live,
            tiles,
        } => {
            let options = options(dispatch_config.as_deref(), &live, tiles)?;
            let store = open(&store, DEFAULT_DATA_DIR).await?;
            serve(addr, store, None, options).await
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
        Command::Token {
            command:
                TokenCommand::Create {
                    role,
                    scopes,
                    worker,
                    label,
                    store,
                },
        } => {
            let store = open(&store, DEFAULT_DATA_DIR).await?;
            let world = World::from_snapshot(store.snapshot().await?);
            let scopes = checked_scopes(&world, &scopes)?;
            let token = new_token(&world, role, scopes, worker.map(WorkerId), label)?;
            let secret = new_secret();
            store
                .insert_token(&gridwatch::store::NewToken {
                    hash: hash_secret(&secret),
                    ..token
                })
                .await?;
            println!("{secret}");
            Ok(())
        }
    }
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
fn options(file: Option<&std::path::Path>, live: &LiveArgs, tiles: TileArgs) -> Result<Options> {
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
        ping: std::time::Duration::from_millis(live.ws_ping_ms),
        send_buffer: live.socket_send_buffer,
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
        ..Options::default()
    })
}

/// Websocket settings.
#[derive(Debug, clap::Args)]
struct LiveArgs {
    /// Events a websocket subscriber may have queued before it is told to resync.
    #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(usize))]
    ws_queue: usize,
    /// Milliseconds between pings; a connection silent for two intervals is closed.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(100..=600_000))]
    ws_ping_ms: u64,
    /// Caps each connection's kernel send buffer, in bytes (default: the kernel's autotuning, up to
    /// `net.ipv4.tcp_wmem`'s maximum).
    #[arg(long, value_parser = clap::value_parser!(usize))]
    socket_send_buffer: Option<usize>,
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
    synthetic: Option<Preset>,
    osm: Option<PathBuf>,
    resolution: u8,
    args: &StoreArgs,
    options: Options,
) -> Result<()> {
    let default_dir = match &osm {
        Some(file) => format!(
            "data/demo-{}",
            file.file_stem().and_then(|s| s.to_str()).unwrap_or("osm")
        ),
        None => "data/demo-dongjie".to_owned(),
    };
    let store = open(args, &default_dir).await?;
    if store.snapshot().await?.grids.is_empty() {
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
    let secret = new_secret();
    store
        .insert_token(&gridwatch::store::NewToken {
            hash: hash_secret(&secret),
            role: Role::Admin,
            scopes: Vec::new(),
            worker: None,
            label: Some("demo admin".into()),
        })
        .await?;
    serve(addr, store, Some(secret), options).await
}

async fn serve(
    addr: SocketAddr,
    store: Arc<dyn Store>,
    admin_token: Option<String>,
    options: Options,
) -> Result<()> {
    let core = Core::load_with(store, options).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr()?;
    {
        let world = core.world();
        println!(
            "gridwatch is up at http://{local}/  ({} grids, store: {:?})",
            world.grids().count(),
            core.store().kind()
        );
    }
    if let Some(token) = admin_token {
        println!("admin token: {token}");
        println!("command centre: http://{local}/?token={token}");
        println!("planner:        http://{local}/planner?token={token}");
        if let Some((name, worker_token)) = demo_worker_token(&core).await? {
            println!("grid worker:    http://{local}/worker?token={worker_token}  ({name})");
        }
        println!("try: curl -H 'Authorization: Bearer {token}' 'http://{local}/api/grids'");
    }
    // Returns once a shutdown signal was handled gracefully (`gridwatch::serve`): exit status 0.
    gridwatch::serve(listener, core, shutdown_signal()).await?;
    Ok(())
}

/// A token for the demo's first grid worker with a grid, so the worker view can be tried at once.
async fn demo_worker_token(core: &Core) -> Result<Option<(String, String)>> {
    let worker = {
        let world = core.world();
        world
            .workers()
            .filter(|w| !w.grids.is_empty())
            .min_by_key(|w| w.id)
            .map(|w| (w.id, w.name.clone()))
    };
    let Some((id, name)) = worker else {
        return Ok(None);
    };
    let secret = new_secret();
    core.store()
        .insert_token(&gridwatch::store::NewToken {
            hash: hash_secret(&secret),
            role: Role::Worker,
            scopes: Vec::new(),
            worker: Some(id),
            label: Some(format!("demo worker {name}")),
        })
        .await?;
    Ok(Some((name, secret)))
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
