//! The world as replicated: [`WorldView`] mirrors it on a client; [`FrameBuilder`] records one
//! server tick's changes into it and yields the matching [`Delta`].

use std::collections::BTreeMap;

use thiserror::Error;

use crate::checksum::entity_hash;
use crate::frame::{Ack, Delta, Despawn, EntityState, Move, NetId, Snapshot};
use crate::quant::QPos;

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
    /// A delta moved, acknowledged or removed an entity the mirror does not have.
    #[error("delta names unknown entity {0}")]
    UnknownEntity(NetId),
    /// A delta spawned an entity the mirror already has.
    #[error("delta spawns entity {0}, which already exists")]
    DuplicateEntity(NetId),
    /// A snapshot's entities are not strictly ascending by id.
    #[error("snapshot entities are not in ascending id order")]
    Unsorted,
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

/// A mirror of a room's replicated world.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorldView {
    tick: Option<u32>,
    entities: BTreeMap<NetId, EntityState>,
    checksum: u64,
}

impl WorldView {
    /// An empty mirror that holds no tick yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The tick the mirror holds, if any frame was applied.
    pub fn tick(&self) -> Option<u32> {
        self.tick
    }

    /// The checksum of the mirrored world.
    pub fn checksum(&self) -> u64 {
        self.checksum
    }

    /// Every entity by ascending id.
    pub fn entities(&self) -> impl ExactSizeIterator<Item = &EntityState> {
        self.entities.values()
    }

    /// One entity.
    pub fn get(&self, id: NetId) -> Option<&EntityState> {
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

    /// Replaces the mirror with a snapshot and verifies its checksum.
    pub fn apply_snapshot(&mut self, snapshot: &Snapshot) -> Result<(), Desync> {
        if snapshot.entities.windows(2).any(|w| w[0].id >= w[1].id) {
            return Err(Desync::Unsorted);
        }
        self.clear_for_snapshot(snapshot.tick);
        for e in &snapshot.entities {
            self.insert_unchecked(*e);
        }
        self.verify_checksum(snapshot.tick, snapshot.checksum)
    }

    /// Applies a delta whose baseline is the held tick and verifies the resulting checksum.
    ///
    /// On error the mirror is left in an unspecified state: the caller must wait for a snapshot.
    pub fn apply_delta(&mut self, delta: &Delta) -> Result<(), Desync> {
        let held = self.tick.ok_or(Desync::NoBaseline { tick: delta.tick })?;
        if held != delta.baseline {
            return Err(Desync::WrongBaseline {
                baseline: delta.baseline,
                held,
            });
        }
        for d in &delta.despawned {
            self.remove_entity(d.id)?;
        }
        for m in &delta.moved {
            self.update_entity(m.id, |e| {
                e.pos = QPos::new(e.pos.x.wrapping_add(m.dx), e.pos.y.wrapping_add(m.dy));
            })?;
        }
        for a in &delta.acks {
            self.update_entity(a.id, |e| e.ack = e.ack.wrapping_add(a.advance))?;
        }
        for s in &delta.spawned {
            self.spawn_entity(*s)?;
        }
        self.set_tick(delta.tick);
        self.verify_checksum(delta.tick, delta.checksum)
    }

    /// Empties the mirror for a snapshot of `tick`.
    pub(crate) fn clear_for_snapshot(&mut self, tick: u32) {
        self.entities.clear();
        self.checksum = 0;
        self.tick = Some(tick);
    }

    /// Inserts an entity known to be new (snapshot ids are strictly ascending).
    pub(crate) fn insert_unchecked(&mut self, e: EntityState) {
        self.checksum = self.checksum.wrapping_add(entity_hash(&e));
        self.entities.insert(e.id, e);
    }

    /// Removes an entity the delta says is gone.
    pub(crate) fn remove_entity(&mut self, id: NetId) -> Result<(), Desync> {
        let old = self.entities.remove(&id).ok_or(Desync::UnknownEntity(id))?;
        self.checksum = self.checksum.wrapping_sub(entity_hash(&old));
        Ok(())
    }

    /// Adds an entity the delta spawned.
    pub(crate) fn spawn_entity(&mut self, e: EntityState) -> Result<(), Desync> {
        if self.entities.contains_key(&e.id) {
            return Err(Desync::DuplicateEntity(e.id));
        }
        self.insert_unchecked(e);
        Ok(())
    }

    /// Changes one entity, keeping the checksum current.
    pub(crate) fn update_entity(
        &mut self,
        id: NetId,
        f: impl FnOnce(&mut EntityState),
    ) -> Result<(), Desync> {
        let e = self
            .entities
            .get_mut(&id)
            .ok_or(Desync::UnknownEntity(id))?;
        let before = entity_hash(e);
        f(e);
        self.checksum = self
            .checksum
            .wrapping_sub(before)
            .wrapping_add(entity_hash(e));
        Ok(())
    }

    /// Records that the mirror now holds `tick`.
    pub(crate) fn set_tick(&mut self, tick: u32) {
        self.tick = Some(tick);
    }

    /// Compares the mirror's checksum with the server's.
    pub(crate) fn verify_checksum(&self, tick: u32, server: u64) -> Result<(), Desync> {
        if self.checksum == server {
            Ok(())
        } else {
            Err(Desync::Checksum {
                tick,
                mirror: self.checksum,
                server,
            })
        }
    }

    /// A snapshot of the mirror at its tick (tick 0 when it holds none).
    pub fn snapshot(&self, server_time_us: u64) -> Snapshot {
        Snapshot {
            tick: self.tick.unwrap_or(0),
            server_time_us,
            entities: self.entities.values().copied().collect(),
            checksum: self.checksum,
        }
    }

    /// Starts recording the changes that lead to `tick`.
    pub fn begin_frame(&mut self, tick: u32, server_time_us: u64) -> FrameBuilder<'_> {
        let baseline = self.tick.unwrap_or(0);
        FrameBuilder {
            view: self,
            delta: Delta {
                tick,
                baseline,
                server_time_us,
                despawned: Vec::new(),
                moved: Vec::new(),
                acks: Vec::new(),
                spawned: Vec::new(),
                checksum: 0,
            },
        }
    }
}

/// Records one tick's changes into a [`WorldView`] and builds the delta that reproduces them.
#[derive(Debug)]
pub struct FrameBuilder<'a> {
    view: &'a mut WorldView,
    delta: Delta,
}

impl FrameBuilder<'_> {
    /// Sets an entity's state, spawning it when new; records a move and an ack advance as needed.
    pub fn upsert(&mut self, state: EntityState) {
        let id = state.id;
        let Some(old) = self.view.entities.get_mut(&id) else {
            self.view.entities.insert(id, state);
            self.view.checksum = self.view.checksum.wrapping_add(entity_hash(&state));
            self.delta.spawned.push(state);
            return;
        };
        if *old == state {
            return;
        }
        if old.kind != state.kind {
            // A kind never changes in place on the wire: replace the entity.
            self.remove(id);
            self.upsert(state);
            return;
        }
        let (dx, dy) = (
            state.pos.x.wrapping_sub(old.pos.x),
            state.pos.y.wrapping_sub(old.pos.y),
        );
        if (dx, dy) != (0, 0) {
            self.delta.moved.push(Move { id, dx, dy });
        }
        if state.ack != old.ack {
            self.delta.acks.push(Ack {
                id,
                advance: state.ack.wrapping_sub(old.ack),
            });
        }
        let before = entity_hash(old);
        *old = state;
        self.view.checksum = self
            .view
            .checksum
            .wrapping_sub(before)
            .wrapping_add(entity_hash(&state));
    }

    /// Removes an entity; does nothing when it does not exist.
    pub fn remove(&mut self, id: NetId) {
        if let Some(old) = self.view.entities.remove(&id) {
            self.view.checksum = self.view.checksum.wrapping_sub(entity_hash(&old));
            self.delta.despawned.push(Despawn { id });
            // A spawn and a removal of the same id in one frame cancel out on the wire.
            if let Some(i) = self.delta.spawned.iter().position(|s| s.id == id) {
                self.delta.spawned.swap_remove(i);
                self.delta.despawned.pop();
            }
            self.delta.moved.retain(|m| m.id != id);
            self.delta.acks.retain(|a| a.id != id);
        }
    }

    /// Ends the frame: the view now holds `tick`; returns the delta with sorted lists and the
    /// world checksum.
    pub fn finish(self) -> Delta {
        let FrameBuilder { view, mut delta } = self;
        delta.despawned.sort_unstable_by_key(|d| d.id);
        delta.moved.sort_unstable_by_key(|m| m.id);
        delta.acks.sort_unstable_by_key(|a| a.id);
        delta.spawned.sort_unstable_by_key(|s| s.id);
        delta.checksum = view.checksum;
        view.tick = Some(delta.tick);
        delta
    }
}
