//! A frame (snapshot or delta) as plain data: what PROTOCOL.md §6 lays out byte by byte.
//!
//! The server writes frames with [`crate::replica::Replica`] and clients apply them with
//! [`crate::world::WorldView::apply`], neither through these types; [`Frame`] is the readable
//! form for tools, tests and the golden vectors, and it decodes exactly what a client accepts.

use crate::cursor::Malformed;
use crate::schema::Schema;
use crate::walk::{self, Header, List, Masks, Sink};
use crate::wire::Value;

mod encode;

/// A replicated entity's id, unique within its room. A player's id is its entity's id.
pub type NetId = u32;

/// Component values of one entity: `(component index, its field values)` by ascending index.
pub type Components = Vec<(usize, Vec<Value>)>;

/// One entity's displacement since the baseline (component 0, the position).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    /// The entity.
    pub id: NetId,
    /// Change of x, in quanta (wrapping).
    pub dx: i32,
    /// Change of y, in quanta (wrapping).
    pub dy: i32,
}

/// New values of some components of one entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// The entity.
    pub id: NetId,
    /// The components that changed, with all their fields' new values.
    pub components: Components,
}

/// An entity that appeared, in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spawned {
    /// The entity.
    pub id: NetId,
    /// Its kind (index into the schema's `kinds`).
    pub kind: u32,
    /// Every component it has (owner-only ones travel in [`Own::owned`]).
    pub components: Components,
}

/// The moves and changes of the entities of one cell of an area delta (tag 6), encoded once
/// for every client whose radius meets the cell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Piece {
    /// Entities whose position changed, by ascending id.
    pub moved: Vec<Moved>,
    /// Entities other components of which changed, by ascending id.
    pub changed: Vec<Changed>,
}

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventValue {
    /// Its type (index into the schema's `events`).
    pub event: usize,
    /// Its fields' values.
    pub values: Vec<Value>,
}

/// The part of a frame written for one client alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Own {
    /// In a snapshot: the last input `seq` applied for this player. In a delta: how much it
    /// advanced since the baseline (wrapping).
    pub ack: u32,
    /// Owner-only components of entities this client owns: new values (full for new entities).
    pub owned: Vec<Changed>,
    /// Events for this client since its previous frame, in the order they were raised.
    pub events: Vec<EventValue>,
}

/// A snapshot, a delta or an area delta.
///
/// An area delta (tag 6, rooms with an interest radius) has `pieces`; its `despawned` are the
/// entities the client stops holding (`left` in PROTOCOL.md), its `spawned` the ones it starts
/// holding (`entered`), and its `moved` and `changed` are empty: they travel in the pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The tick it leads to.
    pub tick: u32,
    /// `None` for a snapshot; for a delta the tick the receiver must hold.
    pub baseline: Option<u32>,
    /// When the server finished the tick, in microseconds since the Unix epoch.
    pub server_time_us: u64,
    /// Delta only: entities removed, by ascending id.
    pub despawned: Vec<NetId>,
    /// Delta only: entities whose position changed, by ascending id.
    pub moved: Vec<Moved>,
    /// Delta only: entities other components of which changed, by ascending id.
    pub changed: Vec<Changed>,
    /// Entities that appeared (a snapshot's whole world), by ascending id.
    pub spawned: Vec<Spawned>,
    /// Area delta only: the pieces of the cells the client's radius meets.
    pub pieces: Option<Vec<Piece>>,
    /// This client's own part.
    pub own: Own,
    /// The checksum of the client's world after the frame (PROTOCOL.md §7).
    pub checksum: u64,
}

impl Frame {
    /// The frame's bytes under `schema`; fails on unsorted ids or values that do not fit their
    /// fields, and on anything else [`Frame::decode`] refuses (unknown kinds, components or
    /// events, components a list does not allow, a snapshot with delta lists, more than
    /// [`crate::codec::MAX_SERVER_MSG`] bytes).
    pub fn encode(&self, schema: &Schema) -> Result<Vec<u8>, Malformed> {
        encode::frame(self, schema)
    }

    /// Reads a frame under `schema`, refusing everything PROTOCOL.md does not allow.
    pub fn decode(schema: &Schema, bytes: &[u8]) -> Result<Frame, Malformed> {
        let mut sink = Builder { frame: empty() };
        walk::walk(schema, Masks::of(schema), bytes, &mut Vec::new(), &mut sink)?;
        Ok(sink.frame)
    }
}

/// Builds a [`Frame`] from what [`walk::walk`] reads.
struct Builder {
    frame: Frame,
}

impl Builder {
    /// The list `changed` entries go to: the current piece's in an area delta.
    fn changed_list(&mut self) -> &mut Vec<Changed> {
        match self.frame.pieces.as_mut().and_then(|p| p.last_mut()) {
            Some(piece) => &mut piece.changed,
            None => &mut self.frame.changed,
        }
    }
}

/// A snapshot of nothing, for [`Builder`] to fill.
fn empty() -> Frame {
    Frame {
        tick: 0,
        baseline: None,
        server_time_us: 0,
        despawned: Vec::new(),
        moved: Vec::new(),
        changed: Vec::new(),
        spawned: Vec::new(),
        pieces: None,
        own: Own {
            ack: 0,
            owned: Vec::new(),
            events: Vec::new(),
        },
        checksum: 0,
    }
}

impl Sink for Builder {
    fn header(&mut self, header: Header) {
        self.frame.tick = header.tick;
        self.frame.baseline = header.baseline;
        self.frame.server_time_us = header.server_time_us;
        self.frame.pieces = header.area.then(Vec::new);
    }

    fn piece(&mut self) {
        if let Some(pieces) = &mut self.frame.pieces {
            pieces.push(Piece::default());
        }
    }

    fn despawn(&mut self, id: NetId) {
        self.frame.despawned.push(id);
    }

    fn moved(&mut self, id: NetId, dx: i32, dy: i32) {
        let moved = Moved { id, dx, dy };
        match self.frame.pieces.as_mut().and_then(|p| p.last_mut()) {
            Some(piece) => piece.moved.push(moved),
            None => self.frame.moved.push(moved),
        }
    }

    fn entry(&mut self, list: List, id: NetId, kind: u32) {
        let components = Vec::new();
        match list {
            List::Changed => self.changed_list().push(Changed { id, components }),
            List::Owned => self.frame.own.owned.push(Changed { id, components }),
            List::Spawned => self.frame.spawned.push(Spawned {
                id,
                kind,
                components,
            }),
        }
    }

    fn component(&mut self, list: List, _id: NetId, index: usize, values: &mut Vec<Value>, _: u64) {
        let entry = match list {
            List::Changed => self.changed_list().last_mut().map(|c| &mut c.components),
            List::Owned => self.frame.own.owned.last_mut().map(|c| &mut c.components),
            List::Spawned => self.frame.spawned.last_mut().map(|s| &mut s.components),
        };
        if let Some(components) = entry {
            components.push((index, std::mem::take(values)));
        }
    }

    fn ack(&mut self, ack: u32) {
        self.frame.own.ack = ack;
    }

    fn event(&mut self, event: usize, values: &mut Vec<Value>) {
        let values = std::mem::take(values);
        self.frame.own.events.push(EventValue { event, values });
    }

    fn checksum(&mut self, checksum: u64) {
        self.frame.checksum = checksum;
    }
}
