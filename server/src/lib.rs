//! The authoritative game state server.
//!
//! # Main loop
//! [`run`] serves one port until its shutdown token fires:
//! 1. The tick pool ([`room::pool`]) ticks every room at the configured rate on its own threads.
//! 2. The HTTP router ([`http`]) serves the REST lobby API, the SSE spectator feed, the spectator
//!    page, the operations endpoints and the `/ws` upgrade.
//! 3. Each game connection ([`net`]) runs a reader and a writer task; the reader feeds the room's
//!    inbox, the writer drains the bounded queue the room fills.
//! 4. A housekeeping task runs the matcher (each pass on a blocking thread), expires seat
//!    reservations and lobbies.
//! 5. On shutdown: stop accepting, close every game connection with 1001, end spectator streams,
//!    stop the tick threads, all within `--shutdown-grace`.
//!
//! `main.rs` only parses flags and signals; tests call the same [`run`] on `127.0.0.1:0`.

pub mod app;
pub mod config;
pub mod http;
pub mod lobby;
pub mod metrics;
pub mod net;
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

/// Why the server could not run.
#[derive(Debug, Error)]
pub enum ServerError {
    /// The listener's address could not be read.
    #[error("cannot read the listening address: {0}")]
    Addr(#[source] std::io::Error),
    /// Tick threads could not be started.
    #[error("cannot start the tick threads: {0}")]
    TickThreads(#[source] std::io::Error),
}

/// How often the matcher runs.
const MATCH_INTERVAL: Duration = Duration::from_millis(100);
/// How often reservations, lobbies and rate buckets are swept.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Serves on `listener` until `shutdown` fires, then shuts down gracefully.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: CancellationToken,
) -> Result<(), ServerError> {
    let local = listener.local_addr().map_err(ServerError::Addr)?;
    let base_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local}"));
    let grace = config::secs(config.shutdown_grace);
    let app = App::start(config, base_url, shutdown.clone()).map_err(ServerError::TickThreads)?;
    let (router, _) = http::router(app.clone());
    let housekeeping = tokio::spawn(housekeeping(app.clone()));
    tracing::info!(addr = %local, tick_rate = app.config.tick_rate, "serving");

    let limits = http::serve::ConnLimits {
        max_connections: app.config.max_connections.max(1),
        upgraded: app.tracker.clone(),
        header_timeout: config::secs(app.config.header_timeout)
            .max(std::time::Duration::from_millis(100)),
        send_buffer: app.config.tcp_send_buffer,
    };
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
    let registry = app.registry.clone();
    let _ = tokio::task::spawn_blocking(move || registry.join()).await;
    tracing::info!("server stopped");
    Ok(())
}

/// Runs the matcher and the sweepers until shutdown.
async fn housekeeping(app: Arc<App>) {
    let mut matcher = tokio::time::interval(MATCH_INTERVAL);
    let mut sweeper = tokio::time::interval(SWEEP_INTERVAL);
    loop {
        tokio::select! {
            _ = app.shutdown.cancelled() => return,
            _ = matcher.tick() => {
                // A pass over tens of thousands of tickets must not hold an async worker.
                let matchmaker = app.matchmaker.clone();
                let _ = tokio::task::spawn_blocking(move || matchmaker.run_pass()).await;
            }
            _ = sweeper.tick() => {
                app.seats.sweep();
                app.lobbies.sweep();
                app.api_limiter.prune();
            }
        }
    }
}
