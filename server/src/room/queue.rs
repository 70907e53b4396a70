//! [`FrameSender`]: where a room sends one connection's frames, without ever waiting.
//!
//! A served connection's frames go straight into its socket ([`Outbox`]), at most a bounded
//! number of them waiting when the socket is full. [`frame_queue`] is the in-memory stand-in
//! used to drive a room without sockets (its tests and benchmarks): a fixed ring of `capacity`
//! slots, read with [`FrameReceiver::try_recv`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use crossbeam_queue::ArrayQueue;

use crate::net::outbox::Outbox;

/// Why a frame was not queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushError {
    /// The queue is full: the connection is behind.
    Full(Bytes),
    /// The connection is gone.
    Closed(Bytes),
}

#[derive(Debug)]
struct Inner {
    frames: ArrayQueue<Bytes>,
    receiver_alive: AtomicBool,
}

/// Where a room sends one connection's frames; cloneable.
#[derive(Debug, Clone)]
pub enum FrameSender {
    /// Straight into the connection's socket; at most `max_waiting` frames wait when it is full.
    Socket {
        /// The connection's socket.
        outbox: Arc<Outbox>,
        /// Frames that may wait before the client counts as behind.
        max_waiting: usize,
    },
    /// Into an in-memory queue, read by a [`FrameReceiver`].
    Queue(QueueSender),
}

/// The sending side of a [`frame_queue`].
#[derive(Debug, Clone)]
pub struct QueueSender(Arc<Inner>);

/// The receiving side, owned by the connection's task.
#[derive(Debug)]
pub struct FrameReceiver(Arc<Inner>);

/// A queue of at most `capacity` frames (at least 1).
pub fn frame_queue(capacity: usize) -> (FrameSender, FrameReceiver) {
    let inner = Arc::new(Inner {
        frames: ArrayQueue::new(capacity.max(1)),
        receiver_alive: AtomicBool::new(true),
    });
    (
        FrameSender::Queue(QueueSender(inner.clone())),
        FrameReceiver(inner),
    )
}

impl FrameSender {
    /// Sends a frame without waiting.
    pub fn try_send(&self, frame: Bytes) -> Result<(), PushError> {
        match self {
            FrameSender::Socket {
                outbox,
                max_waiting,
            } => outbox.send_frame(frame, *max_waiting),
            FrameSender::Queue(q) => q.try_send(frame),
        }
    }

    /// Whether frames can still go out: the connection is neither closing nor gone.
    pub fn is_open(&self) -> bool {
        match self {
            FrameSender::Socket { outbox, .. } => outbox.is_open(),
            FrameSender::Queue(q) => q.0.receiver_alive.load(Ordering::Acquire),
        }
    }
}

impl QueueSender {
    fn try_send(&self, frame: Bytes) -> Result<(), PushError> {
        if !self.0.receiver_alive.load(Ordering::Acquire) {
            return Err(PushError::Closed(frame));
        }
        self.0.frames.push(frame).map_err(PushError::Full)
    }
}

impl FrameReceiver {
    /// The next frame, if one is queued.
    pub fn try_recv(&mut self) -> Option<Bytes> {
        self.0.frames.pop()
    }
}

impl Drop for FrameReceiver {
    fn drop(&mut self) {
        self.0.receiver_alive.store(false, Ordering::Release);
        // Free queued frames now rather than when the last sender goes.
        while self.0.frames.pop().is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_arrive_in_order_until_full_then_closed_after_drop() {
        let (tx, mut rx) = frame_queue(2);
        tx.try_send(Bytes::from_static(b"a")).unwrap();
        tx.try_send(Bytes::from_static(b"b")).unwrap();
        assert!(matches!(
            tx.try_send(Bytes::from_static(b"c")),
            Err(PushError::Full(_))
        ));
        assert_eq!(rx.try_recv(), Some(Bytes::from_static(b"a")));
        assert_eq!(rx.try_recv(), Some(Bytes::from_static(b"b")));
        assert_eq!(rx.try_recv(), None);
        assert!(tx.is_open());
        drop(rx);
        assert!(!tx.is_open());
        assert!(matches!(
            tx.try_send(Bytes::from_static(b"e")),
            Err(PushError::Closed(_))
        ));
    }
}
