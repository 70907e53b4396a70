//! Every message of the game WebSocket. One WebSocket binary message carries exactly one of them.

use serde::{Deserialize, Serialize};

use crate::close::CloseCode;
use crate::frame::{Delta, NetId, Snapshot};
use crate::quant::Bounds;

/// Longest seat or resume token the server reads, in bytes.
pub const MAX_TOKEN_LEN: usize = 64;

/// Largest magnitude of a movement intent axis; `-128` is read as `-127`.
pub const MAX_INTENT: i8 = 127;

/// Button bits the server knows; others are ignored.
pub const KNOWN_BUTTONS: u8 = 0b0000_0011;

/// A message from a game client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientMsg {
    /// The first message on a connection: take a reserved seat, or resume a dropped one.
    Join {
        /// Must equal [`crate::PROTOCOL_VERSION`].
        protocol_version: u16,
        /// The seat token from the lobby API (empty when resuming).
        seat_token: String,
        /// The resume token of an earlier [`Welcome`] to get the same entity back.
        resume_token: Option<String>,
    },
    /// What the player wants to do this tick.
    Input(Input),
    /// Asks for a [`ServerMsg::Pong`]; keeps an idle connection alive.
    Ping {
        /// Echoed back untouched (the client's clock, by convention microseconds).
        client_time_us: u64,
    },
    /// The player leaves for good; the server despawns the entity and closes with 1000.
    Leave,
}

/// One input of a player.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Input {
    /// Strictly increasing per player; the server drops any input not above the last it applied.
    pub seq: u32,
    /// The client's own tick counter when it sampled the input (informative).
    pub client_tick: u32,
    /// Horizontal intent, -127 (left) to 127 (right).
    pub move_x: i8,
    /// Vertical intent, -127 (down, towards y = 0) to 127 (up).
    pub move_y: i8,
    /// Button bit set; see [`KNOWN_BUTTONS`].
    pub buttons: u8,
}

/// A message from the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerMsg {
    /// The answer to a successful join; a [`ServerMsg::Snapshot`] follows.
    Welcome(Welcome),
    /// The whole world; the receiver replaces its mirror.
    Snapshot(Snapshot),
    /// The changes since the frame before; the receiver applies it to its mirror.
    Delta(Delta),
    /// The answer to a [`ClientMsg::Ping`].
    Pong {
        /// The value the client sent.
        client_time_us: u64,
        /// The server's clock, in microseconds since the Unix epoch.
        server_time_us: u64,
    },
    /// Why the server is about to close the connection (the close frame repeats it).
    Disconnect {
        /// The close code.
        code: CloseCode,
        /// A human-readable reason.
        reason: String,
    },
}

/// What a client needs to know about the room it joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    /// The player's id, which is also its entity's id.
    pub player_id: NetId,
    /// The room's id.
    pub room_id: u32,
    /// Ticks per second.
    pub tick_rate: u16,
    /// The playable rectangle.
    pub bounds: Bounds,
    /// Most quanta an entity moves along each axis per tick.
    pub max_speed: i32,
    /// The room's tick when the client joined.
    pub tick: u32,
    /// Redeem within the grace period after a drop to get the same entity back.
    pub resume_token: String,
}
