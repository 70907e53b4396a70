//! Join-or-create through a cluster against one node alone.
//!
//! Builds the release `game-server` (unless `--no-build`), then measures `POST
//! /api/v1/matchmaking/join-or-create` requests per second and latency percentiles twice with
//! the same requests: against one node keeping everything in memory, and spread over three nodes
//! sharing one `redis-server` (which must be installed). Prints one Markdown row per setup.
//!
//! `cargo run --release -p benches --bin cluster`

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use hdrhistogram::Histogram;

/// Join-or-create throughput and latency: one in-memory node against three nodes and Redis.
#[derive(Debug, Parser)]
#[command(name = "cluster")]
struct Args {
    /// Requests per setup.
    #[arg(long, default_value_t = 3_000)]
    requests: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Use the release binary already built instead of building it.
    #[arg(long)]
    no_build: bool,
}

/// A child process killed when dropped.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What one setup measured.
struct Measured {
    seconds: f64,
    errors: usize,
    latency_us: Histogram<u64>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the workspace root")?
        .to_path_buf();
    if !args.no_build {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--release", "-p", "server", "--bin", "game-server"])
            .current_dir(&root)
            .status()
            .context("cannot run cargo")?;
        if !status.success() {
            bail!("cargo build failed");
        }
    }
    let bin = root.join("target/release/game-server");
    let runtime = tokio::runtime::Runtime::new()?;
    println!("| setup | requests | in flight | req/s | p50 (ms) | p99 (ms) | max (ms) | errors |");
    println!("|---|---|---|---|---|---|---|---|");

    let alone = node(&bin, None)?;
    let m = runtime.block_on(measure(std::slice::from_ref(&alone.1), &args))?;
    row("one node, in memory", &m, &args);
    drop(alone);

    let redis_port = free_port()?;
    let _redis = Reaper(
        Command::new("redis-server")
            .args(["--port", &redis_port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .context("cannot start redis-server (apt-get install redis-server)")?,
    );
    wait_port(redis_port)?;
    let url = format!("redis://127.0.0.1:{redis_port}");
    let nodes = (0..3)
        .map(|_| node(&bin, Some(&url)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Every node lists the others before the clock starts.
    std::thread::sleep(Duration::from_secs(1));
    let bases: Vec<String> = nodes.iter().map(|n| n.1.clone()).collect();
    let m = runtime.block_on(measure(&bases, &args))?;
    row("three nodes, one Redis", &m, &args);
    Ok(())
}

/// Starts a release node (in a cluster when `redis` is given); returns it and its base URL.
fn node(bin: &Path, redis: Option<&str>) -> anyhow::Result<(Reaper, String)> {
    let port = free_port()?;
    let mut command = Command::new(bin);
    command
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .args(["--api-rate", "0", "--max-connections-per-addr", "0"])
        .args(["--rooms-per-addr", "1000000", "--max-rooms", "1000000"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null());
    if let Some(redis) = redis {
        command.args(["--redis", redis]);
    }
    let child = Reaper(command.spawn().context("cannot start game-server")?);
    wait_port(port)?;
    Ok((child, format!("http://127.0.0.1:{port}")))
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_port(port: u16) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("nothing listens on port {port}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Sends `args.requests` join-or-create requests, `args.concurrency` at a time, request `i` to
/// `bases[i % len]`.
async fn measure(bases: &[String], args: &Args) -> anyhow::Result<Measured> {
    let http = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (http, next, bases) = (http.clone(), next.clone(), bases.to_vec());
            let total = args.requests;
            tokio::spawn(async move {
                let mut latency = Histogram::<u64>::new(3).ok();
                let mut errors = 0;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let body =
                        serde_json::json!({"player_name": format!("p{i}"), "mode": "default"});
                    let sent = Instant::now();
                    let answer = http
                        .post(format!(
                            "{}/api/v1/matchmaking/join-or-create",
                            bases[i % bases.len()]
                        ))
                        .json(&body)
                        .send()
                        .await;
                    if !answer.is_ok_and(|a| a.status().is_success()) {
                        errors += 1;
                    }
                    if let Some(h) = &mut latency {
                        let _ = h.record(sent.elapsed().as_micros() as u64);
                    }
                }
                (latency, errors)
            })
        })
        .collect();
    let mut latency_us = Histogram::<u64>::new(3)?;
    let mut errors = 0;
    for worker in workers {
        let (h, e) = worker.await?;
        if let Some(h) = h {
            latency_us.add(h)?;
        }
        errors += e;
    }
    Ok(Measured {
        seconds: started.elapsed().as_secs_f64(),
        errors,
        latency_us,
    })
}

fn row(setup: &str, m: &Measured, args: &Args) {
    let ms = |q: f64| m.latency_us.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "| {setup} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} |",
        args.requests,
        args.concurrency,
        args.requests as f64 / m.seconds,
        ms(0.5),
        ms(0.99),
        m.latency_us.max() as f64 / 1000.0,
        m.errors
    );
}
