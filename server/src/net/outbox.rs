//! [`Outbox`]: a connection's TCP socket as its room and its own task share it.
//!
//! A room writes each frame straight into the socket from the thread that encoded it
//! ([`Outbox::send_frame`]: the WebSocket header and the payload in one non-blocking `writev`),
//! so a client that keeps up costs no task wake and no hand-off between threads. Only when the
//! kernel cannot take a whole frame does the rest wait here, and the connection's task is woken
//! to write it once the socket is writable ([`Outbox::keep_written`]). Everything else the
//! connection writes (HTTP responses, WebSocket control frames, the close) goes through the same
//! buffer in order, so the bytes of two writers never interleave.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker, ready};
use std::time::Duration;

use bytes::Bytes;
use smallvec::SmallVec;
use tokio::io::ReadBuf;
use tokio::net::TcpStream;

use crate::room::queue::PushError;

/// Most bytes that may wait (the room's frames included) before a write of the connection's
/// own waits for the socket; one write may go past it. The room's frames are bounded by their
/// count instead.
const MAX_WAITING_BYTES: usize = 64 * 1024;
/// Most chunks handed to one `writev`.
const MAX_SLICES: usize = 32;

/// A connection's socket and the bytes it has not written yet.
#[derive(Debug)]
pub struct Outbox {
    tcp: TcpStream,
    /// Set when the room's frames must stop: the connection is closing, gone or broken.
    stopped: AtomicBool,
    waiting: Mutex<Waiting>,
}

/// Bytes waiting for the socket, in order.
#[derive(Debug, Default)]
struct Waiting {
    chunks: VecDeque<Chunk>,
    /// Bytes of the front chunk already written.
    written: usize,
    /// How many chunks are room frames.
    frames: usize,
    /// Bytes in `chunks` (the front one's written part included).
    bytes: usize,
    /// Bytes written since the socket opened: a write deadline only fires when this stood still.
    progress: u64,
    /// The connection's task, woken when a frame leaves bytes waiting where none waited.
    task: Option<Waker>,
}

/// One write that waits: a room frame (header and payload), or bytes of the connection's own.
#[derive(Debug)]
struct Chunk {
    header: Header,
    body: Bytes,
    frame: bool,
}

/// A WebSocket frame header: at most 10 bytes.
#[derive(Debug, Clone, Copy, Default)]
struct Header {
    bytes: [u8; 10],
    len: u8,
}

impl Header {
    /// The header of an unmasked, final, binary frame (server to client) of `len` bytes.
    fn binary(len: usize) -> Self {
        let mut h = Header::default();
        h.bytes[0] = 0x82;
        if len < 126 {
            h.bytes[1] = len as u8;
            h.len = 2;
        } else if let Ok(short) = u16::try_from(len) {
            h.bytes[1] = 126;
            h.bytes[2..4].copy_from_slice(&short.to_be_bytes());
            h.len = 4;
        } else {
            h.bytes[1] = 127;
            h.bytes[2..10].copy_from_slice(&(len as u64).to_be_bytes());
            h.len = 10;
        }
        h
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl Chunk {
    fn len(&self) -> usize {
        usize::from(self.header.len) + self.body.len()
    }

    /// Appends the slices of what is left after the first `skip` bytes.
    fn slices<'a>(&'a self, skip: usize, out: &mut SmallVec<[IoSlice<'a>; MAX_SLICES]>) {
        let header = self.header.as_slice();
        if skip < header.len() {
            out.push(IoSlice::new(&header[skip..]));
        }
        let body = &self.body[skip.saturating_sub(header.len())..];
        if !body.is_empty() {
            out.push(IoSlice::new(body));
        }
    }
}

impl Waiting {
    fn push(&mut self, chunk: Chunk, written: usize) {
        if self.chunks.is_empty() {
            self.written = written;
        }
        self.bytes += chunk.len();
        self.frames += usize::from(chunk.frame);
        self.chunks.push_back(chunk);
    }

    /// Forgets the first `n` waiting bytes: the socket took them.
    fn advance(&mut self, mut n: usize) {
        self.progress += n as u64;
        while let Some(front) = self.chunks.front() {
            let left = front.len() - self.written;
            if n < left {
                self.written += n;
                return;
            }
            n -= left;
            self.bytes -= front.len();
            self.frames -= usize::from(front.frame);
            self.chunks.pop_front();
            self.written = 0;
        }
    }
}

impl Outbox {
    /// The outbox of an accepted connection.
    pub fn new(tcp: TcpStream) -> Self {
        Self {
            tcp,
            stopped: AtomicBool::new(false),
            waiting: Mutex::new(Waiting::default()),
        }
    }

    /// The socket, for its options.
    #[cfg(test)]
    fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    fn lock(&self) -> MutexGuard<'_, Waiting> {
        // Nothing panics while holding the lock; a poisoned one still holds consistent data.
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes `payload` as one binary WebSocket message, without waiting: straight into the
    /// socket when it takes it, else (the rest of) it waits for the connection's task to write.
    /// Refused when `max_waiting` frames already wait (the client is behind) or frames stopped.
    /// It takes the connection's lock: a connection's task holds it only for a non-blocking
    /// write, so a tick thread never waits for a peer.
    pub fn send_frame(&self, payload: Bytes, max_waiting: usize) -> Result<(), PushError> {
        let mut waiting = self.lock();
        // Read under the lock: a close written after `stop_frames` is never followed by a frame.
        if self.stopped.load(Ordering::Acquire) {
            return Err(PushError::Closed(payload));
        }
        if waiting.frames >= max_waiting {
            return Err(PushError::Full(payload));
        }
        let chunk = Chunk {
            header: Header::binary(payload.len()),
            body: payload,
            frame: true,
        };
        let mut written = 0;
        if waiting.chunks.is_empty() {
            let slices = [
                IoSlice::new(chunk.header.as_slice()),
                IoSlice::new(&chunk.body),
            ];
            match self.tcp.try_write_vectored(&slices) {
                Ok(n) if n == chunk.len() => {
                    waiting.progress += n as u64;
                    return Ok(());
                }
                Ok(n) => {
                    waiting.progress += n as u64;
                    written = n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => {
                    // Broken: the connection's task learns it from its own next read or write.
                    self.stopped.store(true, Ordering::Release);
                    return Err(PushError::Closed(chunk.body));
                }
            }
        }
        let wake = waiting.chunks.is_empty().then(|| waiting.task.clone());
        waiting.push(chunk, written);
        drop(waiting);
        // Once bytes wait, the task writes on until none do: only the first needs a wake.
        if let Some(Some(task)) = wake {
            task.wake();
        }
        Ok(())
    }

    /// Whether the room may still send frames.
    pub fn is_open(&self) -> bool {
        !self.stopped.load(Ordering::Acquire)
    }

    /// Stops the room's frames: nothing the room sends from now on is written.
    pub fn stop_frames(&self) {
        self.stopped.store(true, Ordering::Release);
    }

    /// Drops the room's frames that wait and have not started to be written (a lagging client
    /// gets its close sooner).
    pub fn drop_waiting_frames(&self) {
        let mut waiting = self.lock();
        let started = waiting.written > 0;
        let mut index = 0;
        waiting.chunks.retain(|c| {
            let keep = !c.frame || (index == 0 && started);
            index += 1;
            keep
        });
        waiting.frames = waiting.chunks.iter().filter(|c| c.frame).count();
        waiting.bytes = waiting.chunks.iter().map(Chunk::len).sum();
    }

    /// Writes what waits until all is written or the socket is full.
    fn write_waiting(&self, waiting: &mut Waiting) -> io::Result<()> {
        while !waiting.chunks.is_empty() {
            let mut slices = SmallVec::<[IoSlice<'_>; MAX_SLICES]>::new();
            let mut skip = waiting.written;
            for chunk in waiting.chunks.iter() {
                if slices.len() + 2 > MAX_SLICES {
                    break;
                }
                chunk.slices(skip, &mut slices);
                skip = 0;
            }
            match self.tcp.try_write_vectored(&slices) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    drop(slices);
                    waiting.advance(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Writes the connection's own bytes (`bufs`, in order) after what waits. All or nothing:
    /// `Ready(len)` once all of them are written or waiting, `Pending` (having taken none) while
    /// too much waits already. Never a partial count: a writer such as tungstenite hands over
    /// whole WebSocket frames, and the room's frames may only go between whole ones.
    pub fn poll_write(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len: usize = bufs.iter().map(|b| b.len()).sum();
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        loop {
            let mut waiting = self.lock();
            self.write_waiting(&mut waiting)?;
            if waiting.bytes < MAX_WAITING_BYTES {
                let mut written = 0;
                if waiting.chunks.is_empty() {
                    match self.tcp.try_write_vectored(bufs) {
                        Ok(n) => written = n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) => return Poll::Ready(Err(e)),
                    }
                    waiting.progress += written as u64;
                }
                if written < len {
                    let rest = Chunk {
                        header: Header::default(),
                        body: rest_of(bufs, written),
                        frame: false,
                    };
                    waiting.push(rest, 0);
                }
                return Poll::Ready(Ok(len));
            }
            drop(waiting);
            ready!(self.tcp.poll_write_ready(cx))?;
        }
    }

    /// Bytes written since the socket opened; a write deadline checks that it moved.
    pub fn progress(&self) -> u64 {
        self.lock().progress
    }

    /// `Ready` once nothing waits.
    pub fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let mut waiting = self.lock();
            self.write_waiting(&mut waiting)?;
            if waiting.chunks.is_empty() {
                return Poll::Ready(Ok(()));
            }
            drop(waiting);
            ready!(self.tcp.poll_write_ready(cx))?;
        }
    }

    /// Reads what the peer sent into `buf`.
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.tcp.poll_read_ready(cx))?;
            match self.tcp.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Shuts the socket down in `how`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        socket2::SockRef::from(&self.tcp).shutdown(how)
    }

    /// `Ready` when bytes wait; registers the calling task to be woken when a frame leaves some.
    fn poll_waiting(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut waiting = self.lock();
        if !waiting
            .task
            .as_ref()
            .is_some_and(|t| t.will_wake(cx.waker()))
        {
            waiting.task = Some(cx.waker().clone());
        }
        if waiting.chunks.is_empty() {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }

    /// Run by the connection's task for as long as it plays: writes whatever the room's frames
    /// left waiting, as the socket takes it. Returns only when a write fails, or when bytes
    /// waited while the socket took nothing for `stall`.
    pub async fn keep_written(&self, stall: Duration) -> io::Error {
        loop {
            poll_fn(|cx| self.poll_waiting(cx)).await;
            let mut seen = self.progress();
            let deadline = tokio::time::sleep(stall);
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    flushed = poll_fn(|cx| self.poll_flush(cx)) => match flushed {
                        Ok(()) => break,
                        Err(e) => return e,
                    },
                    () = &mut deadline => {
                        let now = self.progress();
                        if now == seen {
                            return io::ErrorKind::TimedOut.into();
                        }
                        seen = now;
                        deadline.as_mut().reset(tokio::time::Instant::now() + stall);
                    }
                }
            }
        }
    }
}

/// What is left of `bufs` after the first `skip` bytes, in one buffer.
fn rest_of(bufs: &[IoSlice<'_>], mut skip: usize) -> Bytes {
    let mut rest = Vec::new();
    for buf in bufs {
        let take = skip.min(buf.len());
        rest.extend_from_slice(&buf[take..]);
        skip -= take;
    }
    Bytes::from(rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use tokio::io::AsyncReadExt;
    use tokio_tungstenite::tungstenite::protocol::Role;

    async fn pair() -> (Outbox, TcpStream) {
        pair_with_receive_buffer(None).await
    }

    /// A connected pair: the server side's outbox, and the client's socket (with a receive
    /// buffer of `rcvbuf` bytes if given, so that a client that does not read stalls soon).
    async fn pair_with_receive_buffer(rcvbuf: Option<u32>) -> (Outbox, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        if let Some(size) = rcvbuf {
            socket.set_recv_buffer_size(size).unwrap();
        }
        let client = socket
            .connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (Outbox::new(server), client)
    }

    #[test]
    fn headers_follow_rfc_6455_lengths() {
        assert_eq!(Header::binary(5).as_slice(), [0x82, 5]);
        assert_eq!(Header::binary(300).as_slice(), [0x82, 126, 1, 44]);
        assert_eq!(
            Header::binary(70_000).as_slice(),
            [0x82, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]
        );
    }

    #[tokio::test]
    async fn frames_arrive_as_websocket_messages_in_order_with_the_tasks_own_bytes() {
        let (outbox, client) = pair().await;
        let big = Bytes::from(vec![7u8; 70_000]);
        outbox.send_frame(Bytes::from_static(b"one"), 8).unwrap();
        outbox.send_frame(big.clone(), 8).unwrap();
        // A close frame (code 1000) written by the task's own path, after the frames.
        let close = [0x88, 2, 0x03, 0xe8];
        let written = poll_fn(|cx| outbox.poll_write(cx, &[IoSlice::new(&close)]))
            .await
            .unwrap();
        assert_eq!(written, close.len());
        let mut ws =
            tokio_tungstenite::WebSocketStream::from_raw_socket(client, Role::Client, None).await;
        let keep = tokio::spawn(async move {
            let outbox = outbox;
            let e = outbox.keep_written(Duration::from_secs(5)).await;
            (outbox, e)
        });
        let first = ws.next().await.unwrap().unwrap();
        assert_eq!(first.into_data(), Bytes::from_static(b"one"));
        assert_eq!(ws.next().await.unwrap().unwrap().into_data(), big);
        assert!(ws.next().await.unwrap().unwrap().is_close());
        keep.abort();
    }

    #[tokio::test]
    async fn a_client_that_does_not_read_fills_the_count_then_frames_are_refused() {
        let (outbox, mut client) = pair().await;
        socket2::SockRef::from(outbox.tcp())
            .set_send_buffer_size(4096)
            .unwrap();
        let frame = Bytes::from(vec![1u8; 16 * 1024]);
        let mut refused = None;
        for _ in 0..1000 {
            if let Err(e) = outbox.send_frame(frame.clone(), 4) {
                refused = Some(e);
                break;
            }
        }
        assert!(matches!(refused, Some(PushError::Full(_))), "{refused:?}");
        outbox.drop_waiting_frames();
        assert!(outbox.lock().frames <= 1, "only a started frame stays");
        outbox.stop_frames();
        assert!(matches!(
            outbox.send_frame(frame, 4),
            Err(PushError::Closed(_))
        ));
        // What was started still ends whole: the client reads a count of whole frames.
        let flushed = tokio::spawn(async move {
            poll_fn(|cx| outbox.poll_flush(cx)).await.unwrap();
        });
        let mut total = 0usize;
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(Ok(n @ 1..)) =
            tokio::time::timeout(Duration::from_millis(500), client.read(&mut buf)).await
        {
            total += n;
        }
        flushed.await.unwrap();
        assert_eq!(total % (16 * 1024 + 4), 0, "{total} bytes: a frame was cut");
    }

    #[tokio::test]
    async fn no_frame_follows_the_connections_close() {
        let (outbox, _client) = pair().await;
        outbox.stop_frames();
        let close = [0x88, 0];
        poll_fn(|cx| outbox.poll_write(cx, &[IoSlice::new(&close)]))
            .await
            .unwrap();
        assert!(matches!(
            outbox.send_frame(Bytes::from_static(b"late"), 8),
            Err(PushError::Closed(_))
        ));
    }

    #[tokio::test]
    async fn a_slow_reader_that_keeps_reading_outlives_the_stall_deadline() {
        let (outbox, mut client) = pair_with_receive_buffer(Some(4096)).await;
        socket2::SockRef::from(outbox.tcp())
            .set_send_buffer_size(4096)
            .unwrap();
        let outbox = std::sync::Arc::new(outbox);
        let frame = Bytes::from(vec![3u8; 8 * 1024]);
        for _ in 0..8 {
            outbox.send_frame(frame.clone(), 64).unwrap();
        }
        let stall = Duration::from_millis(300);
        let keeper = outbox.clone();
        let kept = tokio::spawn(async move { keeper.keep_written(stall).await });
        // Empty the receive buffer every 50 ms for well over the stall time: progress, while
        // more frames keep coming.
        let mut buf = vec![0u8; 16 * 1024];
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let read = tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf)).await;
            assert!(matches!(read, Ok(Ok(1..))), "{read:?}");
            outbox.send_frame(frame.clone(), 64).unwrap();
        }
        assert!(
            !kept.is_finished(),
            "a reader that makes progress is not cut off"
        );
        // Silence: now the deadline fires.
        let e = tokio::time::timeout(Duration::from_secs(5), kept)
            .await
            .expect("the stall deadline fires")
            .unwrap();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    }
}
