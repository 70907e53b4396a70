//! Server configuration: command-line flags, each also readable from an environment variable.
//!
//! Every value is checked when it is parsed: durations take a plain number of seconds or a unit
//! (`15`, `2.5`, `500ms`, `15s`) up to a day, numbers must be finite and in their range, and a
//! value out of range stops the server with clap's error naming the flag.

mod values;

use std::net::SocketAddr;
use std::time::Duration;

use clap::builder::RangedU64ValueParser;
use clap::{CommandFactory as _, FromArgMatches as _, Parser};

use crate::logging::LogFormat;

pub use values::MAX_DURATION;
use values::{duration_from, number_in};

/// How the server runs. Every field has a default that serves; `game-server --help` lists them.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "game-server",
    version,
    about = "Authoritative multiplayer game state server",
    long_about = "Authoritative multiplayer game state server.\n\n\
        One port serves the game WebSocket (/ws), the REST lobby and matchmaking API (/api/v1), \
        the SSE spectator feed (/api/v1/rooms/{id}/events), the spectator page (/), /healthz \
        and /openapi.json; /metrics is served on --admin-bind (or, with --public-metrics, on the \
        public port). Everything is kept in memory; no external service is needed."
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "GAME_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Public base URL clients use to reach this server (for ws_url and spectator links);
    /// defaults to `http://<bind address>`, or, bound to `0.0.0.0` or `[::]`, to each request's Host.
    #[arg(long, env = "GAME_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Redis URL (e.g. `redis://127.0.0.1:6379`) of a cluster of nodes sharing join-or-create
    /// and the room directory (see README "Running several nodes"). None: this node keeps
    /// everything in memory and serves alone.
    #[arg(long, env = "GAME_REDIS")]
    pub redis: Option<String>,

    /// How long this node's lease in Redis lives without renewal (it is renewed every third of
    /// it); a node silent for longer leaves every listing (at least 300ms).
    #[arg(long, env = "GAME_NODE_LEASE", default_value = "3s", value_parser = duration_from(Duration::from_millis(300)))]
    pub node_lease: Duration,

    /// Room ticks per second (1–128).
    #[arg(long, env = "GAME_TICK_RATE", default_value_t = 30, value_parser = clap::value_parser!(u16).range(1..=128))]
    pub tick_rate: u16,

    /// Threads that tick rooms (0: one per CPU core; at most 1024).
    #[arg(long, env = "GAME_TICK_THREADS", default_value_t = 0, value_parser = RangedU64ValueParser::<usize>::new().range(0..=1024))]
    pub tick_threads: usize,

    /// How many nice steps below the tick threads the network threads run (0–19, at most down
    /// to nice 19; 0: the same). Under CPU contention the tick threads, which write the frames
    /// their sockets take at once, then go first; an input read a little later still reaches
    /// the room's next tick. Linux only; `game-server` applies it to the runtime it builds.
    #[arg(long, env = "GAME_NET_NICE", default_value_t = 5, value_parser = clap::value_parser!(u8).range(0..=19))]
    pub net_nice: u8,

    /// Players per room when the mode names no other capacity (1–10000).
    #[arg(long, env = "GAME_ROOM_CAPACITY", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub room_capacity: u32,

    /// Room capacity of one game mode, as NAME=PLAYERS (repeatable), e.g. `--mode-capacity duel=2`.
    #[arg(long = "mode-capacity", env = "GAME_MODE_CAPACITY", value_delimiter = ',', value_parser = parse_mode_capacity)]
    pub mode_capacities: Vec<(String, u32)>,

    /// The game rooms of one mode play, as MODE=GAME (repeatable), e.g. `--mode-game duel=coins`.
    /// Built in: `coins=coins`. Games: `movement`, `coins`, and any the embedding program adds.
    #[arg(long = "mode-game", env = "GAME_MODE_GAME", value_delimiter = ',', value_parser = parse_mode_game)]
    pub mode_games: Vec<(String, String)>,

    /// Interest radius in world units (0–100000) of every mode that neither
    /// `--mode-interest-radius` nor its game sets: a player receives only the entities within
    /// this distance of its avatar. 0: everyone sees everything.
    #[arg(long, env = "GAME_INTEREST_RADIUS", default_value_t = 0.0, value_parser = number_in(0.0..=100_000.0))]
    pub interest_radius: f64,

    /// Interest radius of one game mode, as MODE=UNITS (repeatable), e.g.
    /// `--mode-interest-radius br=10`; it overrides the game's own radius and `--interest-radius`.
    #[arg(long = "mode-interest-radius", env = "GAME_MODE_INTEREST_RADIUS", value_delimiter = ',', value_parser = parse_mode_radius)]
    pub mode_interest_radii: Vec<(String, f64)>,

    /// The game of every mode that `--mode-game` does not name.
    #[arg(long, env = "GAME_DEFAULT_GAME", default_value = "movement")]
    pub default_game: String,

    /// Most rooms open at once (1–10000000).
    #[arg(long, env = "GAME_MAX_ROOMS", default_value_t = 5_000, value_parser = RangedU64ValueParser::<usize>::new().range(1..=10_000_000))]
    pub max_rooms: usize,

    /// How long an empty room stays open before it closes (seconds, or e.g. `500ms`).
    #[arg(long, env = "GAME_ROOM_IDLE_SECS", default_value = "30s", value_parser = duration_from(Duration::ZERO))]
    pub room_idle_secs: Duration,

    /// World width and height in world units (a unit is 100 quanta; 1–100000).
    #[arg(long, env = "GAME_WORLD_SIZE", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub world_size: u32,

    /// Maximum speed in world units per second (0.01–100000).
    #[arg(long, env = "GAME_MAX_SPEED", default_value_t = 10.0, value_parser = number_in(0.01..=100_000.0))]
    pub max_speed: f64,

    /// Inputs applied per player per tick (1–255); more are dropped.
    #[arg(long, env = "GAME_INPUTS_PER_TICK", default_value_t = 4, value_parser = clap::value_parser!(u8).range(1..))]
    pub inputs_per_tick: u8,

    /// How long a seat reservation stays redeemable (seconds, or e.g. `500ms`).
    #[arg(long, env = "GAME_SEAT_TTL", default_value = "15s", value_parser = duration_from(Duration::from_millis(1)))]
    pub seat_ttl: Duration,

    /// How long a dropped player can come back with its resume token (seconds, or e.g. `500ms`).
    #[arg(long, env = "GAME_RESUME_GRACE", default_value = "10s", value_parser = duration_from(Duration::ZERO))]
    pub resume_grace: Duration,

    /// Most open TCP connections (HTTP and game; 1–10000000); further ones are closed at once.
    #[arg(long, env = "GAME_MAX_CONNECTIONS", default_value_t = 20_000, value_parser = RangedU64ValueParser::<usize>::new().range(1..=10_000_000))]
    pub max_connections: usize,

    /// How long a client has to send an HTTP request's headers (slow-loris defence; at least 100ms).
    #[arg(long, env = "GAME_HEADER_TIMEOUT", default_value = "10s", value_parser = duration_from(Duration::from_millis(100)))]
    pub header_timeout: Duration,

    /// How long a client has, once its headers are in, to send the request body and get the
    /// response headers (a stalled body gets 408; at least 100ms).
    #[arg(long, env = "GAME_REQUEST_TIMEOUT", default_value = "10s", value_parser = duration_from(Duration::from_millis(100)))]
    pub request_timeout: Duration,

    /// How long a write to a client (a response, an SSE event, a game frame) may stall before
    /// the connection is closed (at least 100ms).
    #[arg(long, env = "GAME_WRITE_TIMEOUT", default_value = "10s", value_parser = duration_from(Duration::from_millis(100)))]
    pub write_timeout: Duration,

    /// Most open connections from one client address (IPv6: one /64); further ones get 503.
    /// 0: no cap.
    #[arg(long, env = "GAME_MAX_CONNECTIONS_PER_ADDR", default_value_t = 64)]
    pub max_connections_per_addr: usize,

    /// Most spectator streams from one client address (IPv6: one /64). 0: no cap.
    #[arg(long, env = "GAME_SPECTATORS_PER_ADDR", default_value_t = 8)]
    pub spectators_per_addr: usize,

    /// Browser origin allowed to call the REST API (repeatable, e.g.
    /// `--cors-origin https://game.example`; `*` allows any). None: same origin only.
    #[arg(long = "cors-origin", env = "GAME_CORS_ORIGIN", value_delimiter = ',', value_parser = parse_origin)]
    pub cors_origins: Vec<axum::http::HeaderValue>,

    /// Trust `Forwarded` / `X-Forwarded-Host` / `X-Forwarded-Proto` when deriving seat URLs
    /// (only behind a reverse proxy that sets them).
    #[arg(long, env = "GAME_TRUST_PROXY")]
    pub trust_proxy: bool,

    /// How long a new connection has to send its join (seconds, or e.g. `500ms`).
    #[arg(long, env = "GAME_JOIN_TIMEOUT", default_value = "5s", value_parser = duration_from(Duration::from_millis(1)))]
    pub join_timeout: Duration,

    /// How long a client may send nothing before it is closed (seconds, or e.g. `500ms`).
    #[arg(long, env = "GAME_IDLE_TIMEOUT", default_value = "15s", value_parser = duration_from(Duration::from_millis(1)))]
    pub idle_timeout: Duration,

    /// Messages that may wait per client when its socket is full (3–65536: a join sends the
    /// welcome, the schema and a snapshot); past it the client is skipped and resynced later.
    #[arg(long, env = "GAME_CLIENT_QUEUE", default_value_t = 16, value_parser = RangedU64ValueParser::<usize>::new().range(3..=65_536))]
    pub client_queue: usize,

    /// Ticks a client may stay behind (skipped: too many of its frames wait) before it is closed
    /// as lagging (1–1000000).
    #[arg(long, env = "GAME_LAG_LIMIT_TICKS", default_value_t = 150, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub lag_limit_ticks: u32,

    /// Messages per second a game connection may send (token bucket rate, up to 1000000; 0 disables).
    #[arg(long, env = "GAME_INPUT_RATE", default_value_t = 60.0, value_parser = number_in(0.0..=1_000_000.0))]
    pub input_rate: f64,

    /// Burst size of the per-connection message bucket (1–1000000).
    #[arg(long, env = "GAME_INPUT_BURST", default_value_t = 120.0, value_parser = number_in(1.0..=1_000_000.0))]
    pub input_burst: f64,

    /// REST requests per second per client address (up to 1000000; 0 disables).
    #[arg(long, env = "GAME_API_RATE", default_value_t = 50.0, value_parser = number_in(0.0..=1_000_000.0))]
    pub api_rate: f64,

    /// Burst size of the per-address REST bucket (1–1000000).
    #[arg(long, env = "GAME_API_BURST", default_value_t = 100.0, value_parser = number_in(1.0..=1_000_000.0))]
    pub api_burst: f64,

    /// Address of the operations listener. When given, `/metrics` is served there and not on
    /// the public port; `/healthz` stays public (and is served there too).
    #[arg(long, env = "GAME_ADMIN_BIND")]
    pub admin_bind: Option<SocketAddr>,

    /// Serve `/metrics` on the public port. Without it and without `--admin-bind`, `/metrics`
    /// is not served at all: it tells anyone the server's load and is not for players.
    #[arg(long, env = "GAME_PUBLIC_METRICS", conflicts_with = "admin_bind")]
    pub public_metrics: bool,

    /// Open matchmaking tickets per client address (1–10000000).
    #[arg(long, env = "GAME_TICKETS_PER_ADDR", default_value_t = 500, value_parser = RangedU64ValueParser::<usize>::new().range(1..=10_000_000))]
    pub tickets_per_addr: usize,

    /// Open lobbies per client address (1–10000000).
    #[arg(long, env = "GAME_LOBBIES_PER_ADDR", default_value_t = 20, value_parser = RangedU64ValueParser::<usize>::new().range(1..=10_000_000))]
    pub lobbies_per_addr: usize,

    /// Open matchmaking tickets on the whole server (1–10000000).
    #[arg(long, env = "GAME_MAX_TICKETS", default_value_t = 50_000, value_parser = RangedU64ValueParser::<usize>::new().range(1..=10_000_000))]
    pub max_tickets: usize,

    /// Open lobbies on the whole server (1–10000000).
    #[arg(long, env = "GAME_MAX_LOBBIES", default_value_t = 5_000, value_parser = RangedU64ValueParser::<usize>::new().range(1..=10_000_000))]
    pub max_lobbies: usize,

    /// Rooms that one client address (an IPv6 /64) may have opened (by join-or-create, a lobby
    /// start or a match of its ticket) in which no seat has been redeemed yet (1–1000000).
    #[arg(long, env = "GAME_ROOMS_PER_ADDR", default_value_t = 50, value_parser = RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub rooms_per_addr: usize,

    /// Game modes the server accepts (comma-separated or repeated); `*` accepts any
    /// well-formed mode. Default: `default` and the modes named in `--mode-capacity`.
    #[arg(long, env = "GAME_MODES", value_delimiter = ',', value_parser = crate::lobby::modes::parse_mode)]
    pub modes: Vec<String>,

    /// How long an open lobby may go without a join, a leave or a member reading it before it
    /// closes (seconds, or e.g. `10m`).
    #[arg(long, env = "GAME_LOBBY_IDLE_SECS", default_value = "10m", value_parser = duration_from(Duration::from_secs(1)))]
    pub lobby_idle_secs: Duration,

    /// How long a matchmaking ticket searches before it expires (seconds, or e.g. `2m`).
    #[arg(long, env = "GAME_TICKET_TTL", default_value = "60s", value_parser = duration_from(Duration::from_millis(1)))]
    pub ticket_ttl: Duration,

    /// How long a ticket waits before it matches with fewer players than a full room (seconds, or e.g. `500ms`).
    #[arg(long, env = "GAME_MATCH_WAIT", default_value = "5s", value_parser = duration_from(Duration::ZERO))]
    pub match_wait: Duration,

    /// Skill window at the start of a search (± rating points, 0–1000000).
    #[arg(long, env = "GAME_SKILL_WINDOW", default_value_t = 100.0, value_parser = number_in(0.0..=1_000_000.0))]
    pub skill_window: f64,

    /// How much the skill window widens per second of waiting (0–1000000).
    #[arg(long, env = "GAME_SKILL_WIDEN", default_value_t = 50.0, value_parser = number_in(0.0..=1_000_000.0))]
    pub skill_widen_per_sec: f64,

    /// Keeps every room filled to this many players with server-side bots while fewer humans
    /// are in it (0–10000; 0: no bots). A human takes a bot's place; bots come back when humans
    /// leave. Only games with a bot brain (both built-in games) get bots.
    #[arg(long, env = "GAME_BOTS_PER_ROOM", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub bots_per_room: u32,

    /// A quick-match ticket that has waited this long without a full match is matched anyway,
    /// into a room whose missing seats bots fill (seconds, or e.g. `500ms`). Off when not given.
    #[arg(long, env = "GAME_FILL_WITH_BOTS_AFTER", value_parser = duration_from(Duration::ZERO))]
    pub fill_with_bots_after: Option<Duration>,

    /// At start, opens one room of mode `default` kept filled with bots and open while no human
    /// is in it, so that the room list and the spectator page show a game at once.
    #[arg(long, env = "GAME_DEMO")]
    pub demo: bool,

    /// How many rooms `--demo` opens (1–100000; many make a load test of server-side bots).
    #[arg(long, env = "GAME_DEMO_ROOMS", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000), requires = "demo")]
    pub demo_rooms: u32,

    /// Spectator updates per second (1–60).
    #[arg(long, env = "GAME_SPECTATOR_HZ", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=60))]
    pub spectator_hz: u16,

    /// Whole-room spectator updates per second of a room with an interest radius (1–60, at most
    /// --spectator-hz): such a room's feed without a viewport comes at this lower rate, a
    /// viewport (`?x=&y=&w=&h=`) at --spectator-hz. Rooms without a radius are not affected.
    #[arg(long, env = "GAME_SPECTATOR_FULL_ROOM_HZ", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=60))]
    pub spectator_full_room_hz: u16,

    /// Milliseconds spectators lag behind the live game (anti-ghosting; 0–60000).
    #[arg(long, env = "GAME_SPECTATOR_DELAY_MS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub spectator_delay_ms: u64,

    /// Spectators per room (0–1000000; 0: none).
    #[arg(long, env = "GAME_SPECTATORS_PER_ROOM", default_value_t = 100, value_parser = RangedU64ValueParser::<usize>::new().range(0..=1_000_000))]
    pub spectators_per_room: usize,

    /// Spectators on the whole server (0–10000000; 0: none).
    #[arg(long, env = "GAME_MAX_SPECTATORS", default_value_t = 1_000, value_parser = RangedU64ValueParser::<usize>::new().range(0..=10_000_000))]
    pub max_spectators: usize,

    /// Kernel send buffer per connection in bytes (0: the OS default; at most 64 MiB). Smaller
    /// buffers make a stalled client show up as lagging sooner and cap kernel memory per connection.
    #[arg(long, env = "GAME_TCP_SEND_BUFFER", default_value_t = 0, value_parser = RangedU64ValueParser::<usize>::new().range(0..=64 << 20))]
    pub tcp_send_buffer: usize,

    /// How long open connections get to finish after a shutdown signal (seconds, or e.g. `500ms`).
    #[arg(long, env = "GAME_SHUTDOWN_GRACE", default_value = "5s", value_parser = duration_from(Duration::ZERO))]
    pub shutdown_grace: Duration,

    /// Log line format: `text` (coloured only on a terminal) or `json` (one object per line).
    /// `RUST_LOG` picks what is logged (default `info`).
    #[arg(long, env = "GAME_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

impl Default for Config {
    /// Every flag's default, whatever `GAME_*` variables the environment holds (so tests and
    /// embedders get the same configuration everywhere). [`Config::parse`] reads the environment.
    fn default() -> Self {
        let mut command = Self::command().mut_args(|arg| arg.env(None));
        command
            .try_get_matches_from_mut(["game-server"])
            .and_then(|mut matches| Self::from_arg_matches_mut(&mut matches))
            .unwrap_or_else(|e| e.format(&mut command).exit())
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

/// Parses `MODE=UNITS` for `--mode-interest-radius`.
fn parse_mode_radius(s: &str) -> Result<(String, f64), String> {
    let (mode, units) = s
        .split_once('=')
        .ok_or_else(|| format!("expected MODE=UNITS, got `{s}`"))?;
    crate::lobby::modes::parse_mode(mode)?;
    let units = number_in(0.0..=100_000.0)(units).map_err(|e| format!("in `{s}`: {e}"))?;
    Ok((mode.to_owned(), units))
}

/// Parses `MODE=GAME` for `--mode-game` (whether the game exists is checked at start).
fn parse_mode_game(s: &str) -> Result<(String, String), String> {
    let (mode, game) = s
        .split_once('=')
        .ok_or_else(|| format!("expected MODE=GAME, got `{s}`"))?;
    crate::lobby::modes::parse_mode(mode)?;
    if game.is_empty() || game.len() > protocol::schema::MAX_NAME {
        return Err(format!("game name in `{s}` must be 1-32 bytes"));
    }
    Ok((mode.to_owned(), game.to_owned()))
}

/// Parses one `--cors-origin`: `*`, or `scheme://host[:port]` with nothing after it.
fn parse_origin(s: &str) -> Result<axum::http::HeaderValue, String> {
    let valid = s == "*"
        || s.parse::<axum::http::Uri>().is_ok_and(|uri| {
            uri.scheme().is_some()
                && uri.authority().is_some()
                && !s.contains('@')
                && matches!(uri.path(), "" | "/")
                && uri.query().is_none()
                && !s.ends_with('/')
        });
    if !valid {
        return Err(format!(
            "`{s}` is not an origin: expected `*` or scheme://host[:port]"
        ));
    }
    axum::http::HeaderValue::from_str(s).map_err(|e| format!("`{s}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        Config::try_parse_from(std::iter::once("game-server").chain(args.iter().copied()))
    }

    #[test]
    fn durations_take_seconds_or_units() {
        let c = parse(&[
            "--room-idle-secs",
            "2.5",
            "--idle-timeout",
            "500ms",
            "--seat-ttl",
            "15s",
        ])
        .unwrap();
        assert_eq!(c.room_idle_secs, Duration::from_millis(2_500));
        assert_eq!(c.idle_timeout, Duration::from_millis(500));
        assert_eq!(c.seat_ttl, Duration::from_secs(15));
    }

    #[test]
    fn nan_negative_and_huge_values_are_refused_naming_the_flag() {
        for (flag, value) in [
            ("--idle-timeout", "NaN"),
            ("--resume-grace", "-1"),
            ("--room-idle-secs", "1e30"),
            ("--shutdown-grace", "400days"),
            ("--input-rate", "NaN"),
            ("--api-rate", "-5"),
            ("--api-burst", "inf"),
            ("--max-speed", "0"),
        ] {
            let arg = format!("{flag}={value}");
            let err = parse(&[&arg]).expect_err(&arg).to_string();
            assert!(err.contains(flag), "{arg}: {err}");
            assert!(
                err.contains("out of range") || err.contains("not a"),
                "{arg}: {err}"
            );
        }
    }

    #[test]
    fn integer_flags_are_range_checked() {
        for arg in ["--client-queue=0", "--max-rooms=0", "--inputs-per-tick=0"] {
            assert!(parse(&[arg]).is_err(), "{arg} accepted");
        }
    }

    /// Runs itself again with `GAME_ROOM_CAPACITY` set: the child checks that
    /// `Config::default()` still has the flag's default.
    #[test]
    fn defaults_ignore_game_variables() {
        if std::env::var_os("GAME_CONFIG_TEST_CHILD").is_some() {
            assert_eq!(Config::default().room_capacity, 10);
            assert_eq!(Config::default().idle_timeout, Duration::from_secs(15));
            return;
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "config::tests::defaults_ignore_game_variables"])
            .env("GAME_CONFIG_TEST_CHILD", "1")
            .env("GAME_ROOM_CAPACITY", "3")
            .env("GAME_IDLE_TIMEOUT", "NaN")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        assert!(stdout.contains("1 passed"), "{stdout}");
    }
}
