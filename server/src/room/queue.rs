//! [`frame_queue`]: the bounded queue of encoded frames from a room to one connection.
//!
//! A fixed ring of `capacity` slots and one waker: the room (and the connection itself, for
//! pongs) pushes without ever waiting; the connection's task pops. It holds a few hundred bytes
//! per connection, where a general-purpose channel preallocates blocks of 32 slots.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

use bytes::Bytes;
use crossbeam_queue::ArrayQueue;
use futures_util::task::AtomicWaker;

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
    waker: AtomicWaker,
    receiver_alive: AtomicBool,
}

/// The sending side; cloneable.
#[derive(Debug, Clone)]
pub struct FrameSender(Arc<Inner>);

/// The receiving side, owned by the connection's task.
#[derive(Debug)]
pub struct FrameReceiver(Arc<Inner>);

/// A queue of at most `capacity` frames (at least 1).
pub fn frame_queue(capacity: usize) -> (FrameSender, FrameReceiver) {
    let inner = Arc::new(Inner {
        frames: ArrayQueue::new(capacity.max(1)),
        waker: AtomicWaker::new(),
        receiver_alive: AtomicBool::new(true),
    });
    (FrameSender(inner.clone()), FrameReceiver(inner))
}

impl FrameSender {
    /// Queues a frame without waiting.
    pub fn try_send(&self, frame: Bytes) -> Result<(), PushError> {
        if !self.0.receiver_alive.load(Ordering::Acquire) {
            return Err(PushError::Closed(frame));
        }
        self.0.frames.push(frame).map_err(PushError::Full)?;
        self.0.waker.wake();
        Ok(())
    }
}

impl FrameSender {
    /// Whether the receiving side (the connection's task) still exists.
    pub fn is_open(&self) -> bool {
        self.0.receiver_alive.load(Ordering::Acquire)
    }
}

impl FrameReceiver {
    /// The next frame, if one is queued.
    pub fn try_recv(&mut self) -> Option<Bytes> {
        self.0.frames.pop()
    }

    /// Waits for the next frame. Cancel-safe.
    pub fn recv(&mut self) -> impl Future<Output = Bytes> + '_ {
        std::future::poll_fn(|cx| {
            if let Some(frame) = self.0.frames.pop() {
                return Poll::Ready(frame);
            }
            self.0.waker.register(cx.waker());
            match self.0.frames.pop() {
                Some(frame) => Poll::Ready(frame),
                None => Poll::Pending,
            }
        })
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

    #[tokio::test]
    async fn frames_arrive_in_order_until_full_then_closed_after_drop() {
        let (tx, mut rx) = frame_queue(2);
        tx.try_send(Bytes::from_static(b"a")).unwrap();
        tx.try_send(Bytes::from_static(b"b")).unwrap();
        assert!(matches!(
            tx.try_send(Bytes::from_static(b"c")),
            Err(PushError::Full(_))
        ));
        assert_eq!(rx.recv().await, Bytes::from_static(b"a"));
        assert_eq!(rx.try_recv(), Some(Bytes::from_static(b"b")));
        assert_eq!(rx.try_recv(), None);
        let waiter = tokio::spawn(async move {
            let frame = rx.recv().await;
            (frame, rx)
        });
        tokio::task::yield_now().await;
        tx.try_send(Bytes::from_static(b"d")).unwrap();
        let (frame, rx) = waiter.await.unwrap();
        assert_eq!(frame, Bytes::from_static(b"d"));
        drop(rx);
        assert!(matches!(
            tx.try_send(Bytes::from_static(b"e")),
            Err(PushError::Closed(_))
        ));
    }
}
