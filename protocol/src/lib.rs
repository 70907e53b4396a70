//! Wire format of the game state server.
//!
//! This crate is shared by the server, the bot simulator and any Rust game client. It does no I/O
//! and depends on neither tokio nor bevy: it only describes bytes and state.
//!
//! # Layout
//! - [`cursor`]: the primitive encodings (varints, zigzag, id gaps) and a bounds-checked reader.
//! - [`wire`]: field types of game data ([`wire::WireType`]), decoded values, and the
//!   [`wire::Wire`] trait that [`wire_struct!`] implements for a game's components, inputs and
//!   events.
//! - [`schema`]: the schema message that describes a game to a client that never saw it.
//! - [`quant`]: fixed-point positions, world bounds and the quantum.
//! - [`message`]: the client → server messages and the server → client messages other than frames.
//! - [`frame`]: a snapshot or delta as plain data, for tools and tests.
//! - [`replica`]: the server's record of the replicated world, which writes the frames.
//! - [`world`]: [`WorldView`], the client-side mirror that applies frames and detects desyncs.
//! - [`close`]: WebSocket close codes the server uses, with their meaning.
//! - [`codec`]: the encoding of messages, byte limits and typed decode errors.
//! - [`clock`]: the wall clock frames are stamped with.
//! - [`checksum`]: the order-independent checksum of what a client sees.
//! - [`api`]: JSON types of the REST lobby API and the SSE spectator feed.
//!
//! `PROTOCOL.md` next to this crate documents every byte so that a client can be written in any
//! language from it alone.

pub mod api;
pub mod checksum;
pub mod clock;
pub mod close;
pub mod codec;
pub mod cursor;
pub mod frame;
pub mod message;
pub mod quant;
pub mod replica;
pub mod schema;
mod walk;
pub mod wire;
pub mod world;

pub use close::CloseCode;
pub use codec::{CodecError, decode_client, decode_server, encode_client, encode_server};
pub use frame::{Frame, NetId};
pub use message::{ClientMsg, Input, ServerMsg, Welcome};
pub use quant::{Bounds, QPos};
pub use replica::Replica;
pub use schema::Schema;
pub use wire::{Fixed, Text, Value, Wire, WireType};
pub use world::{Desync, WorldView};

/// Version of the wire format. A client sends it in [`ClientMsg::Join`]; the server refuses any
/// other value with [`CloseCode::VersionMismatch`].
pub const PROTOCOL_VERSION: u16 = 3;
