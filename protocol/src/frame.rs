//! What one frame carries: entity state, full snapshots and deltas.
//!
//! Every list of entities is sorted by ascending [`NetId`] and travels as id *gaps* (the first
//! item's id, then each id minus the previous one), so that ids cost one byte however large they
//! grow. Encoding a list that is not strictly ascending fails; decoding one fails too.

use serde::{Deserialize, Serialize};

use crate::id_gaps::{self, HasNetId};
use crate::quant::QPos;

/// A replicated entity's id, unique within its room. A player's id is its entity's id.
pub type NetId = u32;

/// What an entity is. New kinds are appended; a client ignores none of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum EntityKind {
    /// A player's avatar.
    Player = 0,
}

/// The full replicated state of one entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityState {
    /// The entity's id (travels as a gap, see the module docs).
    #[serde(skip)]
    pub id: NetId,
    /// What the entity is.
    pub kind: EntityKind,
    /// Where it is.
    pub pos: QPos,
    /// For a player: the last input sequence number the server has applied for it (0 before any).
    pub ack: u32,
}

/// One entity's displacement since the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    /// The entity that moved (travels as a gap).
    #[serde(skip)]
    pub id: NetId,
    /// Change of x, in quanta.
    pub dx: i32,
    /// Change of y, in quanta.
    pub dy: i32,
}

/// How far one player's acknowledged input sequence advanced since the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// The player's entity (travels as a gap).
    #[serde(skip)]
    pub id: NetId,
    /// New acknowledged sequence minus the old one (wrapping, never 0 on the wire).
    pub advance: u32,
}

/// One removed entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Despawn {
    /// The entity that is gone (travels as a gap; nothing else is sent).
    #[serde(skip)]
    pub id: NetId,
}

/// The whole world at one tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The server tick this state belongs to.
    pub tick: u32,
    /// When the server finished the tick, in microseconds since the Unix epoch.
    pub server_time_us: u64,
    /// Every entity, by ascending id.
    #[serde(with = "id_gaps")]
    pub entities: Vec<EntityState>,
    /// [`crate::checksum::world_checksum`] of `entities`.
    pub checksum: u64,
}

/// What changed between the baseline tick and `tick`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delta {
    /// The server tick this delta leads to.
    pub tick: u32,
    /// The tick the receiver must hold for the delta to apply.
    pub baseline: u32,
    /// When the server finished the tick, in microseconds since the Unix epoch.
    pub server_time_us: u64,
    /// Entities removed since the baseline, by ascending id.
    #[serde(with = "id_gaps")]
    pub despawned: Vec<Despawn>,
    /// Entities that exist in both ticks and moved, by ascending id.
    #[serde(with = "id_gaps")]
    pub moved: Vec<Move>,
    /// Players whose acknowledged input sequence advanced, by ascending id.
    #[serde(with = "id_gaps")]
    pub acks: Vec<Ack>,
    /// Entities that appeared since the baseline, in full, by ascending id.
    #[serde(with = "id_gaps")]
    pub spawned: Vec<EntityState>,
    /// [`crate::checksum::world_checksum`] of the whole world at `tick`.
    pub checksum: u64,
}

impl Delta {
    /// Whether nothing but the tick advanced.
    pub fn is_empty(&self) -> bool {
        self.despawned.is_empty()
            && self.moved.is_empty()
            && self.acks.is_empty()
            && self.spawned.is_empty()
    }
}

macro_rules! has_net_id {
    ($($t:ty),*) => {$(
        impl HasNetId for $t {
            fn net_id(&self) -> NetId {
                self.id
            }
            fn set_net_id(&mut self, id: NetId) {
                self.id = id;
            }
        }
    )*};
}
has_net_id!(EntityState, Move, Ack, Despawn);
