//! Server configuration: command-line flags, each also readable from an environment variable.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

/// How the server runs. Every field has a default that serves; `game-server --help` lists them.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "game-server",
    version,
    about = "Authoritative multiplayer game state server",
    long_about = "Authoritative multiplayer game state server.\n\n\
        One port serves the game WebSocket (/ws), the REST lobby and matchmaking API (/api/v1), \
        the SSE spectator feed (/api/v1/rooms/{id}/events), the spectator page (/), /healthz, \
        /metrics and /openapi.json. Everything is kept in memory; no external service is needed."
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "GAME_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Public base URL clients use to reach this server (for ws_url and spectator links);
    /// defaults to http://<bind address>.
    #[arg(long, env = "GAME_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Room ticks per second (1–128).
    #[arg(long, env = "GAME_TICK_RATE", default_value_t = 30, value_parser = clap::value_parser!(u16).range(1..=128))]
    pub tick_rate: u16,

    /// Threads that tick rooms (0: one per CPU core).
    #[arg(long, env = "GAME_TICK_THREADS", default_value_t = 0)]
    pub tick_threads: usize,

    /// Players per room when the mode names no other capacity.
    #[arg(long, env = "GAME_ROOM_CAPACITY", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub room_capacity: u32,

    /// Room capacity of one game mode, as NAME=PLAYERS (repeatable), e.g. `--mode-capacity duel=2`.
    #[arg(long = "mode-capacity", env = "GAME_MODE_CAPACITY", value_delimiter = ',', value_parser = parse_mode_capacity)]
    pub mode_capacities: Vec<(String, u32)>,

    /// Most rooms open at once.
    #[arg(long, env = "GAME_MAX_ROOMS", default_value_t = 5_000)]
    pub max_rooms: usize,

    /// Seconds an empty room stays open before it closes.
    #[arg(long, env = "GAME_ROOM_IDLE_SECS", default_value_t = 30.0)]
    pub room_idle_secs: f64,

    /// World width and height in world units (a unit is 100 quanta).
    #[arg(long, env = "GAME_WORLD_SIZE", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub world_size: u32,

    /// Maximum speed in world units per second.
    #[arg(long, env = "GAME_MAX_SPEED", default_value_t = 10.0)]
    pub max_speed: f64,

    /// Inputs applied per player per tick; more are dropped.
    #[arg(long, env = "GAME_INPUTS_PER_TICK", default_value_t = 4)]
    pub inputs_per_tick: u8,

    /// Seconds a seat reservation stays redeemable.
    #[arg(long, env = "GAME_SEAT_TTL", default_value_t = 15.0)]
    pub seat_ttl: f64,

    /// Seconds a dropped player can come back with its resume token.
    #[arg(long, env = "GAME_RESUME_GRACE", default_value_t = 10.0)]
    pub resume_grace: f64,

    /// Most open TCP connections (HTTP and game); further ones are closed at once.
    #[arg(long, env = "GAME_MAX_CONNECTIONS", default_value_t = 20_000)]
    pub max_connections: usize,

    /// Seconds a client has to send an HTTP request's headers (slow-loris defence).
    #[arg(long, env = "GAME_HEADER_TIMEOUT", default_value_t = 10.0)]
    pub header_timeout: f64,

    /// Seconds a new connection has to send its join.
    #[arg(long, env = "GAME_JOIN_TIMEOUT", default_value_t = 5.0)]
    pub join_timeout: f64,

    /// Seconds without any message from a client before it is closed.
    #[arg(long, env = "GAME_IDLE_TIMEOUT", default_value_t = 15.0)]
    pub idle_timeout: f64,

    /// Frames queued per client; a full queue skips the client and resyncs it later.
    #[arg(long, env = "GAME_CLIENT_QUEUE", default_value_t = 16)]
    pub client_queue: usize,

    /// Ticks a client may stay behind (its queue full) before it is closed as lagging.
    #[arg(long, env = "GAME_LAG_LIMIT_TICKS", default_value_t = 150)]
    pub lag_limit_ticks: u32,

    /// Messages per second a game connection may send (token bucket rate; 0 disables).
    #[arg(long, env = "GAME_INPUT_RATE", default_value_t = 60.0)]
    pub input_rate: f64,

    /// Burst size of the per-connection message bucket.
    #[arg(long, env = "GAME_INPUT_BURST", default_value_t = 120.0)]
    pub input_burst: f64,

    /// REST requests per second per client address (0 disables).
    #[arg(long, env = "GAME_API_RATE", default_value_t = 50.0)]
    pub api_rate: f64,

    /// Burst size of the per-address REST bucket.
    #[arg(long, env = "GAME_API_BURST", default_value_t = 100.0)]
    pub api_burst: f64,

    /// Open matchmaking tickets per client address.
    #[arg(long, env = "GAME_TICKETS_PER_ADDR", default_value_t = 500)]
    pub tickets_per_addr: usize,

    /// Open lobbies per client address.
    #[arg(long, env = "GAME_LOBBIES_PER_ADDR", default_value_t = 20)]
    pub lobbies_per_addr: usize,

    /// Open matchmaking tickets on the whole server.
    #[arg(long, env = "GAME_MAX_TICKETS", default_value_t = 50_000)]
    pub max_tickets: usize,

    /// Open lobbies on the whole server.
    #[arg(long, env = "GAME_MAX_LOBBIES", default_value_t = 5_000)]
    pub max_lobbies: usize,

    /// Rooms that one client address (an IPv6 /64) may have opened (by join-or-create, a lobby
    /// start or a match of its ticket) in which no seat has been redeemed yet.
    #[arg(long, env = "GAME_ROOMS_PER_ADDR", default_value_t = 50)]
    pub rooms_per_addr: usize,

    /// Game modes the server accepts (comma-separated or repeated); `*` accepts any
    /// well-formed mode. Default: `default` and the modes named in `--mode-capacity`.
    #[arg(long, env = "GAME_MODES", value_delimiter = ',', value_parser = crate::lobby::modes::parse_mode)]
    pub modes: Vec<String>,

    /// Seconds an open lobby may go without a join, a leave or a member reading it before it
    /// closes.
    #[arg(long, env = "GAME_LOBBY_IDLE_SECS", default_value_t = 600.0)]
    pub lobby_idle_secs: f64,

    /// Seconds a matchmaking ticket searches before it expires.
    #[arg(long, env = "GAME_TICKET_TTL", default_value_t = 60.0)]
    pub ticket_ttl: f64,

    /// Seconds after which a ticket matches with fewer players than a full room.
    #[arg(long, env = "GAME_MATCH_WAIT", default_value_t = 5.0)]
    pub match_wait: f64,

    /// Skill window at the start of a search (± rating points).
    #[arg(long, env = "GAME_SKILL_WINDOW", default_value_t = 100.0)]
    pub skill_window: f64,

    /// How much the skill window widens per second of waiting.
    #[arg(long, env = "GAME_SKILL_WIDEN", default_value_t = 50.0)]
    pub skill_widen_per_sec: f64,

    /// Spectator updates per second.
    #[arg(long, env = "GAME_SPECTATOR_HZ", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=60))]
    pub spectator_hz: u16,

    /// Milliseconds spectators lag behind the live game (anti-ghosting).
    #[arg(long, env = "GAME_SPECTATOR_DELAY_MS", default_value_t = 0)]
    pub spectator_delay_ms: u64,

    /// Spectators per room.
    #[arg(long, env = "GAME_SPECTATORS_PER_ROOM", default_value_t = 100)]
    pub spectators_per_room: usize,

    /// Spectators on the whole server.
    #[arg(long, env = "GAME_MAX_SPECTATORS", default_value_t = 1_000)]
    pub max_spectators: usize,

    /// Kernel send buffer per connection in bytes (0: the OS default). Smaller buffers make a
    /// stalled client show up as lagging sooner and cap kernel memory per connection.
    #[arg(long, env = "GAME_TCP_SEND_BUFFER", default_value_t = 0)]
    pub tcp_send_buffer: usize,

    /// Seconds to finish open connections after a shutdown signal.
    #[arg(long, env = "GAME_SHUTDOWN_GRACE", default_value_t = 5.0)]
    pub shutdown_grace: f64,
}

impl Default for Config {
    fn default() -> Self {
        Self::parse_from(["game-server"])
    }
}

impl Config {
    /// The tick period.
    pub fn tick_period(&self) -> Duration {
        Duration::from_secs_f64(1.0 / f64::from(self.tick_rate))
    }

    /// Quanta an entity may move per tick along each axis (at least 1).
    pub fn max_speed_per_tick(&self) -> i32 {
        let quanta = self.max_speed * f64::from(protocol::quant::QUANTA_PER_UNIT)
            / f64::from(self.tick_rate);
        (quanta.round() as i32).max(1)
    }

    /// World size in quanta.
    pub fn world_quanta(&self) -> i32 {
        (self.world_size as i32).saturating_mul(protocol::quant::QUANTA_PER_UNIT)
    }

    /// Threads that tick rooms.
    pub fn tick_thread_count(&self) -> usize {
        if self.tick_threads > 0 {
            self.tick_threads
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }
}

/// Seconds as a `Duration`, treating negative or non-finite values as zero.
pub fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(Duration::ZERO)
}

/// Parses `NAME=PLAYERS` for `--mode-capacity`.
fn parse_mode_capacity(s: &str) -> Result<(String, u32), String> {
    let (name, n) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=PLAYERS, got `{s}`"))?;
    let n: u32 = n
        .parse()
        .map_err(|e| format!("bad player count in `{s}`: {e}"))?;
    if !(1..=10_000).contains(&n) {
        return Err(format!("player count in `{s}` must be 1-10000"));
    }
    Ok((name.to_owned(), n))
}
