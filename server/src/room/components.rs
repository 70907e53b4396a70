//! Components and resources of a room's world.

use std::collections::HashMap;
use std::sync::Arc;

use bevy_ecs::prelude::*;
use bytes::Bytes;
use dashmap::DashMap;
use protocol::{EntityKind, NetId, QPos, WorldView};

use super::game::RoomSettings;
use super::handle::{RoomHandle, RoomInbox};
use super::link::ClientConn;
use crate::metrics::Metrics;

/// A replicated entity's network identity.
#[derive(Component, Debug, Clone, Copy)]
pub struct Replicated {
    /// Its id, unique within the room.
    pub id: NetId,
    /// What it is.
    pub kind: EntityKind,
}

/// Where an entity is, in quanta.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position(pub QPos);

/// How far an entity moves per tick, in quanta.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Velocity {
    /// Along x.
    pub x: i32,
    /// Along y.
    pub y: i32,
}

/// A player's latest validated input and the last sequence number applied.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Controller {
    /// Horizontal intent, -127..=127.
    pub move_x: i8,
    /// Vertical intent, -127..=127.
    pub move_y: i8,
    /// Known button bits.
    pub buttons: u8,
    /// Last input sequence applied (replicated as the entity's `ack`).
    pub ack: u32,
    /// Inputs applied during the current tick.
    pub inputs_this_tick: u8,
}

/// A player's display name (for spectators).
#[derive(Component, Debug, Clone)]
pub struct PlayerName(pub String);

// Every resource is a sparse-set component of 64 preallocated slots (with change ticks), so a
// room keeps few resources and boxes their contents: a world per room stays a few KiB.

/// What a room knows about itself and the server.
#[derive(Debug)]
pub struct RoomContext {
    /// Settings shared by every room of the server.
    pub settings: RoomSettings,
    /// This room's handle.
    pub handle: Arc<RoomHandle>,
    /// Server-wide state.
    pub shared: Shared,
}

/// The room's settings, identity and server-wide state.
#[derive(Resource, Debug, Clone)]
pub struct RoomConfig(pub Arc<RoomContext>);

impl std::ops::Deref for RoomConfig {
    type Target = RoomContext;
    fn deref(&self) -> &RoomContext {
        &self.0
    }
}

/// The current tick and when it finished.
#[derive(Resource, Debug, Clone, Copy, Default)]
pub struct TickClock {
    /// The tick being computed.
    pub tick: u32,
    /// The frames' server time, in microseconds since the Unix epoch.
    pub server_time_us: u64,
    /// Consecutive ticks the room has been empty.
    pub idle_ticks: u32,
}

/// The room's inboxes.
#[derive(Resource, Debug)]
pub struct Inbox(pub RoomInbox);

/// A connected player's link.
#[derive(Debug)]
pub struct ClientLink {
    /// The connection.
    pub conn: ClientConn,
    /// The player's entity.
    pub entity: Entity,
    /// The token that resumes this player after a drop.
    pub resume_token: String,
    /// The next frame must be a full snapshot.
    pub needs_snapshot: bool,
    /// Consecutive ticks this client's queue was full.
    pub behind: u32,
    /// Closed as lagging; waiting for its connection to report the drop.
    pub kicked: bool,
}

/// Connected players by id.
#[derive(Debug, Default)]
pub struct Clients(pub HashMap<NetId, ClientLink>);

/// A player whose connection dropped, kept for the grace period.
#[derive(Debug, Clone, Copy)]
pub struct DroppedPlayer {
    /// The player's id.
    pub player_id: NetId,
    /// Its entity.
    pub entity: Entity,
    /// The tick after which the entity is removed.
    pub expires_at_tick: u32,
    /// The connection that dropped (a late `Left` from it still removes the player).
    pub conn_id: u64,
}

/// Dropped players by resume token.
#[derive(Debug, Default)]
pub struct Dropped(pub HashMap<String, DroppedPlayer>);

/// Net id of every replicated entity, to name despawned entities.
#[derive(Debug, Default)]
pub struct NetIndex(pub HashMap<Entity, NetId>);

/// Everyone the room knows: connected players, dropped ones, and entity ids.
#[derive(Debug, Default)]
pub struct PlayerBook {
    /// Connected players.
    pub clients: Clients,
    /// Players within their grace period.
    pub dropped: Dropped,
    /// Net ids by entity.
    pub index: NetIndex,
}

/// The room's players (boxed: see the note on resources above).
#[derive(Resource, Debug, Default)]
pub struct Players(pub Box<PlayerBook>);

/// The world as clients hold it after the last frame.
#[derive(Debug, Default)]
pub struct Replica(pub WorldView);

/// Replication state: the replica and this tick's frames.
#[derive(Debug, Default)]
pub struct ReplicationState {
    /// The world as clients hold it.
    pub replica: Replica,
    /// This tick's encoded frames.
    pub outbox: Outbox,
}

/// The room's replication state (boxed: see the note on resources above).
#[derive(Resource, Debug, Default)]
pub struct Replication(pub Box<ReplicationState>);

/// This tick's encoded frames.
#[derive(Debug, Default)]
pub struct Outbox {
    /// The delta from the previous tick, shared by every client in sync.
    pub delta: Bytes,
    /// The snapshot, encoded on first need and shared by every client that resyncs.
    pub snapshot: Option<Bytes>,
}

/// Server-wide state a room touches.
#[derive(Debug, Clone)]
pub struct Shared {
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Resume token → room id, for the WebSocket endpoint to find a dropped player's room.
    pub resume_index: Arc<DashMap<String, u32>>,
    /// Open rooms, so that a closing room removes itself.
    pub rooms: Arc<super::registry::OpenRooms>,
}
