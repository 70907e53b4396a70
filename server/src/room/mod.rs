//! Rooms: each one a `bevy_ecs` [`World`](bevy_ecs::world::World) ticked at a fixed rate on a
//! tick thread, never awaiting I/O.
//!
//! # One tick
//! 1. **Receive** ([`systems::receive`], [`roster`]): drain every departure (drops and leaves,
//!    on their own unbounded channel, so none is lost), drop players whose connection task is
//!    gone, then drain the bounded inbox with `try_recv`: joins and resumes (not admitted when
//!    their connection gave up), inputs (validated: clamped intent, stale and duplicate sequence
//!    numbers dropped, capped per tick); expire dropped players past their grace period.
//! 2. **Simulate** ([`systems::steer`], [`systems::integrate`]): intent to velocity at most the
//!    maximum speed, then movement clamped to the world bounds.
//! 3. **Replicate** ([`replication::replicate`]): bevy change detection (`Changed<Position>`,
//!    `Changed<Controller>`, `RemovedComponents`) feeds a [`protocol::FrameBuilder`]; the delta is
//!    encoded once into shared `Bytes`.
//! 4. **Send** ([`replication::fan_out`]): `try_send` of the shared delta to every client in sync,
//!    of one shared snapshot to every client that needs a resync; a full queue skips the client.
//! 5. **Spectate** ([`spectator::publish`]): at the spectator rate, one JSON update for all
//!    spectators through a broadcast channel.

pub mod components;
#[cfg(feature = "fault-injection")]
pub mod fault;
pub mod game;
pub mod handle;
pub mod link;
pub mod pool;
pub mod queue;
pub mod registry;
pub mod replication;
pub mod roster;
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
