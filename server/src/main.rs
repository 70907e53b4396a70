//! `game-server`: parses flags, sets up logging and signals, and calls [`server::run`].

use anyhow::Context as _;
use clap::Parser as _;
use tokio_util::sync::CancellationToken;

fn main() -> anyhow::Result<()> {
    let config = server::Config::parse();
    server::logging::init(config.log_format);
    // Every connection is a file descriptor: raise the soft limit to the hard limit.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open-file limit"),
        Err(e) => {
            tracing::warn!(error = %e, "cannot raise the open-file limit; connections may be refused")
        }
    }
    // Read on the main thread, which starts the tick threads (in `server::run`): they keep it.
    let net = server::priority::NetPriority::below_this_thread(config.net_nice);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("net")
        .on_thread_start(move || net.apply_to_this_thread())
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let shutdown = CancellationToken::new();
        tokio::spawn(server::shutdown::cancel_on_signal(shutdown.clone()));
        server::run(listener, config, shutdown)
            .await
            .context("server failed")
    })
}
