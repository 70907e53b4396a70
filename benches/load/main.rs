//! The end-to-end load benchmark.
//!
//! Builds the release binaries, then for each level starts a release `game-server` and runs
//! `client-sim` against it (bots on the same machine), measuring server and bot CPU from `/proc`,
//! server memory, frames from `/metrics`, and the bots' latency report. It stops raising the
//! level when p99 tick-to-client latency passes the limit or errors appear, and writes a
//! Markdown table and JSON under `target/load/`.
//!
//! `cargo run --release -p benches --bin load` runs the full ladder (several minutes);
//! `--smoke` runs three small levels for CI (movement, coins with coin-chasing bots, and server
//! bots).
//!
//! The *server bots* level runs no clients: the server fills `--demo-rooms` rooms with its own
//! bots (`--demo --bots-per-room`), and the row reports its CPU per bot-tick: the server
//! process's CPU time over the window divided by bots × ticks (room ticks from `/metrics` times
//! the bots per room that `/api/v1/rooms` lists).
//!
//! Movement levels keep their names across versions so that their figures compare; coins levels
//! are named `N coins bots, …` (so `--only` with a movement level's name picks that level alone)
//! and list the game events the bots received.

mod procfs;
mod report;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use serde::Serialize;

use crate::report::{Measured, Row};

/// The load benchmark of the game server.
#[derive(Debug, Parser)]
#[command(name = "load")]
struct Args {
    /// Seconds each level plays after its ramp-up.
    #[arg(long, default_value_t = 20.0)]
    duration: f64,
    /// Bots connected per second during ramp-up.
    #[arg(long, default_value_t = 500.0)]
    ramp: f64,
    /// Stop raising the level when p99 tick-to-client latency passes this (ms).
    #[arg(long, default_value_t = 100.0)]
    limit_ms: f64,
    /// Three small levels (50 movement bots, 20 coins bots, 1,000 server bots; 3 s each) to
    /// prove the benchmark runs (for CI).
    #[arg(long)]
    smoke: bool,
    /// Seconds the server-bots level measures (after 2 s of warm-up).
    #[arg(long, default_value_t = 60.0)]
    server_bots_duration: f64,
    /// Only the levels whose name contains this (repeatable: any of them).
    #[arg(long)]
    only: Vec<String>,
    /// Use the release binaries already built instead of building them.
    #[arg(long)]
    no_build: bool,
    /// Run the `game-server`, `client-sim` and `bare` binaries of this folder (e.g. copies of
    /// another version's, to compare two builds level by level) instead of building this
    /// workspace's; implies `--no-build`.
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Extra flags for game-server (repeatable), e.g. `--server-arg=--tick-threads=1`.
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    server_args: Vec<String>,
    /// Where the table and JSON go.
    #[arg(long, default_value = "target/load")]
    out: PathBuf,
    /// The reference floor's server binary (`floor-server` of `../shared/floor`, built as its
    /// README says): the 20 Hz levels then run it too, timed by `bare client`, beside the bare
    /// stack and the game server, level by level.
    #[arg(long)]
    floor: Option<PathBuf>,
}

/// The game a level's rooms play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum GameMode {
    /// The movement game (mode `default`), bots walking randomly.
    Movement,
    /// The coins game (mode `coins`), bots chasing coins.
    Coins,
}

impl GameMode {
    /// The matchmaking mode the bots ask for.
    fn mode(self) -> &'static str {
        match self {
            GameMode::Movement => "default",
            GameMode::Coins => "coins",
        }
    }

    /// How the bots move.
    fn behavior(self) -> &'static str {
        match self {
            GameMode::Movement => "random-walk",
            GameMode::Coins => "chase-coins",
        }
    }
}

/// Which server a level runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Stack {
    /// game-server with client-sim bots.
    Game,
    /// The bare tokio-tungstenite broadcast (`bare server` / `bare client`), for comparison.
    Bare,
    /// game-server alone, its rooms filled with its own bots (no clients).
    ServerBots,
    /// The reference floor (`floor-server`, given by `--floor`) timed by `bare client`.
    Floor,
}

impl Stack {
    fn name(self) -> &'static str {
        match self {
            Stack::Game => "game",
            Stack::Bare => "bare",
            Stack::ServerBots => "server-bots",
            Stack::Floor => "floor",
        }
    }
}

/// One level of the ladder.
#[derive(Debug, Clone, Serialize)]
struct Level {
    name: String,
    stack: Stack,
    game: GameMode,
    bots: u32,
    tick_rate: u16,
    room_capacity: u32,
    /// More `game-server` flags of this level (world size, interest radius).
    server_flags: Vec<String>,
    /// `client-sim --input-hz`, if the level sets it.
    input_hz: Option<u16>,
}

impl Level {
    /// Movement rooms (named as before coins rows existed, so figures compare across versions).
    fn new(bots: u32, tick_rate: u16, room_capacity: u32) -> Self {
        let name = format!("{bots} bots, rooms of {room_capacity}, {tick_rate} Hz");
        Self {
            name,
            stack: Stack::Game,
            game: GameMode::Movement,
            bots,
            tick_rate,
            room_capacity,
            server_flags: Vec::new(),
            input_hz: None,
        }
    }

    /// Coins rooms with coin-chasing bots.
    fn coins(bots: u32, tick_rate: u16, room_capacity: u32) -> Self {
        let name = format!("{bots} coins bots, rooms of {room_capacity}, {tick_rate} Hz");
        Self {
            name,
            stack: Stack::Game,
            game: GameMode::Coins,
            bots,
            tick_rate,
            room_capacity,
            server_flags: Vec::new(),
            input_hz: None,
        }
    }

    /// Server-side bots only, measured for `secs` seconds.
    fn server_bots(bots: u32, tick_rate: u16, room_capacity: u32, secs: f64) -> Self {
        let name = format!(
            "{} server bots in rooms of {room_capacity}, {tick_rate} Hz, {secs} s",
            thousands(bots)
        );
        Self {
            name,
            stack: Stack::ServerBots,
            game: GameMode::Movement,
            bots,
            tick_rate,
            room_capacity,
            server_flags: Vec::new(),
            input_hz: None,
        }
    }

    /// All `bots` random walkers in one room of a `world` × `world` world at 20 Hz, sending 20
    /// inputs a second, seeing what lies within `radius` units (0: everything).
    fn one_room(bots: u32, world: u32, radius: u32) -> Self {
        let sight = match radius {
            0 => "no radius".to_owned(),
            r => format!("radius {r}"),
        };
        Self {
            name: format!(
                "{} bots in one room, world {world}, {sight}, 20 Hz",
                thousands(bots)
            ),
            server_flags: [
                "--world-size",
                &world.to_string(),
                "--interest-radius",
                &radius.to_string(),
            ]
            .map(str::to_owned)
            .to_vec(),
            input_hz: Some(20),
            ..Self::new(bots, 20, bots)
        }
    }

    /// A broadcast of one 250-byte message per tick to `clients` connections, by `stack`.
    fn broadcast(stack: Stack, clients: u32, hz: u16) -> Self {
        let name = format!(
            "{} stack: {clients} clients, {hz} Hz, 250-byte broadcast",
            stack.name()
        );
        Self {
            name,
            stack,
            game: GameMode::Movement,
            bots: clients,
            tick_rate: hz,
            room_capacity: 0,
            server_flags: Vec::new(),
            input_hz: None,
        }
    }
}

/// A ladder: levels rise until one fails.
struct Ladder {
    name: &'static str,
    levels: Vec<Level>,
}

/// `n` with a comma between thousands (`10,000`).
fn thousands(n: u32) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ladders(smoke: bool, floor: bool, server_bots_secs: f64) -> Vec<Ladder> {
    if smoke {
        return vec![Ladder {
            name: "smoke",
            levels: vec![
                Level::broadcast(Stack::Bare, 50, 20),
                Level::new(50, 20, 10),
                Level::coins(20, 20, 10),
                Level::server_bots(1_000, 20, 10, SMOKE_SECS),
                Level::one_room(200, 32, 10),
            ],
        }];
    }
    let rising = |hz| {
        [100, 1_000, 2_500, 5_000]
            .into_iter()
            .map(|n| Level::new(n, hz, 10))
            .collect()
    };
    // Each level runs the floor (if given), the bare stack and the game server in turn, so
    // that the three compare within minutes of each other on this shared machine.
    let side_by_side: Vec<Level> = [1_000, 2_500, 5_000]
        .into_iter()
        .flat_map(|n| {
            let floor = floor.then(|| Level::broadcast(Stack::Floor, n, 20));
            floor
                .into_iter()
                .chain([Level::broadcast(Stack::Bare, n, 20), Level::new(n, 20, 10)])
        })
        .collect();
    // Interest management: one room of 2,000 next to rooms of 10 with as many bots, and a
    // stretch room of 5,000 at the same density (about 50 others within the radius). Each is
    // its own ladder, so that one failing (the room without a radius) stops none of the others.
    let one_room = [
        Level::new(2_000, 20, 10),
        Level::one_room(2_000, 112, 10),
        Level::one_room(2_000, 112, 0),
        Level::one_room(5_000, 177, 10),
    ]
    .into_iter()
    .map(|level| Ladder {
        name: "one room of thousands",
        levels: vec![level],
    });
    let ladders = vec![
        Ladder {
            name: "20 Hz",
            levels: std::iter::once(Level::new(100, 20, 10))
                .chain(side_by_side)
                .collect(),
        },
        Ladder {
            name: "30 Hz",
            levels: rising(30),
        },
        Ladder {
            name: "coins 20 Hz",
            levels: [100, 1_000, 2_500]
                .into_iter()
                .map(|n| Level::coins(n, 20, 10))
                .collect(),
        },
        Ladder {
            name: "rooms of 50",
            levels: vec![Level::new(1_000, 20, 50)],
        },
        Ladder {
            name: "one big room",
            levels: vec![Level::new(500, 20, 500)],
        },
        Ladder {
            name: "server bots",
            levels: vec![Level::server_bots(10_000, 20, 10, server_bots_secs)],
        },
    ];
    ladders.into_iter().chain(one_room).collect()
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let root = workspace_root()?;
    if !args.no_build && args.bin_dir.is_none() {
        eprintln!("building release binaries…");
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args([
                "build",
                "--release",
                "-p",
                "server",
                "-p",
                "client-sim",
                "-p",
                "benches",
                "--bin",
                "bare",
                "--bin",
                "game-server",
                "--bin",
                "client-sim",
            ])
            .current_dir(&root)
            .status()
            .context("cannot run cargo")?;
        if !status.success() {
            bail!("cargo build failed");
        }
    }
    let bin = args
        .bin_dir
        .clone()
        .unwrap_or_else(|| root.join("target/release"));
    let out = root.join(&args.out);
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let duration = if args.smoke {
        SMOKE_SECS
    } else {
        args.duration
    };
    let server_bots_secs = if args.smoke {
        SMOKE_SECS
    } else {
        args.server_bots_duration
    };

    let mut rows = Vec::new();
    for ladder in ladders(args.smoke, args.floor.is_some(), server_bots_secs) {
        // A stack that failed a level skips the ladder's higher ones; the others go on.
        let mut stopped = Vec::new();
        for level in ladder.levels {
            let picked = args.only.is_empty() || args.only.iter().any(|o| level.name.contains(o));
            if stopped.contains(&level.stack) || !picked {
                continue;
            }
            eprintln!("[{}] {} …", ladder.name, level.name);
            let run = RunSettings {
                bin: &bin,
                floor: args.floor.as_deref(),
                out: &out,
                duration,
                ramp: args.ramp,
                server_args: &args.server_args,
            };
            let row = match level.stack {
                Stack::ServerBots => run_server_bots(&run, &level, server_bots_secs)?,
                Stack::Game | Stack::Bare | Stack::Floor => run_level(&run, &level)?,
            };
            eprintln!("  {}", row.one_line());
            let stop = row.stop_reason(args.limit_ms);
            rows.push(row);
            if let Some(reason) = stop {
                eprintln!(
                    "  stopping the {} ladder of the {} stack: {reason}",
                    ladder.name,
                    level.stack.name()
                );
                if let Some(last) = rows.last_mut() {
                    last.note = Some(format!("ladder stopped: {reason}"));
                }
                stopped.push(level.stack);
            }
        }
    }
    let md = report::markdown(&rows, &machine());
    std::fs::write(out.join("load.md"), &md)?;
    std::fs::write(out.join("load.json"), serde_json::to_string_pretty(&rows)?)?;
    println!("{md}");
    eprintln!(
        "wrote {} and {}",
        out.join("load.md").display(),
        out.join("load.json").display()
    );
    Ok(())
}

/// Seconds each smoke level plays.
const SMOKE_SECS: f64 = 3.0;

/// Seconds a server-bots level runs before it is measured (rooms open and fill at start).
const SERVER_BOTS_WARMUP: Duration = Duration::from_secs(2);

/// The workspace root (two levels above this package's manifest).
fn workspace_root() -> anyhow::Result<PathBuf> {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .map(Path::to_path_buf)
        .context("no workspace root")
}

/// A free port on the loopback interface.
fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Kills a child process when dropped.
struct Reaper(Child);

impl Reaper {
    /// Waits for the process and returns what it printed on stdout (if piped).
    fn wait_output(&mut self) -> anyhow::Result<String> {
        use std::io::Read;
        let mut out = String::new();
        if let Some(mut stdout) = self.0.stdout.take() {
            stdout.read_to_string(&mut out)?;
        }
        self.0.wait()?;
        Ok(out)
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What every level of one benchmark run shares.
struct RunSettings<'a> {
    bin: &'a Path,
    floor: Option<&'a Path>,
    out: &'a Path,
    duration: f64,
    ramp: f64,
    server_args: &'a [String],
}

/// The `game-server` command of `level`, bound to `bind`, with `extra` flags.
fn game_server(bin: &Path, bind: &str, level: &Level, extra: &[String]) -> Command {
    let mut c = Command::new(bin.join("game-server"));
    c.args(["--bind", bind, "--tick-rate", &level.tick_rate.to_string()])
        .args(["--room-capacity", &level.room_capacity.to_string()])
        .args([
            "--api-rate",
            "0",
            "--max-rooms",
            "100000",
            "--public-metrics",
        ])
        // Bots come from a few loopback addresses (client-sim) or one (the bare client).
        .args(["--max-connections-per-addr", "0"])
        .args(&level.server_flags)
        .args(extra);
    c
}

/// Starts a server command, logging warnings only.
fn start_server(mut server: Command) -> anyhow::Result<Reaper> {
    Ok(Reaper(
        server
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start the server")?,
    ))
}

/// Runs `game-server` alone, filling rooms of `level.room_capacity` with `level.bots` of its
/// own bots (`--demo --demo-rooms --bots-per-room`), and measures its CPU per bot-tick over
/// `secs` seconds after [`SERVER_BOTS_WARMUP`].
fn run_server_bots(run: &RunSettings<'_>, level: &Level, secs: f64) -> anyhow::Result<Row> {
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let bind = format!("127.0.0.1:{port}");
    let capacity = level.room_capacity.max(1);
    let bots_flags = [
        "--demo".to_owned(),
        "--demo-rooms".to_owned(),
        level.bots.div_ceil(capacity).to_string(),
        "--bots-per-room".to_owned(),
        capacity.to_string(),
    ];
    let flags: Vec<String> = bots_flags
        .into_iter()
        .chain(run.server_args.iter().cloned())
        .collect();
    let server = start_server(game_server(run.bin, &bind, level, &flags))?;
    let pid = server.0.id();
    wait_ready(&base, level.stack)?;
    std::thread::sleep(SERVER_BOTS_WARMUP);
    let (s0, t0, start) = (procfs::cpu_time(pid), room_ticks(&base), Instant::now());
    let mut steady_rss = 0;
    while start.elapsed().as_secs_f64() < secs {
        steady_rss = steady_rss.max(procfs::rss(pid).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(250));
    }
    let (s1, t1, elapsed) = (procfs::cpu_time(pid), room_ticks(&base), start.elapsed());
    let (rooms, bots) = listed_bots(&base).context("cannot list the rooms")?;
    let peak_rss = procfs::peak_rss(pid).unwrap_or(0);
    drop(server);

    let cpu = match (s0, s1) {
        (Some(a), Some(b)) => b.saturating_sub(a).as_secs_f64(),
        _ => f64::NAN,
    };
    let bot_ticks = match (t0, t1) {
        (Some(a), Some(b)) if rooms > 0 => b.saturating_sub(a) as f64 * bots as f64 / rooms as f64,
        _ => f64::NAN,
    };
    let measured = Measured {
        server_cpu_pct: cpu / elapsed.as_secs_f64() * 100.0,
        client_cpu_pct: f64::NAN,
        cpu_us_per_frame: f64::NAN,
        cpu_us_per_bot_tick: cpu * 1e6 / bot_ticks,
        frames_per_s: 0.0,
        peak_rss,
        steady_rss,
        idle_rss: 0,
    };
    // `connected` counts the server's own bots here.
    let report = serde_json::json!({ "connected": bots });
    let mut row = Row::new(level, &report, &measured);
    // The bots are in from the start: there is no idle baseline to count memory per bot from.
    row.rss_per_connection_kib = f64::NAN;
    Ok(row)
}

/// Room ticks run so far: `game_tick_duration_seconds_count` from `/metrics`.
fn room_ticks(base: &str) -> Option<u64> {
    let text = http_get(base, "/metrics")?;
    text.lines()
        .find_map(|l| l.strip_prefix("game_tick_duration_seconds_count "))
        .and_then(|v| v.trim().parse().ok())
}

/// Rooms listed by `/api/v1/rooms`, and the bots in them.
fn listed_bots(base: &str) -> Option<(u64, u64)> {
    let list: serde_json::Value = serde_json::from_str(&http_get(base, "/api/v1/rooms")?).ok()?;
    let rooms = list["rooms"].as_array()?;
    let bots = rooms.iter().filter_map(|r| r["bots"].as_u64()).sum();
    Some((rooms.len() as u64, bots))
}

fn run_level(run: &RunSettings<'_>, level: &Level) -> anyhow::Result<Row> {
    let RunSettings {
        bin,
        floor,
        out,
        duration,
        ramp,
        server_args,
    } = *run;
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let bind = format!("127.0.0.1:{port}");
    let hz = level.tick_rate.to_string();
    let server = match level.stack {
        Stack::Game | Stack::ServerBots => game_server(bin, &bind, level, server_args),
        Stack::Bare => {
            let mut c = Command::new(bin.join("bare"));
            c.args(["server", "--bind", &bind, "--hz", &hz]);
            c
        }
        Stack::Floor => {
            let mut c = Command::new(floor.context("the floor level needs --floor")?);
            // The floor's README settings; it exits by itself after `--duration`.
            let lifetime = (f64::from(level.bots) / ramp + duration + 30.0).ceil();
            c.args([
                "--addr", &bind, "--hz", &hz, "--rbuf", "4096", "--wbuf", "0",
            ])
            .args(["--max-wbuf", "65536", "--duration", &lifetime.to_string()]);
            c
        }
    };
    let server = start_server(server)?;
    let server_pid = server.0.id();
    wait_ready(&base, level.stack)?;
    let idle_rss = procfs::rss(server_pid).unwrap_or(0);

    let json = out.join(format!(
        "client-{}-{}-{}-{}hz-{}.json",
        level.stack.name(),
        level.game.mode(),
        level.bots,
        level.tick_rate,
        level.room_capacity
    ));
    let (bots, dur, ramp_arg) = (
        level.bots.to_string(),
        duration.to_string(),
        ramp.to_string(),
    );
    let mut client = match level.stack {
        Stack::ServerBots => bail!("a server-bots level runs no clients (run_server_bots)"),
        Stack::Game => {
            let mut c = Command::new(bin.join("client-sim"));
            c.args([
                "--url",
                &base,
                "--bots",
                &bots,
                "--duration",
                &dur,
                "--ramp",
                &ramp_arg,
            ])
            .args(["--game-mode", level.game.mode()])
            .args(["--behavior", level.game.behavior()])
            .args(level.input_hz.map(|hz| format!("--input-hz={hz}")))
            .args(["--json", json.to_str().context("non-UTF-8 path")?])
            .stdout(Stdio::null());
            c
        }
        Stack::Bare | Stack::Floor => {
            let mut c = Command::new(bin.join("bare"));
            c.args([
                "client",
                "--addr",
                &bind,
                "--clients",
                &bots,
                "--hz",
                &hz,
                "--duration",
                &dur,
                "--ramp",
                &ramp_arg,
            ])
            .stdout(Stdio::piped());
            c
        }
    };
    let mut client = Reaper(
        client
            .env("RUST_LOG", "error")
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start the clients")?,
    );
    let client_pid = client.0.id();

    // Measure the steady state: from 2 s after the ramp until 1 s before the end.
    let ramp_secs = f64::from(level.bots) / ramp;
    let started = Instant::now();
    let window_start = Duration::from_secs_f64(ramp_secs + 2.0);
    let window_end = Duration::from_secs_f64(ramp_secs + duration - 1.0)
        .max(window_start + Duration::from_secs(1));
    std::thread::sleep(window_start.saturating_sub(started.elapsed()));
    let (s0, c0, f0, t0) = (
        procfs::cpu_time(server_pid),
        procfs::cpu_time(client_pid),
        frames_sent(&base),
        Instant::now(),
    );
    let mut steady_rss = 0;
    while started.elapsed() < window_end {
        steady_rss = steady_rss.max(procfs::rss(server_pid).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(250));
    }
    let (s1, c1, f1, elapsed) = (
        procfs::cpu_time(server_pid),
        procfs::cpu_time(client_pid),
        frames_sent(&base),
        t0.elapsed(),
    );
    let peak_rss = procfs::peak_rss(server_pid).unwrap_or(0);

    let output = client.wait_output().context("the clients did not finish")?;
    let report: serde_json::Value = match level.stack {
        Stack::Game | Stack::ServerBots => std::fs::read_to_string(&json)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok()),
        Stack::Bare | Stack::Floor => bare_report(&output),
    }
    .context("the clients wrote no report")?;
    drop(server);

    let cpu = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
        (Some(a), Some(b)) => b.saturating_sub(a).as_secs_f64() / elapsed.as_secs_f64() * 100.0,
        _ => f64::NAN,
    };
    // The bare server has no /metrics: it sends what its clients received.
    let frames_per_s = match (f0, f1) {
        (Some(a), Some(b)) => b.saturating_sub(a) as f64 / elapsed.as_secs_f64(),
        _ => report["frames_per_s"].as_f64().unwrap_or(0.0),
    };
    let server_cpu_pct = cpu(s0, s1);
    let cpu_us_per_frame = if frames_per_s > 0.0 {
        server_cpu_pct / 100.0 * 1e6 / frames_per_s
    } else {
        f64::NAN
    };
    let measured = Measured {
        server_cpu_pct,
        client_cpu_pct: cpu(c0, c1),
        cpu_us_per_frame,
        cpu_us_per_bot_tick: f64::NAN,
        frames_per_s,
        peak_rss,
        steady_rss,
        idle_rss,
    };
    Ok(Row::new(level, &report, &measured))
}

/// Turns the bare client's one-line JSON into the shape of client-sim's report.
fn bare_report(stdout: &str) -> Option<serde_json::Value> {
    let r: serde_json::Value =
        serde_json::from_str(stdout.lines().rev().find(|l| l.starts_with('{'))?).ok()?;
    let clients = r["clients"].as_f64()?;
    let fps = r["frames_per_s"].as_f64()?;
    Some(serde_json::json!({
        "connected": r["clients"],
        "tick_to_client_ms": {"p50": r["p50_ms"], "p99": r["p99_ms"], "max": r["max_ms"]},
        "frames_per_client_per_s": fps / clients,
        "bytes_per_client_per_s": fps / clients * 250.0,
        "frames_per_s": fps,
        "desyncs": 0, "disconnects": 0, "errors": 0,
    }))
}

fn wait_ready(base: &str, stack: Stack) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let ready = match stack {
            Stack::Game | Stack::ServerBots => {
                http_get(base, "/healthz").is_some_and(|b| b.contains("\"ok\""))
            }
            Stack::Bare | Stack::Floor => {
                std::net::TcpStream::connect(base.trim_start_matches("http://")).is_ok()
            }
        };
        if ready {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("the server did not become ready at {base}")
}

/// `game_frames_sent_total` from `/metrics`.
fn frames_sent(base: &str) -> Option<u64> {
    let text = http_get(base, "/metrics")?;
    text.lines()
        .find_map(|l| l.strip_prefix("game_frames_sent_total "))
        .and_then(|v| v.trim().parse().ok())
}

/// A minimal HTTP/1.0 GET on loopback (keeps the benchmark free of an HTTP client).
fn http_get(base: &str, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let addr = base.strip_prefix("http://")?;
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    body.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())
}

/// What this machine is, for the report.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = procfs_meminfo().map_or_else(String::new, |gib| format!(", {gib:.0} GiB"));
    format!("{cores} cores ({cpu}){mem}, bots and server on the same machine")
}

fn procfs_meminfo() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: f64 = info
        .lines()
        .find(|l| l.starts_with("MemTotal:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0 / 1024.0)
}
