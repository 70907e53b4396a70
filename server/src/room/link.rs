//! What passes between a connection's tasks and its room.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;

use futures_util::task::AtomicWaker;
use protocol::{CloseCode, Input, NetId};
use tokio::sync::oneshot;

use super::queue::FrameSender;

/// Why and how a connection must close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseRequest {
    /// The close code.
    pub code: CloseCode,
    /// The reason sent to the client.
    pub reason: Cow<'static, str>,
}

/// Asks a connection to close; the first request wins. Cloneable, never blocks.
///
/// Its one waiter (the connection's task) polls it on every wake, so waiting is an atomic load
/// and a waker registration, not a channel subscription.
#[derive(Debug, Clone, Default)]
pub struct CloseSignal(Arc<CloseState>);

#[derive(Debug, Default)]
struct CloseState {
    requested: AtomicBool,
    request: Mutex<Option<CloseRequest>>,
    waker: AtomicWaker,
}

impl CloseSignal {
    /// A signal with no request yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests the close unless one was requested already.
    pub fn close(&self, code: CloseCode, reason: impl Into<Cow<'static, str>>) {
        {
            let mut slot = self
                .0
                .request
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if slot.is_some() {
                return;
            }
            *slot = Some(CloseRequest {
                code,
                reason: reason.into(),
            });
        }
        self.0.requested.store(true, Ordering::Release);
        self.0.waker.wake();
    }

    /// The request made so far, if any.
    pub fn requested(&self) -> Option<CloseRequest> {
        if !self.0.requested.load(Ordering::Acquire) {
            return None;
        }
        self.0
            .request
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Resolves with the request once there is one (at once if there is one already).
    pub fn wait(&self) -> impl Future<Output = CloseRequest> + '_ {
        std::future::poll_fn(|cx| {
            if let Some(req) = self.requested() {
                return Poll::Ready(req);
            }
            self.0.waker.register(cx.waker());
            match self.requested() {
                Some(req) => Poll::Ready(req),
                None => Poll::Pending,
            }
        })
    }
}

/// The outbound side of a game connection, as its room holds it.
#[derive(Debug, Clone)]
pub struct ClientConn {
    /// Unique per connection, to tell a stale connection's messages from a resumed one's.
    pub conn_id: u64,
    /// Where the room sends encoded frames (straight into the socket; the room only ever
    /// `try_send`s).
    pub frames: FrameSender,
    /// Closes the connection.
    pub close: CloseSignal,
}

impl ClientConn {
    /// Whether the connection can still be served: frames can still go out (it is neither
    /// closing, nor gone, nor broken) and no close
    /// was requested.
    pub fn is_open(&self) -> bool {
        self.frames.is_open() && self.close.requested().is_none()
    }
}

/// Why a room refused a join or resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JoinRefused {
    /// The token is unknown, used or expired.
    #[error("{0}")]
    BadToken(&'static str),
    /// The room closed.
    #[error("the room is closed")]
    RoomClosed,
    /// The room already holds as many players as it has seats.
    #[error("the room is full")]
    RoomFull,
}

impl JoinRefused {
    /// The close code for the refusal.
    pub fn close_code(self) -> CloseCode {
        match self {
            JoinRefused::BadToken(_) => CloseCode::BadToken,
            JoinRefused::RoomClosed => CloseCode::RoomClosed,
            JoinRefused::RoomFull => CloseCode::RoomFull,
        }
    }
}

/// A join or resume that the room accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinAccepted {
    /// The player's id.
    pub player_id: NetId,
}

/// The answer to a join or resume.
pub type JoinReply = oneshot::Sender<Result<JoinAccepted, JoinRefused>>;

/// A message from a connection to its room.
#[derive(Debug)]
pub enum RoomCommand {
    /// Spawn the player who redeemed a seat.
    Join {
        /// The id reserved with the seat.
        player_id: NetId,
        /// The player's name.
        name: String,
        /// Where to send frames.
        conn: ClientConn,
        /// The answer.
        reply: JoinReply,
    },
    /// Give a dropped player its entity back.
    Resume {
        /// The resume token from the earlier welcome.
        token: String,
        /// Where to send frames.
        conn: ClientConn,
        /// The answer.
        reply: JoinReply,
    },
    /// One input of a connected player.
    Input {
        /// The player.
        player_id: NetId,
        /// The connection it came on.
        conn_id: u64,
        /// The input, not yet validated.
        input: Input,
    },
}

/// A connection's last word to its room. Departures travel on their own unbounded channel,
/// apart from the bounded inbox of joins and inputs, so that none is ever lost: each connection
/// sends at most one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Departure {
    /// The connection dropped: keep the entity for the grace period.
    Dropped {
        /// The player.
        player_id: NetId,
        /// The connection that dropped.
        conn_id: u64,
    },
    /// The player left for good.
    Left {
        /// The player.
        player_id: NetId,
        /// The connection it came on.
        conn_id: u64,
    },
}
