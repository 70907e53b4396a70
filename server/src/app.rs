//! [`App`]: the state every handler and connection shares.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cluster::Cluster;
use crate::cluster::caps::RedisCaps;
use crate::cluster::keys;
use crate::cluster::seats::SharedSeats;
use crate::cluster::store::RedisStore;
use crate::config::Config;
use crate::game::GameCatalog;
use crate::http::limit::AddrLimiter;
use crate::lobby::caps::{Caps, Slots};
use crate::lobby::lobbies::{Lobbies, Lobby, LobbyLimits};
use crate::lobby::modes::ModeSet;
use crate::lobby::seats::SeatBook;
use crate::lobby::store::{Backend, MemoryStore};
use crate::lobby::tickets::{MatchRules, Matchmaker, Ticket};
use crate::metrics::{Gauges, Metrics};
use crate::room::RoomRegistry;

/// Shared server state.
#[derive(Debug)]
pub struct App {
    /// The configuration.
    pub config: Config,
    /// Public base URL, e.g. `http://127.0.0.1:8080`.
    pub base_url: String,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Open rooms.
    pub registry: Arc<RoomRegistry>,
    /// Seat reservations.
    pub seats: Arc<SeatBook>,
    /// Quick-match tickets.
    pub matchmaker: Arc<Matchmaker>,
    /// Lobbies.
    pub lobbies: Arc<Lobbies>,
    /// Fired once to shut everything down.
    pub shutdown: CancellationToken,
    /// Upgraded game connections still running (spectator streams are HTTP responses and are
    /// not tracked here).
    pub tracker: TaskTracker,
    /// Spectator streams admitted and not yet dropped, on the whole server.
    pub spectators: AtomicUsize,
    /// Per-client REST rate limit (IPv4 address or IPv6 /64).
    pub api_limiter: AddrLimiter,
    /// The cluster this node belongs to (`--redis`); none when it serves alone.
    pub cluster: Option<Arc<Cluster>>,
    next_conn_id: AtomicU64,
}

impl App {
    /// Builds the state and starts the tick threads; rooms play the games of `games`.
    /// `base_url` is where clients reach us.
    pub fn start(
        config: Config,
        games: GameCatalog,
        base_url: String,
        shutdown: CancellationToken,
    ) -> std::io::Result<Arc<Self>> {
        Self::start_in(config, games, base_url, None, shutdown)
    }

    /// [`App::start`] for a node of `cluster`, or alone without one.
    pub fn start_in(
        config: Config,
        games: GameCatalog,
        base_url: String,
        cluster: Option<Arc<Cluster>>,
        shutdown: CancellationToken,
    ) -> std::io::Result<Arc<Self>> {
        let metrics = Arc::new(Metrics::default());
        let registry = Arc::new(RoomRegistry::start(
            &config,
            games,
            metrics.clone(),
            shutdown.clone(),
        )?);
        let ws_base = base_url.replacen("http", "ws", 1);
        let seats = Arc::new(SeatBook::new(
            MemoryStore::default(),
            config.seat_ttl,
            ws_base,
            registry.clone(),
            cluster.clone().map(SharedSeats::new),
        ));
        let rules = MatchRules {
            skill_window: config.skill_window,
            widen_per_sec: config.skill_widen_per_sec,
            match_wait: config.match_wait,
            fill_with_bots_after: config.fill_with_bots_after,
            ticket_ttl: config.ticket_ttl,
            per_addr: config.tickets_per_addr,
            max_tickets: config.max_tickets,
            modes: ModeSet::from_config(&config),
        };
        let matchmaker = Arc::new(Matchmaker::new(
            ticket_store(cluster.as_ref(), rules.ticket_ttl),
            ticket_caps(cluster.as_ref(), &rules),
            seats.clone(),
            registry.clone(),
            rules,
        ));
        let limits = LobbyLimits {
            per_addr: config.lobbies_per_addr,
            max_lobbies: config.max_lobbies,
            modes: ModeSet::from_config(&config),
            idle: config.lobby_idle_secs,
        };
        let lobbies = Arc::new(Lobbies::new(
            lobby_store(cluster.as_ref(), limits.idle),
            lobby_caps(cluster.as_ref(), &limits),
            seats.clone(),
            registry.clone(),
            limits,
        ));
        let api_limiter = AddrLimiter::new(config.api_rate, config.api_burst);
        Ok(Arc::new(Self {
            config,
            base_url,
            metrics,
            registry,
            seats,
            matchmaker,
            lobbies,
            shutdown,
            tracker: TaskTracker::new(),
            spectators: AtomicUsize::new(0),
            api_limiter,
            cluster,
            next_conn_id: AtomicU64::new(1),
        }))
    }

    /// A new connection id.
    pub fn next_conn_id(&self) -> u64 {
        self.next_conn_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Current gauge values for `/metrics`.
    pub fn gauges(&self) -> Gauges {
        Gauges {
            rooms: self.registry.len() as u64,
            players: self
                .registry
                .list()
                .iter()
                .map(|r| u64::from(r.occupancy()))
                .sum(),
            spectators: self.spectators.load(Ordering::Relaxed) as u64,
        }
    }
}

/// Where lobbies live: in the cluster's Redis, or here.
fn lobby_store(cluster: Option<&Arc<Cluster>>, idle: std::time::Duration) -> Backend<Lobby> {
    match cluster {
        Some(cluster) => Backend::Shared(RedisStore::new(
            cluster.clone(),
            keys::LOBBY,
            Arc::new(move |l: &Lobby| l.ttl(idle)),
        )),
        None => Backend::default(),
    }
}

/// The caps on open lobbies: across the cluster, or here.
fn lobby_caps(cluster: Option<&Arc<Cluster>>, limits: &LobbyLimits) -> Slots {
    const WHAT: &str = "open lobbies";
    match cluster {
        Some(cluster) => Slots::Cluster(RedisCaps::new(
            cluster.clone(),
            WHAT,
            limits.max_lobbies,
            limits.per_addr,
            limits.idle,
        )),
        None => Slots::Here(Caps::new(WHAT, limits.max_lobbies, limits.per_addr)),
    }
}

/// Where tickets live: in the cluster's Redis, or here.
fn ticket_store(cluster: Option<&Arc<Cluster>>, search: std::time::Duration) -> Backend<Ticket> {
    match cluster {
        Some(cluster) => Backend::Shared(RedisStore::new(
            cluster.clone(),
            keys::TICKET,
            Arc::new(move |t: &Ticket| t.ttl(search)),
        )),
        None => Backend::default(),
    }
}

/// The caps on searching tickets: across the cluster, or here.
fn ticket_caps(cluster: Option<&Arc<Cluster>>, rules: &MatchRules) -> Slots {
    const WHAT: &str = "searching tickets";
    match cluster {
        Some(cluster) => Slots::Cluster(RedisCaps::new(
            cluster.clone(),
            WHAT,
            rules.max_tickets,
            rules.per_addr,
            rules.ticket_ttl,
        )),
        None => Slots::Here(Caps::new(WHAT, rules.max_tickets, rules.per_addr)),
    }
}
