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
        let search = rules.ticket_ttl;
        let matchmaker = Arc::new(Matchmaker::new(
            store(cluster.as_ref(), keys::TICKET, move |t: &Ticket| {
                t.ttl(search)
            }),
            caps(
                cluster.as_ref(),
                "searching tickets",
                (rules.max_tickets, rules.per_addr),
                rules.ticket_ttl,
            ),
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
        let idle = limits.idle;
        let lobbies = Arc::new(Lobbies::new(
            store(cluster.as_ref(), keys::LOBBY, move |l: &Lobby| l.ttl(idle)),
            caps(
                cluster.as_ref(),
                "open lobbies",
                (limits.max_lobbies, limits.per_addr),
                idle,
            ),
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

/// Where values under `prefix` live: in the cluster's Redis (each kept for its `ttl` after a
/// write), or here.
fn store<V: serde::Serialize + serde::de::DeserializeOwned>(
    cluster: Option<&Arc<Cluster>>,
    prefix: &'static str,
    ttl: impl Fn(&V) -> std::time::Duration + Send + Sync + 'static,
) -> Backend<V> {
    match cluster {
        Some(cluster) => Backend::Shared(RedisStore::new(cluster.clone(), prefix, Arc::new(ttl))),
        None => Backend::default(),
    }
}

/// The caps on open `what`: across the cluster (each counting for `life` unless renewed), or
/// here.
fn caps(
    cluster: Option<&Arc<Cluster>>,
    what: &'static str,
    (max_total, per_addr): (usize, usize),
    life: std::time::Duration,
) -> Slots {
    match cluster {
        Some(cluster) => Slots::Cluster(RedisCaps::new(
            cluster.clone(),
            what,
            max_total,
            per_addr,
            life,
        )),
        None => Slots::Here(Caps::new(what, max_total, per_addr)),
    }
}
