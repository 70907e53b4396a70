//! What passes between a connection's tasks and its room.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use protocol::{CloseCode, Input, NetId};
use tokio::sync::{mpsc, oneshot, watch};

/// Why and how a connection must close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseRequest {
    /// The close code.
    pub code: CloseCode,
    /// The reason sent to the client.
    pub reason: Cow<'static, str>,
}

/// Asks a connection's writer to close it; the first request wins. Cloneable, never blocks.
#[derive(Debug, Clone)]
pub struct CloseSignal(Arc<watch::Sender<Option<CloseRequest>>>);

impl CloseSignal {
    /// A signal and the receiver its connection's writer watches.
    pub fn new() -> (Self, watch::Receiver<Option<CloseRequest>>) {
        let (tx, rx) = watch::channel(None);
        (Self(Arc::new(tx)), rx)
    }

    /// Requests the close unless one was requested already.
    pub fn close(&self, code: CloseCode, reason: impl Into<Cow<'static, str>>) {
        let reason = reason.into();
        self.0.send_if_modified(|current| {
            if current.is_some() {
                return false;
            }
            *current = Some(CloseRequest { code, reason });
            true
        });
    }

    /// Resolves once a close has been requested.
    pub async fn wait(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(Option::is_some).await;
    }

    /// The request made so far, if any.
    pub fn requested(&self) -> Option<CloseRequest> {
        self.0.borrow().clone()
    }
}

/// The outbound side of a game connection, as its room holds it.
#[derive(Debug, Clone)]
pub struct ClientConn {
    /// Unique per connection, to tell a stale connection's messages from a resumed one's.
    pub conn_id: u64,
    /// Encoded frames for the writer task (bounded; the room only ever `try_send`s).
    pub frames: mpsc::Sender<Bytes>,
    /// Closes the connection.
    pub close: CloseSignal,
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
}

impl JoinRefused {
    /// The close code for the refusal.
    pub fn close_code(self) -> CloseCode {
        match self {
            JoinRefused::BadToken(_) => CloseCode::BadToken,
            JoinRefused::RoomClosed => CloseCode::RoomClosed,
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
    /// The connection dropped: keep the entity for the grace period.
    Disconnected {
        /// The player.
        player_id: NetId,
        /// The connection that dropped.
        conn_id: u64,
    },
    /// The player left for good.
    Leave {
        /// The player.
        player_id: NetId,
        /// The connection it came on.
        conn_id: u64,
    },
}
