//! `client-sim`: runs headless bots against a game server and reports what they measured.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use client_sim::args;
use client_sim::behavior::Behavior;
use client_sim::bot::{BotConfig, SeatMode};
use client_sim::load::{self, LoadPlan};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

/// Headless bots for the game server: they matchmake over REST, play over WebSocket, rebuild the
/// world from deltas, verify every checksum, and report latency and bandwidth.
#[derive(Debug, Parser)]
#[command(name = "client-sim", version)]
struct Args {
    /// Server base URL; several (comma-separated or repeated) are the nodes of a cluster, and
    /// bots spread their REST calls over them.
    #[arg(long, value_delimiter = ',', default_value = "http://127.0.0.1:8080")]
    url: Vec<String>,
    /// Number of bots (1-20000).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=20_000))]
    bots: u32,
    /// How long to play once every bot has started (seconds, or e.g. `2m`; at most a day); the
    /// run then stops by itself.
    #[arg(long, default_value = "10s", value_parser = args::duration)]
    duration: Duration,
    /// Seconds after the last bot started before frame latencies (tick to client, input to
    /// ack, jitter) are recorded, at most half of `--duration` (0: from then on): the ramp-up's
    /// joins and snapshots are left out, so that the figures describe the full load, as the
    /// load benchmark's bare client also starts 2 s after its ramp-up (matchmaking and connect
    /// times cover every bot).
    #[arg(long, default_value = "2s", value_parser = args::duration_or_zero)]
    settle: Duration,
    /// How bots get a seat.
    #[arg(long, value_enum, default_value_t = SeatMode::JoinOrCreate)]
    mode: SeatMode,
    /// Game mode to ask for.
    #[arg(long, default_value = "default")]
    game_mode: String,
    /// Region for quick match.
    #[arg(long, default_value = "local")]
    region: String,
    /// Inputs per second per bot (0.1-1000; default: the server's tick rate).
    #[arg(long, value_parser = args::number_in(client_sim::bot::INPUT_HZ))]
    input_hz: Option<f64>,
    /// How bots move [default: chase-coins with `--game-mode coins`, random-walk otherwise].
    /// `chase-coins` (alias `chase`) steers toward the nearest entity of kind `coin` of any game
    /// that has that kind, and walks randomly while none is in sight.
    #[arg(long, value_enum)]
    behavior: Option<Behavior>,
    /// Bots started per second (0: all at once; at most 100000).
    #[arg(long, default_value_t = 500.0, value_parser = args::number_in(0.0..=100_000.0))]
    ramp: f64,
    /// Seed of the bots' movement.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Against a server on an IPv4 loopback address, bots connect from 127.0.0.2, 127.0.0.3, …
    /// this many per address, so that the server's per-address caps admit them all (0: every
    /// bot from the system's choice of address).
    #[arg(long, default_value_t = 32)]
    bots_per_source: usize,
    /// Bots per lobby in `--mode lobby`.
    #[arg(long, default_value_t = 10)]
    lobby_size: usize,
    /// Do not resume after an unexpected drop.
    #[arg(long)]
    no_resume: bool,
    /// Do not matchmake again after losing the room (its node gone, closed, resume refused).
    #[arg(long)]
    no_rematch: bool,
    /// Write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Exit non-zero when p99 tick-to-client latency exceeds this many ms, or on any desync or
    /// unexpected disconnect.
    #[arg(long)]
    max_p99_ms: Option<f64>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("client-sim: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    // Each bot holds a socket; raise the open-file limit as far as the hard limit allows.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) if n < u64::from(args.bots) + 64 => {
            eprintln!(
                "client-sim: open-file limit is {n}; raise it (ulimit -n) for {} bots",
                args.bots
            )
        }
        Ok(_) => {}
        Err(e) => eprintln!("client-sim: cannot raise the open-file limit: {e}"),
    }
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(t) = args.threads {
        builder.worker_threads(t.max(1));
    }
    let runtime = builder
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let plan = LoadPlan {
        urls: args.url.clone(),
        bots: args.bots as usize,
        duration: args.duration,
        settle: args.settle,
        ramp_per_sec: args.ramp,
        bots_per_source: args.bots_per_source,
        bot: BotConfig {
            seat_mode: args.mode,
            game_mode: args.game_mode.clone(),
            region: args.region.clone(),
            input_hz: args.input_hz.unwrap_or(0.0),
            behavior: args
                .behavior
                .unwrap_or_else(|| Behavior::default_for(&args.game_mode)),
            seed: args.seed,
            lobby_size: args.lobby_size,
            resume: !args.no_resume,
            rematch: !args.no_rematch,
        },
        progress: std::io::stderr().is_terminal(),
    };
    let report = runtime.block_on(async {
        let interrupt = CancellationToken::new();
        let on_signal = interrupt.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("client-sim: interrupted; reporting what was measured so far");
                on_signal.cancel();
            }
        });
        load::run(plan, interrupt).await
    })?;
    print!("{}", report.table());
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(limit) = args.max_p99_ms {
        let mut failed = Vec::new();
        if report.tick_to_client_ms.count == 0 {
            failed.push("no frame latency was recorded".to_owned());
        } else if report.tick_to_client_ms.p99 > limit {
            failed.push(format!(
                "p99 tick-to-client {:.2} ms > {limit} ms",
                report.tick_to_client_ms.p99
            ));
        }
        if report.desyncs > 0 {
            failed.push(format!("{} desyncs", report.desyncs));
        }
        if report.disconnects > 0 {
            failed.push(format!("{} unexpected disconnects", report.disconnects));
        }
        if report.connected < report.bots {
            failed.push(format!(
                "only {} of {} bots connected",
                report.connected, report.bots
            ));
        }
        if !failed.is_empty() {
            eprintln!("client-sim: FAILED: {}", failed.join("; "));
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}
