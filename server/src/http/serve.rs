//! The HTTP accept loop: what `axum::serve` does, plus a deadline on every phase of a
//! connection, caps on open connections (per address and in all) and a back-off when accepting
//! fails.
//!
//! Only HTTP/1.1 is served (HTTP/2 is off): every byte a client sends goes through hyper's
//! HTTP/1 parser, whose header deadline also covers a connection that sends nothing, or
//! nothing more after a response. Request bodies and responses have their own deadlines
//! (`--request-timeout` in the router, `--write-timeout` on the [`Socket`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;

use super::accept::AcceptFailures;
use super::addr_slots::{AddrSlot, AddrSlots};
use super::burst::Burst;
use super::refuse::{Refusal, Refuser};
use super::socket::Socket;

/// Per-connection settings of the accept loop.
#[derive(Debug, Clone)]
pub struct ConnLimits {
    /// Most open connections: HTTP ones counted here plus upgraded ones counted by `upgraded`.
    pub max_connections: usize,
    /// Most open connections from one address (IPv6: one /64); 0: no cap.
    pub per_addr: usize,
    /// Game connections that left the HTTP layer after their upgrade.
    pub upgraded: TaskTracker,
    /// Longest a client may take to send a request's headers, or its first byte.
    pub header_timeout: Duration,
    /// Longest a write to the client may stall.
    pub write_timeout: Duration,
    /// Kernel send buffer per connection in bytes (0: the OS default).
    pub send_buffer: usize,
}

/// Largest buffer hyper keeps per connection for a request head or queued response bytes.
pub const MAX_CONN_BUFFER: usize = 64 * 1024;
/// Repeated refusals and accept failures are logged at most once per this window.
const LOG_WINDOW: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `shutdown`, then closes the listener (new connections
/// are refused by the kernel, not left waiting) and lets open requests finish; upgraded
/// connections (the game WebSocket) are not waited for here.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
    limits: ConnLimits,
) {
    let mut gate = Gate::new(router, shutdown.clone(), limits);
    let mut failures = AcceptFailures::new(LOG_WINDOW);
    let mut log_tick = tokio::time::interval(LOG_WINDOW);
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = log_tick.tick() => {
                failures.flush();
                gate.flush_log();
                continue;
            }
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((tcp, addr)) => {
                failures.succeeded();
                gate.admit(tcp, addr);
            }
            Err(e) => {
                let pause = failures.failed(&e);
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    () = tokio::time::sleep(pause) => {}
                }
            }
        }
    }
    drop(listener);
    gate.connections.close();
    gate.connections.wait().await;
}

/// Decides for each accepted connection: served, or refused with a 503.
struct Gate {
    http: Arc<http1::Builder>,
    router: Router,
    shutdown: CancellationToken,
    limits: ConnLimits,
    slots: Arc<AddrSlots>,
    refuser: Refuser,
    refusals: Burst,
    connections: TaskTracker,
}

impl Gate {
    fn new(router: Router, shutdown: CancellationToken, limits: ConnLimits) -> Self {
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .max_buf_size(MAX_CONN_BUFFER)
            .max_headers(super::guards::MAX_PARSED_HEADERS);
        Self {
            http: Arc::new(http),
            router,
            shutdown,
            slots: AddrSlots::new(limits.per_addr),
            refuser: Refuser::new(limits.header_timeout, limits.write_timeout),
            limits,
            refusals: Burst::new(LOG_WINDOW),
            connections: TaskTracker::new(),
        }
    }

    /// Serves `tcp` in a task of its own, or refuses it.
    fn admit(&mut self, tcp: TcpStream, addr: SocketAddr) {
        tune_socket(&tcp, self.limits.send_buffer);
        match self.slot(addr) {
            Ok(slot) => {
                let socket = Socket::new(tcp, self.limits.write_timeout, Some(slot));
                self.connections.spawn(serve_connection(
                    self.http.clone(),
                    socket,
                    addr,
                    self.router.clone(),
                    self.shutdown.clone(),
                ));
            }
            Err(why) => {
                if self.refusals.note(Instant::now()) {
                    tracing::warn!(%addr, reason = why.as_str(), "refusing connections with 503; further refusals are counted");
                }
                self.refuser.refuse(tcp, why);
            }
        }
    }

    /// A slot for a new connection from `addr`, or why it is refused.
    fn slot(&self, addr: SocketAddr) -> Result<AddrSlot, Refusal> {
        let open = self.connections.len() + self.limits.upgraded.len();
        if open >= self.limits.max_connections {
            return Err(Refusal::ServerFull);
        }
        self.slots
            .try_acquire(addr.ip())
            .ok_or(Refusal::AddressFull)
    }

    /// Logs the refusals counted since the last line, if a log window has passed.
    fn flush_log(&mut self) {
        if let Some(n) = self.refusals.flush(Instant::now()) {
            tracing::warn!(refused = n, "{n} more connections refused");
        }
    }
}

/// Serves one connection, shutting it down gracefully when `shutdown` fires.
async fn serve_connection(
    http: Arc<http1::Builder>,
    socket: Socket,
    addr: SocketAddr,
    router: Router,
    shutdown: CancellationToken,
) {
    let outbox = socket.outbox();
    let service = router.map_request(move |req: Request<Incoming>| {
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(ConnectInfo(addr));
        req.extensions_mut().insert(outbox.clone());
        req
    });
    let conn = http
        .serve_connection(TokioIo::new(socket), TowerToHyperService::new(service))
        .with_upgrades();
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
