//! The authoritative game state server.
//!
//! # Main loop
//! [`run`] serves one port until its shutdown token fires:
//! 1. The tick pool ([`room::pool`]) ticks every room at the configured rate on its own threads.
//! 2. The HTTP router ([`http`]) serves the REST lobby API, the SSE spectator feed, the spectator
//!    page, `/healthz`, `/openapi.json` and the `/ws` upgrade. `/metrics` is served on the
//!    operations listener (`--admin-bind`) when there is one, on the public port only with
//!    `--public-metrics`, and otherwise not at all.
//! 3. Each game connection ([`net`]) is one task that feeds the room's inbox with the client's
//!    inputs and writes the frames the room queues for it.
//! 4. A housekeeping task runs the matcher (each pass on a blocking thread); a sweeper task of
//!    its own expires seat reservations and lobbies, so a slow pass never delays it.
//! 5. On shutdown: stop accepting, close every game connection with 1001, end spectator streams,
//!    stop the tick threads, all within `--shutdown-grace`.
//!
//! `main.rs` only parses flags and signals and calls [`run`]; tests call [`serve`], which `run`
//! wraps, with listeners they opened on `127.0.0.1:0`.

pub mod app;
pub mod client_addr;
pub mod cluster;
pub mod config;
pub mod game;
pub mod games;
pub mod http;
pub mod lobby;
pub mod logging;
pub mod metrics;
pub mod net;
pub mod priority;
pub mod rate;
pub mod room;
pub mod shutdown;

use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use app::App;
pub use config::Config;
pub use game::{Game, GameCatalog};

/// Why the server could not run.
#[derive(Debug, Error)]
pub enum ServerError {
    /// The listener's address could not be read.
    #[error("cannot read the listening address: {0}")]
    Addr(#[source] std::io::Error),
    /// Tick threads could not be started.
    #[error("cannot start the tick threads: {0}")]
    TickThreads(#[source] std::io::Error),
    /// A game is broken, or `--mode-game` / `--default-game` names no known game.
    #[error(transparent)]
    Game(#[from] game::GameError),
    /// The cluster store (`--redis`) could not be reached at start.
    #[error("cannot join the cluster: {0}")]
    Cluster(#[from] cluster::ClusterError),
    /// The operations listener (`--admin-bind`) could not be opened.
    #[error("cannot listen on the admin address {addr}: {source}")]
    AdminBind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
}

/// The sockets a server listens on.
#[derive(Debug)]
pub struct Listeners {
    /// The public port: game, REST, SSE, pages, `/healthz`.
    pub public: TcpListener,
    /// The operations port (`/metrics`, `/healthz`), if any.
    pub admin: Option<TcpListener>,
}

/// Shortest connection timeout (the flags refuse less; a `Config` built in code may not).
const MIN_TIMEOUT: Duration = Duration::from_millis(100);
/// How often the matcher runs.
const MATCH_INTERVAL: Duration = Duration::from_millis(100);
/// The mode of the `--demo` room.
const DEMO_MODE: &str = "default";
/// Players the `--demo` room is kept filled to with bots (at most its capacity).
const DEMO_BOTS: u32 = 6;
/// How often reservations, lobbies and rate buckets are swept.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Serves the built-in games on `listener` (and on `--admin-bind` when given) until `shutdown`
/// fires, then shuts down gracefully.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: CancellationToken,
) -> Result<(), ServerError> {
    run_with(listener, config, GameCatalog::builtin(), shutdown).await
}

/// [`run`] with the games of `games` (the built-in ones plus a program's own, for example):
/// `--mode-game` and `--default-game` choose among them.
pub async fn run_with(
    listener: TcpListener,
    config: Config,
    games: GameCatalog,
    shutdown: CancellationToken,
) -> Result<(), ServerError> {
    let admin = match config.admin_bind {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .map_err(|source| ServerError::AdminBind { addr, source })?,
        ),
        None => None,
    };
    let listeners = Listeners {
        public: listener,
        admin,
    };
    serve_with(listeners, config, games, shutdown).await
}

/// Serves on already-open `listeners` until `shutdown` fires, then shuts down gracefully.
/// `/metrics` goes to `listeners.admin` when there is one; otherwise it is on the public port
/// only with `--public-metrics`.
pub async fn serve(
    listeners: Listeners,
    config: Config,
    shutdown: CancellationToken,
) -> Result<(), ServerError> {
    serve_with(listeners, config, GameCatalog::builtin(), shutdown).await
}

/// [`serve`] with the games of `games`.
pub async fn serve_with(
    listeners: Listeners,
    config: Config,
    mut games: GameCatalog,
    shutdown: CancellationToken,
) -> Result<(), ServerError> {
    configure_games(&mut games, &config)?;
    let Listeners {
        public: listener,
        admin,
    } = listeners;
    let local = listener.local_addr().map_err(ServerError::Addr)?;
    let base_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local}"));
    let grace = config.shutdown_grace;
    let cluster = match &config.redis {
        Some(redis) => {
            let cluster =
                cluster::Cluster::connect(redis, base_url.clone(), config.node_lease).await?;
            cluster::lease::register(&cluster).await?;
            Some(Arc::new(cluster))
        }
        None => None,
    };
    let app = App::start_in(config, games, base_url, cluster, shutdown.clone())
        .map_err(ServerError::TickThreads)?;
    let clustering = app.cluster.clone().map(|cluster| {
        tokio::spawn(cluster::rpc::serve(app.clone(), cluster.clone()));
        tokio::spawn(cluster::lease::run(app.clone(), cluster))
    });
    let derive_base = http::public::derived_from_requests(app.config.public_url.as_deref(), local);
    if derive_base {
        tracing::warn!(
            addr = %local,
            trust_proxy = app.config.trust_proxy,
            "bound to an unspecified address without --public-url: seat URLs are built from each \
             request's Host header (Forwarded / X-Forwarded-* only with --trust-proxy); a request \
             without a usable Host gets {base_url}, which remote clients cannot open. Set \
             --public-url to fix the URL",
            base_url = app.base_url,
        );
    }
    if app.config.demo {
        open_demo(&app);
    }
    let public_metrics = admin.is_none() && app.config.public_metrics;
    let (router, _) = http::router(app.clone(), public_metrics, derive_base);
    let housekeeping = tokio::spawn(housekeeping(app.clone()));
    if !public_metrics && admin.is_none() {
        tracing::info!("/metrics is off: give --admin-bind (or --public-metrics) to serve it");
    }
    tracing::info!(addr = %local, tick_rate = app.config.tick_rate, "serving");

    let limits = http::serve::ConnLimits {
        max_connections: app.config.max_connections.max(1),
        per_addr: app.config.max_connections_per_addr,
        upgraded: app.tracker.clone(),
        header_timeout: app.config.header_timeout.max(MIN_TIMEOUT),
        write_timeout: app.config.write_timeout.max(MIN_TIMEOUT),
        send_buffer: app.config.tcp_send_buffer,
    };
    let admin_serving = admin.map(|admin| {
        log_admin(&admin);
        tokio::spawn(http::serve::serve(
            admin,
            http::ops::admin_router(app.clone()),
            shutdown.clone(),
            limits.clone(),
        ))
    });
    let serving = http::serve::serve(listener, router, shutdown.clone(), limits);
    tokio::pin!(serving);
    // Serve until shutdown; then give open requests (and spectator streams) the grace period.
    tokio::select! {
        () = &mut serving => {}
        () = shutdown.cancelled() => {
            if tokio::time::timeout(grace, &mut serving).await.is_err() {
                tracing::warn!("HTTP connections still open after the shutdown grace");
            }
        }
    }

    // Whatever ended serving, everything else ends too.
    shutdown.cancel();
    app.tracker.close();
    if tokio::time::timeout(grace, app.tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            open = app.tracker.len(),
            "connections still open after the shutdown grace"
        );
    }
    housekeeping.abort();
    if let Some(lease) = clustering {
        // It removes this node's lease, so its rooms leave the listings at once.
        let _ = tokio::time::timeout(grace, lease).await;
    }
    if let Some(admin) = admin_serving {
        admin.abort();
    }
    let registry = app.registry.clone();
    let _ = tokio::task::spawn_blocking(move || registry.join()).await;
    tracing::info!("server stopped");
    Ok(())
}

/// Runs the matcher and, in a task of its own so that a slow pass never delays them, the
/// sweepers, until shutdown.
async fn housekeeping(app: Arc<App>) {
    let sweeping = tokio::spawn(sweep(app.clone()));
    let mut matcher = tokio::time::interval(MATCH_INTERVAL);
    matcher.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = app.shutdown.cancelled() => break,
            _ = matcher.tick() => {
                // One matcher in a cluster: the node that holds the matcher lease.
                if app.cluster.as_ref().is_some_and(|c| !c.runs_matcher()) {
                    continue;
                }
                // A pass over tens of thousands of tickets must not hold an async worker.
                let matchmaker = app.matchmaker.clone();
                let runtime = tokio::runtime::Handle::current();
                let _ = tokio::task::spawn_blocking(move || runtime.block_on(matchmaker.run_pass()))
                    .await;
            }
        }
    }
    sweeping.abort();
}

/// Expires seat reservations and lobbies, prunes rate buckets and keeps metrics up to date,
/// every [`SWEEP_INTERVAL`], until shutdown.
async fn sweep(app: Arc<App>) {
    let mut sweeper = tokio::time::interval(SWEEP_INTERVAL);
    loop {
        tokio::select! {
            _ = app.shutdown.cancelled() => return,
            _ = sweeper.tick() => {
                // The sweeps walk whole maps and /proc/self/fd: off the async workers.
                let app = app.clone();
                let swept = tokio::task::spawn_blocking(move || {
                    app.seats.sweep();
                    app.lobbies.sweep();
                    app.api_limiter.prune();
                    app.metrics.upkeep();
                });
                if let Err(e) = swept.await {
                    tracing::error!(error = %e, "a sweep of seats, lobbies and limits failed");
                }
            }
        }
    }
}

/// Applies `--default-game` and `--mode-game` to `games` and builds every game once, so that a
/// broken game or an unknown name stops the server before it listens; says which games get no
/// bots when bots are asked for.
fn configure_games(games: &mut GameCatalog, config: &Config) -> Result<(), game::GameError> {
    games.set_default(&config.default_game)?;
    for (mode, game) in &config.mode_games {
        games.assign(mode, game)?;
    }
    let settings = room::RoomSettings::from_config(config);
    let brainless = games.check_all(&game::RoomInfo {
        room_id: 0,
        mode: "check".to_owned(),
        tick_rate: settings.tick_rate,
        tick: 0,
        bounds: settings.bounds,
        max_speed: settings.max_speed,
        capacity: config.room_capacity,
        interest_radius: settings.interest_radius,
    })?;
    if settings.bots_asked && !brainless.is_empty() {
        tracing::warn!(
            games = %brainless.join(", "),
            "bots were asked for, but these games have no bot brain (GameBuilder::bot_brain): \
             their rooms get no bots"
        );
    }
    Ok(())
}

/// Opens the `--demo` rooms (`--demo-rooms`, one by default): [`DEMO_BOTS`] bots in each, mode
/// [`DEMO_MODE`], open until shutdown.
fn open_demo(app: &App) {
    let mut opened = Vec::new();
    for _ in 0..app.config.demo_rooms {
        match app.registry.open_demo(DEMO_MODE, DEMO_BOTS) {
            Ok(room) => opened.push(room.id),
            Err(e) => {
                tracing::warn!(error = %e, "cannot open a demo room");
                break;
            }
        }
    }
    let first = opened.first().copied();
    tracing::info!(
        rooms = opened.len(),
        first,
        mode = DEMO_MODE,
        fill_to = DEMO_BOTS,
        "demo rooms open, kept filled with bots"
    );
}

/// Says where the operations endpoints are served.
fn log_admin(admin: &TcpListener) {
    match admin.local_addr() {
        Ok(addr) => tracing::info!(%addr, "serving /metrics and /healthz on the admin address"),
        Err(e) => tracing::warn!(error = %e, "cannot read the admin address"),
    }
}
