//! Every message of the game WebSocket. One WebSocket binary message carries exactly one of them,
//! starting with its tag byte ([`tag`]).
//!
//! Snapshots and deltas ([`tag::SNAPSHOT`], [`tag::DELTA`]) are encoded by the game's schema and
//! are read with [`crate::world::WorldView::apply`], not decoded into a [`ServerMsg`].

use serde::{Deserialize, Serialize};

use crate::close::CloseCode;
use crate::frame::NetId;
use crate::quant::Bounds;
use crate::wire::{FieldWriter, Wire};

/// Longest seat or resume token the server reads, in bytes.
pub const MAX_TOKEN_LEN: usize = 64;

/// The first byte of every message: which message it is (PROTOCOL.md §5, §6).
pub mod tag {
    /// Client → server: [`super::ClientMsg::Join`].
    pub const JOIN: u8 = 0;
    /// Client → server: [`super::ClientMsg::Input`].
    pub const INPUT: u8 = 1;
    /// Client → server: [`super::ClientMsg::Ping`].
    pub const PING: u8 = 2;
    /// Client → server: [`super::ClientMsg::Leave`].
    pub const LEAVE: u8 = 3;
    /// Server → client: [`super::ServerMsg::Welcome`].
    pub const WELCOME: u8 = 0;
    /// Server → client: [`super::ServerMsg::Schema`].
    pub const SCHEMA: u8 = 1;
    /// Server → client: a full snapshot of the world.
    pub const SNAPSHOT: u8 = 2;
    /// Server → client: the changes since the previous frame.
    pub const DELTA: u8 = 3;
    /// Server → client: [`super::ServerMsg::Pong`].
    pub const PONG: u8 = 4;
    /// Server → client: [`super::ServerMsg::Disconnect`].
    pub const DISCONNECT: u8 = 5;
    /// Server → client: the changes since the previous frame in a room with an interest
    /// radius, where each client sees part of the world.
    pub const AREA_DELTA: u8 = 6;
}

/// A message from a game client.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// One input of a player: sequence numbers, then the game's input fields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Input {
    /// Strictly increasing per player; the server drops any input not above the last it applied.
    pub seq: u32,
    /// The client's own tick counter when it sampled the input (informative).
    pub client_tick: u32,
    /// The game's input fields, encoded in the order of the schema's `input` list. A decoded
    /// input's fields have been checked against that list.
    pub fields: InputFields,
}

/// The encoded fields of an input: inline up to 24 bytes (most games' inputs), so that an
/// input crosses from its connection to its room without a heap allocation.
pub type InputFields = smallvec::SmallVec<[u8; 24]>;

impl Input {
    /// An input whose fields are `value`'s.
    pub fn new(seq: u32, client_tick: u32, value: &impl Wire) -> Self {
        let mut bytes = Vec::with_capacity(8);
        value.write(&mut FieldWriter::new(&mut bytes, 0));
        Self {
            seq,
            client_tick,
            fields: InputFields::from_slice(&bytes),
        }
    }
}

/// A message from the server other than a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMsg {
    /// The answer to a successful join; the schema and a snapshot follow.
    Welcome(Welcome),
    /// The room's game: how to decode its frames and write its inputs.
    Schema(crate::schema::Schema),
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
    /// The room's tick when the client joined.
    pub tick: u32,
    /// Redeem within the grace period after a drop to get the same entity back.
    pub resume_token: String,
}
