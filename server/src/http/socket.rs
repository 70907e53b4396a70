//! [`Socket`]: an accepted TCP connection with a write deadline, holding its address's slot for
//! as long as it lives (also after a WebSocket upgrade, which takes the socket over).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_io_timeout::TimeoutStream;

use super::addr_slots::AddrSlot;

/// A client connection. A write that makes no progress for the write timeout fails with
/// `TimedOut`, which ends the connection: a peer that stops reading cannot hold it.
#[derive(Debug)]
pub struct Socket {
    io: Pin<Box<TimeoutStream<TcpStream>>>,
    _slot: Option<AddrSlot>,
}

impl Socket {
    /// Wraps `tcp`; `slot` is released when the socket closes.
    pub fn new(tcp: TcpStream, write_timeout: Duration, slot: Option<AddrSlot>) -> Self {
        let mut io = TimeoutStream::new(tcp);
        io.set_write_timeout(Some(write_timeout));
        Self {
            io: Box::pin(io),
            _slot: slot,
        }
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.io.as_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io.as_mut().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io.as_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.as_mut().poll_shutdown(cx)
    }
}
