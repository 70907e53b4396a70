//! [`Socket`]: an accepted TCP connection with a write deadline, holding its address's slot for
//! as long as it lives (also after a WebSocket upgrade, which takes the socket over). Its bytes
//! go through the connection's [`Outbox`], which a game connection's room also writes frames
//! into; the room may hold the outbox (and so the file descriptor) until it notices the
//! connection ended, about one tick, though it writes nothing after the socket is dropped.

use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

use super::addr_slots::AddrSlot;
use crate::net::outbox::Outbox;

/// A client connection. A write that makes no progress for the write timeout fails with
/// `TimedOut`, which ends the connection: a peer that stops reading cannot hold it.
#[derive(Debug)]
pub struct Socket {
    outbox: Arc<Outbox>,
    write_timeout: Duration,
    /// Armed while a write waits for the peer, with the outbox's progress when it was last
    /// checked; it fires only if no byte was written since.
    stall: Option<(Pin<Box<Sleep>>, u64)>,
    _slot: Option<AddrSlot>,
}

/// A connection's outbox, as the request extensions of its HTTP requests carry it: the game
/// WebSocket hands it to the room.
#[derive(Debug, Clone)]
pub struct ConnOutbox(pub Arc<Outbox>);

impl Socket {
    /// Wraps `tcp`; `slot` is released when the socket closes.
    pub fn new(tcp: TcpStream, write_timeout: Duration, slot: Option<AddrSlot>) -> Self {
        Self {
            outbox: Arc::new(Outbox::new(tcp)),
            write_timeout,
            stall: None,
            _slot: slot,
        }
    }

    /// The connection's outbox.
    pub fn outbox(&self) -> ConnOutbox {
        ConnOutbox(self.outbox.clone())
    }

    /// `poll` completed: the stall deadline goes. It is still waiting: the deadline is armed
    /// if it was not, and when it fires the write fails, unless the socket took bytes since it
    /// was armed (then it is armed again).
    fn timed<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if poll.is_ready() {
            self.stall = None;
            return poll;
        }
        let timeout = self.write_timeout;
        let outbox = &self.outbox;
        let (deadline, seen) = self
            .stall
            .get_or_insert_with(|| (Box::pin(tokio::time::sleep(timeout)), outbox.progress()));
        while deadline.as_mut().poll(cx).is_ready() {
            let now = outbox.progress();
            if now == *seen {
                return Poll::Ready(Err(io::ErrorKind::TimedOut.into()));
            }
            *seen = now;
            deadline
                .as_mut()
                .reset(tokio::time::Instant::now() + timeout);
        }
        Poll::Pending
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // The room may hold the outbox a little longer: no frame goes out after the socket.
        self.outbox.stop_frames();
        let _ = self.outbox.shutdown(Shutdown::Both);
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.outbox.poll_read(cx, buf)
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = self.outbox.poll_write(cx, &[IoSlice::new(buf)]);
        self.timed(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = self.outbox.poll_write(cx, bufs);
        self.timed(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = self.outbox.poll_flush(cx);
        self.timed(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = self.outbox.poll_flush(cx);
        match self.timed(cx, poll) {
            Poll::Ready(Ok(())) => Poll::Ready(self.outbox.shutdown(Shutdown::Write)),
            other => other,
        }
    }
}
