//! Wire format of the game state server.
//!
//! This crate is shared by the server, the bot simulator and any Rust game client. It does no I/O
//! and depends on neither tokio nor bevy: it only describes bytes and state.
//!
//! # Layout
//! - [`quant`]: fixed-point positions, world bounds and the quantum.
//! - [`frame`]: entity state, full snapshots and deltas, with ids encoded as ascending gaps.
//! - [`message`]: every client → server and server → client message.
//! - [`close`]: WebSocket close codes the server uses, with their meaning.
//! - [`codec`]: the one bincode configuration, byte limits and typed decode errors.
//! - [`clock`]: the wall clock frames are stamped with.
//! - [`checksum`]: the order-independent checksum of a quantized world.
//! - [`world`]: [`WorldView`], the client-side mirror that applies frames and detects desyncs,
//!   and [`FrameBuilder`], which the server uses to record one tick's changes as a delta.
//! - [`reader`]: a zero-allocation reader that applies encoded frames straight into a
//!   [`WorldView`].
//! - [`api`]: JSON types of the REST lobby API and the SSE spectator feed.
//!
//! `PROTOCOL.md` next to this crate documents every byte so that a client can be written in any
//! language from it alone.

pub mod api;
pub mod checksum;
pub mod clock;
pub mod close;
pub mod codec;
pub mod frame;
mod id_gaps;
pub mod message;
pub mod quant;
pub mod reader;
pub mod world;

pub use close::CloseCode;
pub use codec::{CodecError, decode_client, decode_server, encode_client, encode_server};
pub use frame::{Ack, Delta, EntityKind, EntityState, Move, NetId, Snapshot};
pub use message::{ClientMsg, Input, ServerMsg, Welcome};
pub use quant::{Bounds, QPos};
pub use world::{Desync, FrameBuilder, WorldView};

/// Version of the wire format. A client sends it in [`ClientMsg::Join`]; the server refuses any
/// other value with [`CloseCode::VersionMismatch`].
pub const PROTOCOL_VERSION: u16 = 1;
