//! The HTTP accept loop: what `axum::serve` does, plus a deadline for request headers, so that a
//! client trickling bytes (slow-loris) cannot hold a connection open forever.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;

/// Per-connection settings of the accept loop.
#[derive(Debug, Clone)]
pub struct ConnLimits {
    /// Most open connections: HTTP ones counted here plus upgraded ones counted by `upgraded`.
    pub max_connections: usize,
    /// Game connections that left the HTTP layer after their upgrade.
    pub upgraded: TaskTracker,
    /// Longest a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// Kernel send buffer per connection in bytes (0: the OS default).
    pub send_buffer: usize,
}

/// Pause after a failed accept (e.g. out of file descriptors) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `router` on `listener` until `shutdown`, then lets open requests finish; upgraded
/// connections (the game WebSocket) are not waited for here.
/// Clients get `header_timeout` to send a request's headers.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
    limits: ConnLimits,
) {
    let ConnLimits {
        max_connections,
        upgraded,
        header_timeout,
        send_buffer,
    } = limits;
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let builder = Arc::new(builder);
    let connections = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (tcp, addr) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        if connections.len() + upgraded.len() >= max_connections {
            tracing::warn!(%addr, max_connections, "connection limit reached; closing a new connection");
            drop(tcp);
            continue;
        }
        tune_socket(&tcp, send_buffer);
        connections.spawn(serve_connection(
            builder.clone(),
            tcp,
            addr,
            router.clone(),
            shutdown.clone(),
        ));
    }
    connections.close();
    connections.wait().await;
}

/// Serves one connection, shutting it down gracefully when `shutdown` fires.
async fn serve_connection(
    builder: Arc<Builder<TokioExecutor>>,
    tcp: TcpStream,
    addr: SocketAddr,
    router: Router,
    shutdown: CancellationToken,
) {
    let service = router.map_request(move |req: Request<Incoming>| {
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(ConnectInfo(addr));
        req
    });
    let conn = builder
        .serve_connection_with_upgrades(TokioIo::new(tcp), TowerToHyperService::new(service));
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(%addr, error = %e, "connection ended with an error");
            }
            return;
        }
        _ = shutdown.cancelled() => conn.as_mut().graceful_shutdown(),
    }
    if let Err(e) = conn.await {
        tracing::debug!(%addr, error = %e, "connection ended with an error");
    }
}

/// Frames are small and latency matters: no Nagle delay; optionally a smaller send buffer.
fn tune_socket(tcp: &TcpStream, send_buffer: usize) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot set TCP_NODELAY");
    }
    if send_buffer > 0
        && let Err(e) = socket2::SockRef::from(tcp).set_send_buffer_size(send_buffer)
    {
        tracing::debug!(error = %e, "cannot set the send buffer size");
    }
}
