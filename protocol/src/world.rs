//! [`WorldView`]: a client's mirror of a room, decoded by the game's schema, that applies frames
//! straight from their bytes and verifies every checksum.

use std::collections::BTreeMap;
use std::sync::Arc;

use thiserror::Error;

use crate::checksum::entity_hash;
use crate::cursor::{Cursor, Malformed};
use crate::frame::{EventValue, NetId};
use crate::quant::QPos;
use crate::schema::Schema;
use crate::walk::{self, Masks};
use crate::wire::Value;

mod apply;

use apply::{Apply, Mirror};

/// Why a frame could not be applied: the mirror no longer equals the server's world.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Desync {
    /// A delta arrived before any snapshot.
    #[error("delta for tick {tick} before any snapshot")]
    NoBaseline {
        /// The delta's tick.
        tick: u32,
    },
    /// A delta's baseline is not the tick the mirror holds.
    #[error("delta from tick {baseline} does not apply to tick {held}")]
    WrongBaseline {
        /// The delta's baseline.
        baseline: u32,
        /// The tick the mirror holds.
        held: u32,
    },
    /// A delta names an entity the mirror does not have.
    #[error("delta names unknown entity {0}")]
    UnknownEntity(NetId),
    /// A delta spawned an entity the mirror already has.
    #[error("delta spawns entity {0}, which already exists")]
    DuplicateEntity(NetId),
    /// A delta moved an entity without a position, or changed a component it does not have.
    #[error("delta changes component {component} that entity {id} does not have")]
    MissingComponent {
        /// The entity.
        id: NetId,
        /// The component index.
        component: usize,
    },
    /// After applying the frame, the mirror's checksum differs from the server's.
    #[error("checksum mismatch at tick {tick}: mirror {mirror:#018x}, server {server:#018x}")]
    Checksum {
        /// The frame's tick.
        tick: u32,
        /// The mirror's checksum.
        mirror: u64,
        /// The checksum the server sent.
        server: u64,
    },
}

/// Why a frame was not applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// The bytes are not a well-formed frame under the schema.
    #[error("malformed frame: {0}")]
    Malformed(#[from] Malformed),
    /// The frame is well-formed but does not match the mirror; wait for the next snapshot.
    #[error(transparent)]
    Desync(#[from] Desync),
}

/// What an applied frame was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    /// The tick the mirror now holds.
    pub tick: u32,
    /// The frame's server time (µs since the Unix epoch).
    pub server_time_us: u64,
    /// Whether it was a snapshot.
    pub snapshot: bool,
}

/// Whether `bytes` is a snapshot or a delta (otherwise decode it with
/// [`crate::decode_server`]).
pub fn is_frame(bytes: &[u8]) -> bool {
    walk::is_frame(bytes)
}

/// The tick, server time and kind of an encoded frame, read from its first fields.
pub fn frame_header(bytes: &[u8]) -> Option<FrameInfo> {
    let h = walk::header(&mut Cursor::new(bytes)).ok()?;
    Some(FrameInfo {
        tick: h.tick,
        server_time_us: h.server_time_us,
        snapshot: h.baseline.is_none(),
    })
}

/// One component of a mirrored entity: its index, field values and checksum hash.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Held {
    index: usize,
    values: Vec<Value>,
    hash: u64,
}

/// One mirrored entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityView {
    /// Its id.
    pub id: NetId,
    /// Its kind (index into the schema's `kinds`).
    pub kind: u32,
    /// Its position (component 0), kept inline: every move of every frame updates it.
    pos: Option<HeldPos>,
    /// Its other components by ascending index.
    held: Vec<Held>,
}

/// Component 0 of a mirrored entity: its one `pos` value and its checksum hash.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HeldPos {
    values: [Value; 1],
    hash: u64,
}

impl EntityView {
    /// The field values of component `index`, if the entity has it (owner-only components only
    /// on entities this client owns).
    pub fn component(&self, index: usize) -> Option<&[Value]> {
        if index == 0 {
            return self.pos.as_ref().map(|p| &p.values[..]);
        }
        self.find(index)
            .ok()
            .map(|i| self.held[i].values.as_slice())
    }

    /// Its position, if it has one (component 0).
    pub fn position(&self) -> Option<QPos> {
        self.pos.as_ref()?.values[0].as_pos()
    }

    /// Every component it has, by ascending index, with its field values.
    pub fn components(&self) -> impl Iterator<Item = (usize, &[Value])> {
        let pos = self.pos.iter().map(|p| (0, &p.values[..]));
        pos.chain(self.held.iter().map(|h| (h.index, h.values.as_slice())))
    }

    /// Where component `index` (not 0) is held, or where it would be inserted.
    fn find(&self, index: usize) -> Result<usize, usize> {
        self.held.binary_search_by_key(&index, |h| h.index)
    }

    /// The sum of its hashes: its existence and every component.
    fn hash(&self) -> u64 {
        let base =
            entity_hash(self.id, self.kind).wrapping_add(self.pos.as_ref().map_or(0, |p| p.hash));
        self.held
            .iter()
            .fold(base, |sum, h| sum.wrapping_add(h.hash))
    }
}

/// A mirror of a room's replicated world as one client sees it.
#[derive(Debug, Clone)]
pub struct WorldView {
    schema: Arc<Schema>,
    masks: Masks,
    player_id: NetId,
    entities: BTreeMap<NetId, EntityView>,
    mirror: Mirror,
    scratch: Vec<Value>,
}

impl WorldView {
    /// An empty mirror for player `player_id` of a game described by `schema`; it holds no
    /// tick yet.
    pub fn new(schema: Arc<Schema>, player_id: NetId) -> Self {
        Self {
            masks: Masks::of(&schema),
            schema,
            player_id,
            entities: BTreeMap::new(),
            mirror: Mirror::default(),
            scratch: Vec::new(),
        }
    }

    /// The schema frames are decoded by.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The player this mirror belongs to.
    pub fn player_id(&self) -> NetId {
        self.player_id
    }

    /// The tick the mirror holds, if any frame was applied (none after a frame failed).
    pub fn tick(&self) -> Option<u32> {
        self.mirror.tick
    }

    /// The checksum of what this client sees.
    pub fn checksum(&self) -> u64 {
        self.mirror.sum
    }

    /// The last input `seq` the server applied for this player (0 before any).
    pub fn ack(&self) -> u32 {
        self.mirror.ack
    }

    /// Every entity by ascending id.
    pub fn entities(&self) -> impl ExactSizeIterator<Item = &EntityView> {
        self.entities.values()
    }

    /// One entity.
    pub fn get(&self, id: NetId) -> Option<&EntityView> {
        self.entities.get(&id)
    }

    /// How many entities exist.
    pub fn len(&self) -> usize {
        self.entities.len()
    }

    /// Whether the world is empty.
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// The events of the last applied frame, in the order they were raised.
    pub fn events(&self) -> &[EventValue] {
        &self.mirror.events[..self.mirror.n_events]
    }

    /// Applies an encoded snapshot or delta and verifies its checksum. On error the mirror is
    /// left in an unspecified state and holds no tick: keep reading, the next snapshot repairs
    /// it.
    pub fn apply(&mut self, bytes: &[u8]) -> Result<FrameInfo, FrameError> {
        let mut sink = Apply {
            entities: &mut self.entities,
            mirror: &mut self.mirror,
            header: None,
            desync: None,
            skipping: false,
        };
        let walked = walk::walk(
            &self.schema,
            self.masks,
            bytes,
            &mut self.scratch,
            &mut sink,
        );
        let outcome = match (walked, sink.desync) {
            (Err(m), _) => Err(FrameError::Malformed(m)),
            (Ok(_), Some(d)) => Err(FrameError::Desync(d)),
            (Ok(h), None) => Ok(FrameInfo {
                tick: h.tick,
                server_time_us: h.server_time_us,
                snapshot: h.baseline.is_none(),
            }),
        };
        self.mirror.tick = outcome.as_ref().ok().map(|info| info.tick);
        if outcome.is_err() {
            self.mirror.n_events = 0;
        }
        outcome
    }
}
