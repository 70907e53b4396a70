//! A TCP proxy for the tests: it forwards bytes both ways, each after a fixed delay (a plain TCP
//! proxy also carries HTTP and the WebSocket upgrade), and can cut every open connection at
//! once, as a network that dies would.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// A running proxy; it stops when dropped.
pub struct DelayProxy {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Cancelled by [`DelayProxy::cut`]: the open connections' token, replaced by a fresh one.
    cut: Arc<Mutex<CancellationToken>>,
    stop: CancellationToken,
}

impl DelayProxy {
    /// Forwards the connections of `listener` to `target`, delaying each byte by `delay` in
    /// each direction (the listener is bound first, so a server can be told the proxy's
    /// address before it starts).
    pub fn serve(listener: TcpListener, target: SocketAddr, delay: Duration) -> Self {
        let addr = listener.local_addr().expect("proxy address");
        let stop = CancellationToken::new();
        let cut = Arc::new(Mutex::new(stop.child_token()));
        let (cuts, stopped) = (cut.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = stopped.cancelled() => return,
                    a = listener.accept() => a,
                };
                let Ok((client, _)) = accepted else { continue };
                let token = cuts.lock().unwrap().child_token();
                tokio::spawn(connection(client, target, delay, token));
            }
        });
        Self { addr, cut, stop }
    }

    /// The proxy's base URL, `http://ADDR:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Closes every open connection (both sides); later connections go through as before.
    pub fn cut(&self) {
        let mut token = self.cut.lock().unwrap();
        token.cancel();
        *token = self.stop.child_token();
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.stop.cancel();
        self.cut.lock().unwrap().cancel();
    }
}

/// Forwards one connection both ways until either side closes or `cut`.
async fn connection(
    client: TcpStream,
    target: SocketAddr,
    delay: Duration,
    cut: CancellationToken,
) {
    let Ok(server) = TcpStream::connect(target).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::select! {
        _ = cut.cancelled() => {}
        _ = async {
            tokio::join!(
                pipe(client_read, server_write, delay),
                pipe(server_read, client_write, delay),
            )
        } => {}
    }
}

/// Copies `from` to `to`, each chunk `delay` after it was read; shuts `to` down after EOF.
async fn pipe(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, delay: Duration) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx
                        .send((Instant::now() + delay, buf[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
        // Dropping `tx` ends the writer once it has written what was read.
    };
    let writer = async move {
        while let Some((due, bytes)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if to.write_all(&bytes).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}
