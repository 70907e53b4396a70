//! Rooms: each one a `bevy_ecs` [`World`](bevy_ecs::world::World) ticked at a fixed rate on a
//! tick thread, never awaiting I/O.
//!
//! # One tick
//! 1. **Receive** ([`systems::receive`], [`roster`]): drain every departure (drops and leaves,
//!    on their own unbounded channel, so none is lost), drop players whose connection task is
//!    gone or whose avatar the game despawned, then drain the bounded inbox with `try_recv`:
//!    joins and resumes (not admitted when their connection gave up; the game's join and resume
//!    observers run), inputs (stale and duplicate sequence numbers dropped, capped per tick;
//!    the fields were checked against the game's schema by the connection); expire dropped
//!    players past their grace period; in a room that may get bots of a game with a bot brain,
//!    spawn or remove bots so that the room holds its bot target ([`bots`]). The inputs are then
//!    decoded into the game's [`crate::game::PlayerInput`].
//! 2. **Simulate**: the game's bot brain ([`crate::game::GameBuilder::bot_brain`]), then its
//!    systems ([`crate::game::GameBuilder::add_systems`]).
//! 3. **Replicate** ([`replication::replicate`]): bevy change detection of every replicated
//!    component (one sync per component), spawns, despawns and owner
//!    changes feed the room's [`protocol::Replica`], which writes the delta's shared part once.
//!    **Spectate** ([`spectator::publish`]), in the same system: at the spectator rate, one
//!    JSON update for all spectators through a broadcast channel, decoded from the replica by
//!    the game's schema.
//! 4. **Send** ([`replication::fan_out`]): each client's frame (the shared part, or a shared
//!    snapshot for a client that must resync, then its own part: ack, owner-only components,
//!    events, checksum), all written into one buffer per tick and queued with `try_send`; a full
//!    queue skips the client, which keeps its events for its next frame.
//!
//! The engine runs as few systems as this order allows ([`schedule`]).

pub mod bots;
pub mod components;
#[cfg(feature = "fault-injection")]
pub mod fault;
pub mod game;
pub mod handle;
pub mod ids;
pub mod link;
pub mod pool;
pub mod queue;
pub mod registry;
pub mod replication;
pub mod roster;
pub mod schedule;
pub mod spectator;
pub mod systems;

#[cfg(test)]
mod stepper_tests;

pub use game::{Room, RoomSettings};
pub use handle::{RoomHandle, RoomInbox};
pub use link::{ClientConn, CloseRequest, CloseSignal, Departure, JoinRefused, RoomCommand};
pub use registry::{RegistryError, RoomRegistry};

/// 128 random bits as 32 lowercase hex digits, from the thread's CSPRNG.
pub fn random_token() -> String {
    use rand::RngExt as _;
    format!("{:032x}", rand::rng().random::<u128>())
}
