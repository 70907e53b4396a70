//! Components and resources of a room's world.

use std::collections::HashMap;
use std::sync::Arc;

use bevy_ecs::prelude::*;
use bytes::Bytes;
use dashmap::DashMap;
use protocol::{NetId, Replica};

use super::game::RoomSettings;
use super::handle::{RoomHandle, RoomInbox};
use super::link::ClientConn;
use crate::game::sync::{ComponentSync, NetIndex};
use crate::metrics::Metrics;

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
    /// The last input `seq` applied for this player: the ack its frames carry.
    pub ack: u32,
    /// The input `seq` acknowledged in the last frame sent (the next delta's ack is relative).
    pub sent_ack: u32,
    /// Events not sent yet: raised while the client's queue was full.
    pub pending_events: PendingEvents,
    /// In a room with an interest radius: what the client holds and where it looks from.
    pub view: protocol::replica::View,
}

/// Encoded events waiting for a client's next frame.
#[derive(Debug, Default)]
pub struct PendingEvents {
    /// How many.
    pub count: usize,
    /// Their encodings, back to back.
    pub bytes: Vec<u8>,
}

impl PendingEvents {
    /// Capacity kept for the next events once sent; a burst's larger buffer is given back.
    const KEPT_CAPACITY: usize = 4096;

    /// Forgets the events (they were sent).
    pub fn clear(&mut self) {
        self.count = 0;
        self.bytes.clear();
        self.bytes.shrink_to(Self::KEPT_CAPACITY);
    }
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
    /// The last input `seq` applied (a resumed player's inputs continue above it).
    pub ack: u32,
}

/// Dropped players by resume token.
#[derive(Debug, Default)]
pub struct Dropped(pub HashMap<String, DroppedPlayer>);

/// Everyone the room knows: connected players, dropped ones, and entity ids.
#[derive(Debug, Default)]
pub struct PlayerBook {
    /// Connected players.
    pub clients: Clients,
    /// Players within their grace period.
    pub dropped: Dropped,
}

/// The room's players (boxed: see the note on resources above).
#[derive(Resource, Debug, Default)]
pub struct Players(pub Box<PlayerBook>);

/// Replication state: the replica, the component syncs and this tick's encoded frames.
#[derive(Default)]
pub struct ReplicationState {
    /// The world as clients hold it.
    pub replica: Replica,
    /// Network ids by entity, to name despawned entities.
    pub index: NetIndex,
    /// One sync per replicated component, position first.
    pub syncs: Vec<Box<dyn ComponentSync>>,
    /// This tick's encoded frames.
    pub outbox: Outbox,
}

impl std::fmt::Debug for ReplicationState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicationState")
            .field("replica", &self.replica)
            .field("entities", &self.index.len())
            .field("syncs", &self.syncs.len())
            .finish_non_exhaustive()
    }
}

/// The room's replication state (boxed: see the note on resources above).
#[derive(Resource, Debug)]
pub struct Replication(pub Box<ReplicationState>);

/// This tick's encoded frames.
#[derive(Debug, Default)]
pub struct Outbox {
    /// The shared part of the delta from the previous tick, written once for every client.
    pub delta: Vec<u8>,
    /// The shared part of a snapshot, written on first need and used by every client that
    /// resyncs this tick.
    pub snapshot: Option<Vec<u8>>,
}

/// The room's game: its schema, as clients receive it.
#[derive(Resource, Debug, Clone)]
pub struct GameSchema {
    /// The schema.
    pub schema: Arc<protocol::Schema>,
    /// Its encoded message, sent to every client after its welcome.
    pub message: Bytes,
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
