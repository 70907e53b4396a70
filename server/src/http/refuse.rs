//! Connections the server will not serve get an answer rather than a reset: the first request
//! on one gets 503 with `Retry-After`, then the connection closes.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse as _;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use super::error::ApiError;
use super::socket::Socket;

/// Refused connections being answered at once; past this, further ones are closed unanswered
/// (answering must not cost more than the connections it refuses).
const MAX_ANSWERING: usize = 64;
/// Longest a refused connection is kept to read its request and write the answer.
const ANSWER_DEADLINE: Duration = Duration::from_secs(2);

/// Why a connection is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Its address holds `--max-connections-per-addr` connections.
    AddressFull,
    /// The server holds `--max-connections` connections.
    ServerFull,
}

impl Refusal {
    /// A short name for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AddressFull => "too many connections from this address",
            Self::ServerFull => "server connection limit reached",
        }
    }

    fn error(self) -> ApiError {
        let (code, retry_after) = match self {
            Self::AddressFull => ("too_many_connections", 5),
            Self::ServerFull => ("server_full", 10),
        };
        ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, self.as_str())
        }
    }
}

/// Answers refused connections, a bounded number at a time.
#[derive(Debug)]
pub struct Refuser {
    answering: Arc<Semaphore>,
    http: http1::Builder,
    write_timeout: Duration,
}

impl Refuser {
    /// A refuser whose answers may wait `write_timeout` on a stalled write (and never more
    /// than its own deadline overall).
    pub fn new(header_timeout: Duration, write_timeout: Duration) -> Self {
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(header_timeout.min(ANSWER_DEADLINE))
            .keep_alive(false);
        Self {
            answering: Arc::new(Semaphore::new(MAX_ANSWERING)),
            http,
            write_timeout: write_timeout.min(ANSWER_DEADLINE),
        }
    }

    /// Answers `tcp`'s first request with a 503 for `why`, then closes it; closes it at once
    /// when too many refusals are being answered already.
    pub fn refuse(&self, tcp: TcpStream, why: Refusal) {
        let Ok(permit) = self.answering.clone().try_acquire_owned() else {
            return;
        };
        let socket = Socket::new(tcp, self.write_timeout, None);
        let service = hyper::service::service_fn(move |_| {
            std::future::ready(Ok::<_, Infallible>(why.error().into_response()))
        });
        let conn = self.http.serve_connection(TokioIo::new(socket), service);
        tokio::spawn(async move {
            let _permit = permit;
            // Either way the connection is over; the client got its answer or went away.
            let _ = tokio::time::timeout(ANSWER_DEADLINE, conn).await;
        });
    }
}
