//! The bare stack the game server is measured against: tokio + tokio-tungstenite and nothing
//! else, built the way the reference floor of `../shared/floor` is (the lower bound of what a
//! process on this machine pays per client). `bare server` sends one 250-byte binary message per
//! tick to every connection (bytes 0..8 the tick, 8..16 the server's send time in µs since the
//! Unix epoch, as the floor's); `bare client` opens N connections that each send a small input
//! per tick and measure how long each message took to arrive. It can time `floor-server` too.
//!
//! The load benchmark runs it with `--bare` to put our game server's numbers next to it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use bytes::Bytes;
use clap::{Parser, Subcommand};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// A bare tokio-tungstenite broadcast server and its clients.
#[derive(Debug, Parser)]
struct Args {
    #[command(subcommand)]
    role: Role,
}

#[derive(Debug, Subcommand)]
enum Role {
    /// Send a 250-byte message per tick to every connection.
    Server {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9000")]
        bind: String,
        /// Broadcasts per second.
        #[arg(long, default_value_t = 20)]
        hz: u32,
    },
    /// Open connections that send an input per tick and time the broadcasts.
    Client {
        /// Server address.
        #[arg(long, default_value = "127.0.0.1:9000")]
        addr: String,
        /// Connections.
        #[arg(long, default_value_t = 100)]
        clients: u32,
        /// Inputs per second per connection.
        #[arg(long, default_value_t = 20)]
        hz: u32,
        /// Seconds to measure after all connected.
        #[arg(long, default_value_t = 20)]
        duration: u64,
        /// Connections opened per second.
        #[arg(long, default_value_t = 500)]
        ramp: u32,
    },
}

/// Bytes per broadcast frame.
const FRAME_LEN: usize = 250;
/// Frames a connection's queue holds before the tick drops its frames.
const QUEUE: usize = 8;

fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
}

fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _ = rlimit_raise();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args.role {
        Role::Server { bind, hz } => rt.block_on(server(bind, hz)),
        Role::Client {
            addr,
            clients,
            hz,
            duration,
            ramp,
        } => rt.block_on(client(addr, clients, hz, duration, ramp)),
    }
}

fn rlimit_raise() -> std::io::Result<u64> {
    rlimit::increase_nofile_limit(u64::MAX)
}

/// Every connection's frame queue, as the tick task holds them.
type Register = mpsc::UnboundedSender<mpsc::Sender<Bytes>>;

/// The same design as the reference floor (`../shared/floor`): one tick task hands each tick's
/// frame (a `Bytes` clone) to every connection through a bounded queue with `try_send`, a full
/// queue dropping the frame; each connection has a writer task and reads and discards its input.
async fn server(bind: String, hz: u32) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .with_context(|| format!("bind {bind}"))?;
    let (register, registered) = mpsc::unbounded_channel();
    tokio::spawn(tick(hz, registered));
    loop {
        let (tcp, _) = listener.accept().await?;
        tokio::spawn(connection(tcp, register.clone()));
    }
}

/// Builds one `FRAME_LEN`-byte frame per tick (bytes 0..8 the tick, 8..16 the server time in µs,
/// little endian, as the floor's) and offers it to every connection.
async fn tick(hz: u32, mut registered: mpsc::UnboundedReceiver<mpsc::Sender<Bytes>>) {
    let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(hz.max(1))));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut clients = Vec::new();
    for tick in 0u64.. {
        interval.tick().await;
        while let Ok(client) = registered.try_recv() {
            clients.push(client);
        }
        let mut frame = vec![0u8; FRAME_LEN];
        frame[..8].copy_from_slice(&tick.to_le_bytes());
        frame[8..16].copy_from_slice(&unix_micros().to_le_bytes());
        let frame = Bytes::from(frame);
        clients.retain(|c: &mpsc::Sender<Bytes>| {
            !matches!(c.try_send(frame.clone()), Err(TrySendError::Closed(_)))
        });
    }
}

/// One connection: a writer task sends what the tick queues, this task reads and discards.
async fn connection(tcp: tokio::net::TcpStream, register: Register) {
    let _ = tcp.set_nodelay(true);
    let Ok(ws) = tokio_tungstenite::accept_async_with_config(tcp, Some(config())).await else {
        return;
    };
    let (mut sink, mut stream) = ws.split();
    let (frames, mut queued) = mpsc::channel::<Bytes>(QUEUE);
    if register.send(frames).is_err() {
        return;
    }
    let writer = tokio::spawn(async move {
        while let Some(frame) = queued.recv().await {
            if sink.send(Message::Binary(frame)).await.is_err() {
                break;
            }
        }
    });
    while let Some(Ok(msg)) = stream.next().await {
        if msg.is_close() {
            break;
        }
    }
    writer.abort();
}

async fn client(
    addr: String,
    clients: u32,
    hz: u32,
    duration: u64,
    ramp: u32,
) -> anyhow::Result<()> {
    let latencies = Arc::new(std::sync::Mutex::new(Vec::<u32>::with_capacity(1 << 20)));
    let frames = Arc::new(AtomicU64::new(0));
    let measuring = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let url = format!("ws://{addr}/");
    let mut tasks = Vec::new();
    let gap = Duration::from_secs_f64(1.0 / f64::from(ramp.max(1)));
    for _ in 0..clients {
        tokio::time::sleep(gap).await;
        let (url, latencies, frames, measuring) = (
            url.clone(),
            latencies.clone(),
            frames.clone(),
            measuring.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let Ok((ws, _)) = tokio_tungstenite::connect_async_with_config(url, Some(config()), true).await else { return };
            let (mut sink, mut stream) = ws.split();
            let mut input = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(hz)));
            let mut local = Vec::with_capacity(64);
            loop {
                tokio::select! {
                    _ = input.tick() => {
                        if sink.send(Message::Binary(Bytes::from_static(&[1, 2, 3, 4, 5, 6, 7, 8]))).await.is_err() { break; }
                    }
                    msg = stream.next() => {
                        let Some(Ok(Message::Binary(b))) = msg else { break };
                        if !measuring.load(Relaxed) && !local.is_empty() {
                            // The window closed: hand in what this client measured in it.
                            frames.fetch_add(local.len() as u64, Relaxed);
                            latencies.lock().unwrap_or_else(|p| p.into_inner()).append(&mut local);
                        }
                        if measuring.load(Relaxed) && b.len() >= 16 {
                            let sent = u64::from_le_bytes(b[8..16].try_into().unwrap_or_default());
                            local.push(unix_micros().saturating_sub(sent).min(u64::from(u32::MAX)) as u32);
                            if local.len() == 64 {
                                frames.fetch_add(64, Relaxed);
                                latencies.lock().unwrap_or_else(|p| p.into_inner()).append(&mut local);
                            }
                        }
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    measuring.store(true, Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(duration)).await;
    measuring.store(false, Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    // Every client gets a broadcast within a tick and hands in its last partial batch.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut l = std::mem::take(&mut *latencies.lock().unwrap_or_else(|p| p.into_inner()));
    l.sort_unstable();
    let pct = |q: f64| {
        l.get(((l.len() as f64 * q) as usize).min(l.len().saturating_sub(1)))
            .map_or(f64::NAN, |v| f64::from(*v) / 1000.0)
    };
    println!(
        "{{\"clients\": {clients}, \"frames_per_s\": {:.0}, \"p50_ms\": {:.2}, \"p99_ms\": {:.2}, \"max_ms\": {:.2}}}",
        frames.load(Relaxed) as f64 / elapsed,
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    for t in tasks {
        t.abort();
    }
    Ok(())
}
