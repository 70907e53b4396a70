//! [`Replica`]: the server's record of the replicated world as its clients hold it, which turns
//! one tick's changes into the shared part of a delta (encoded once for every client) and writes
//! each client's own part (its acknowledged input, owner-only components, events, checksum).

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;

use crate::checksum::component_seed;
use crate::frame::NetId;
use crate::quant::QPos;
use crate::schema::Schema;
use crate::walk::Masks;
use crate::wire::FieldWriter;

mod area;
mod area_write;
mod entity;
mod write;

pub use area::{Interest, MAX_CELLS_PER_SIDE, View};
use entity::{Entity, Fate, Stored, Touch, pos_hash};

/// The replicated world at the last finished tick.
#[derive(Debug, Default)]
pub struct Replica {
    /// Which components exist and which are owner-only.
    masks: Masks,
    /// Entities by id (a fast hash: ids are the server's own); lists that travel sort them.
    entities: FxHashMap<NetId, Entity>,
    /// The last finished tick and its server time.
    tick: Option<u32>,
    server_time_us: u64,
    /// Wrapping sum of every entity's hash and its shared components' hashes.
    shared_sum: u64,
    /// Per player: the entities it owns and the sum of their owner-only components' hashes.
    owners: FxHashMap<NetId, Owned>,
    /// Entities touched since the last finished tick, with their state before it, in the order
    /// first touched (sorted by `finish`). An entity that exists holds its slot here; one that
    /// does not (it was despawned in this frame) has its slot in `gone`.
    touches: Vec<(NetId, Touch)>,
    /// Slots in `touches` of touched ids that do not exist now.
    gone: FxHashMap<NetId, usize>,
    /// How each touched entity travels, by ascending id (reused by `finish`).
    fates: Vec<(NetId, Fate, u64)>,
    /// The last delta's owner-only changes: `(owner, entity, mask)` by owner, then entity.
    own_changes: Vec<(NetId, NetId, u64)>,
    /// Reused buffer for encoding a component.
    scratch: Vec<u8>,
    /// The baseline of the last finished frame (the tick before it).
    baseline: u32,
    /// The grid of a replica with an interest radius, whose clients each see part of it.
    area: Option<Box<area::Area>>,
}

/// What one player owns.
#[derive(Debug, Default)]
struct Owned {
    entities: BTreeSet<NetId>,
    /// Wrapping sum of the hashes of their owner-only components.
    sum: u64,
}

/// Events queued for one client: how many, and their encodings back to back (each: the event
/// index as a varint, then its fields).
#[derive(Debug, Clone, Copy, Default)]
pub struct EventBatch<'a> {
    /// How many events `bytes` holds.
    pub count: usize,
    /// The encoded events.
    pub bytes: &'a [u8],
}

/// One entity of the replica, for readers such as the spectator feed.
#[derive(Debug, Clone, Copy)]
pub struct ReplicaEntity<'a> {
    /// Its id.
    pub id: NetId,
    /// Its kind.
    pub kind: u32,
    /// The player that owns it, if any.
    pub owner: Option<NetId>,
    entity: &'a Entity,
}

impl<'a> ReplicaEntity<'a> {
    fn new(id: NetId, entity: &'a Entity) -> Self {
        Self {
            id,
            kind: entity.kind,
            owner: entity.owner,
            entity,
        }
    }

    /// Its position, if it has one.
    pub fn position(&self) -> Option<QPos> {
        self.entity.pos
    }

    /// Every component but the position, by ascending index, with its encoded fields.
    pub fn components(&self) -> impl Iterator<Item = (usize, &'a [u8])> {
        self.entity
            .comps
            .iter()
            .map(|c| (c.index, c.bytes.as_slice()))
    }
}

impl Replica {
    /// An empty replica for a game described by `schema` (it keeps which components are
    /// owner-only).
    pub fn new(schema: &Schema) -> Self {
        Self {
            masks: Masks::of(schema),
            ..Self::default()
        }
    }

    /// The last finished tick, if any.
    pub fn tick(&self) -> Option<u32> {
        self.tick
    }

    /// How many entities exist.
    pub fn len(&self) -> usize {
        self.entities.len()
    }

    /// Whether no entity exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One entity.
    pub fn entity(&self, id: NetId) -> Option<ReplicaEntity<'_>> {
        self.entities.get(&id).map(|e| ReplicaEntity::new(id, e))
    }

    /// Every entity by ascending id.
    pub fn entities(&self) -> impl Iterator<Item = ReplicaEntity<'_>> {
        self.sorted_ids()
            .into_iter()
            .filter_map(|id| self.entity(id))
    }

    /// Every entity's id, ascending.
    fn sorted_ids(&self) -> Vec<NetId> {
        let mut ids: Vec<NetId> = self.entities.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// Starts recording the changes that lead to `tick`. Changes of a frame dropped without
    /// [`ReplicaFrame::finish`] stay in the replica and travel with the next finished one.
    pub fn begin(&mut self, tick: u32, server_time_us: u64) -> ReplicaFrame<'_> {
        ReplicaFrame {
            replica: self,
            tick,
            server_time_us,
        }
    }

    /// The checksum player `player` must compute after its frame.
    fn checksum(&self, player: NetId) -> u64 {
        let owned = if self.masks.owner_only == 0 {
            0
        } else {
            self.owners.get(&player).map_or(0, |o| o.sum)
        };
        self.shared_sum.wrapping_add(owned)
    }

    /// Records entity `id`'s state before the frame, on its first touch.
    fn touch(&mut self, id: NetId) -> &mut Touch {
        let slot = if let Some(e) = self.entities.get_mut(&id) {
            touch_slot(&mut self.touches, id, e)
        } else {
            *self.gone.entry(id).or_insert_with(|| {
                self.touches.push((id, Touch::default()));
                self.touches.len() - 1
            })
        };
        &mut self.touches[slot].1
    }

    /// Removes entity `id`, keeping its touch slot.
    fn take_entity(&mut self, id: NetId) -> Option<Entity> {
        let e = self.entities.remove(&id)?;
        if let Some(slot) = e.slot {
            self.gone.insert(id, slot);
        }
        Some(e)
    }

    /// Inserts entity `id`, with the touch slot it had when it was taken.
    fn put_entity(&mut self, id: NetId, mut e: Entity) {
        e.slot = self.gone.remove(&id).or(e.slot);
        self.entities.insert(id, e);
    }

    /// Replaces hash `old` by `new` of component `index` of an entity owned by `owner`, in the
    /// sum that holds it.
    fn rehash(&mut self, index: usize, owner: Option<NetId>, old: u64, new: u64) {
        let sum = if self.masks.owner_only & 1 << index == 0 {
            &mut self.shared_sum
        } else if let Some(o) = owner.and_then(|o| self.owners.get_mut(&o)) {
            &mut o.sum
        } else {
            return;
        };
        *sum = sum.wrapping_sub(old).wrapping_add(new);
    }

    /// Adds (`add`) or removes entity `id`'s hashes and ownership.
    fn account(&mut self, id: NetId, e: &Entity, add: bool) {
        let shared = e.shared_hash(id, self.masks.owner_only);
        let owned = e.owned_hash(self.masks.owner_only);
        let apply = |sum: u64, h: u64| {
            if add {
                sum.wrapping_add(h)
            } else {
                sum.wrapping_sub(h)
            }
        };
        self.shared_sum = apply(self.shared_sum, shared);
        let Some(owner) = e.owner else {
            return;
        };
        let o = self.owners.entry(owner).or_default();
        o.sum = apply(o.sum, owned);
        if add {
            o.entities.insert(id);
        } else {
            o.entities.remove(&id);
            if o.entities.is_empty() {
                self.owners.remove(&owner);
            }
        }
    }
}

/// The slot in `touches` of existing entity `e` (id `id`), made on its first touch.
fn touch_slot(touches: &mut Vec<(NetId, Touch)>, id: NetId, e: &mut Entity) -> usize {
    *e.slot.get_or_insert_with(|| {
        let touch = Touch {
            existed: true,
            old_pos: e.pos,
            ..Touch::default()
        };
        touches.push((id, touch));
        touches.len() - 1
    })
}

/// Records one tick's changes; [`ReplicaFrame::finish`] writes the shared part of the delta.
#[derive(Debug)]
pub struct ReplicaFrame<'a> {
    replica: &'a mut Replica,
    tick: u32,
    server_time_us: u64,
}

impl ReplicaFrame<'_> {
    /// Makes sure entity `id` exists with `kind` and `owner`: a new id is spawned; an existing
    /// one with another kind or owner is replaced (despawned and spawned again, with the
    /// components it still has).
    pub fn spawn(&mut self, id: NetId, kind: u32, owner: Option<NetId>) {
        let r = &mut *self.replica;
        if r.entities
            .get(&id)
            .is_some_and(|e| e.kind == kind && e.owner == owner)
        {
            return;
        }
        let existed = r.touch(id).existed;
        let old = match r.take_entity(id) {
            Some(e) => {
                r.account(id, &e, false);
                e
            }
            None => Entity::new(kind, owner),
        };
        let e = Entity { kind, owner, ..old };
        r.account(id, &e, true);
        r.put_entity(id, e);
        if existed {
            r.touch(id).replaced = true;
        }
    }

    /// Removes entity `id`; nothing when it does not exist.
    pub fn despawn(&mut self, id: NetId) {
        let r = &mut *self.replica;
        if !r.entities.contains_key(&id) {
            return;
        }
        r.touch(id);
        if let Some(e) = r.take_entity(id) {
            r.account(id, &e, false);
        }
    }

    /// Sets entity `id`'s position (component 0); ignored for an unknown entity.
    pub fn set_position(&mut self, id: NetId, pos: QPos) {
        let r = &mut *self.replica;
        // One lookup: this runs for every moving entity of every tick.
        let Some(e) = r.entities.get_mut(&id) else {
            return;
        };
        let old = e.pos;
        if old == Some(pos) {
            return;
        }
        let slot = touch_slot(&mut r.touches, id, e);
        e.pos = Some(pos);
        let owner = e.owner;
        r.touches[slot].1.replaced |= old.is_none();
        let old_hash = old.map_or(0, |p| pos_hash(id, p));
        r.rehash(0, owner, old_hash, pos_hash(id, pos));
    }

    /// Sets component `index` of entity `id` to what `write` encodes; nothing travels when the
    /// bytes equal the ones held. Ignored for an unknown entity, and for an index that is the
    /// position (use [`ReplicaFrame::set_position`]) or not in the schema.
    pub fn set_component(
        &mut self,
        id: NetId,
        index: usize,
        write: impl FnOnce(&mut FieldWriter<'_>),
    ) {
        let r = &mut *self.replica;
        let known = index != 0 && index < 64 && r.masks.all & 1 << index != 0;
        if !known || !r.entities.contains_key(&id) {
            return;
        }
        let mut scratch = std::mem::take(&mut r.scratch);
        scratch.clear();
        let mut w = FieldWriter::new(&mut scratch, component_seed(id, index));
        write(&mut w);
        let hash = w.hash();
        r.store(id, index, &scratch, hash);
        r.scratch = scratch;
    }

    /// Removes component `index` of entity `id` (the entity is replaced, see
    /// [`ReplicaFrame::spawn`]); nothing when it does not have it.
    pub fn remove_component(&mut self, id: NetId, index: usize) {
        let r = &mut *self.replica;
        let Some(e) = r.entities.get(&id) else {
            return;
        };
        let (owner, pos, found) = (e.owner, e.pos, e.find(index).ok());
        let old_hash = match (index, pos, found) {
            (0, Some(p), _) => pos_hash(id, p),
            (0, None, _) | (_, _, None) => return,
            (_, _, Some(i)) => e.comps[i].hash,
        };
        r.touch(id).replaced = true;
        if let Some(e) = r.entities.get_mut(&id) {
            match found {
                Some(i) if index != 0 => drop(e.comps.remove(i)),
                _ => e.pos = None,
            }
        }
        r.rehash(index, owner, old_hash, 0);
    }

    /// Ends the frame: the replica now holds `tick`. Appends the shared part of the delta to
    /// `out` (tag, tick, baseline, time, despawned, moved, changed, spawned) and keeps what each
    /// owner's own part needs.
    pub fn finish(self, out: &mut Vec<u8>) {
        self.replica.finish(self.tick, self.server_time_us, out);
    }
}

impl Replica {
    /// Stores `bytes` (hash `hash`) as component `index` of existing entity `id`, recording the
    /// change when they differ from the ones held.
    fn store(&mut self, id: NetId, index: usize, bytes: &[u8], hash: u64) {
        let owner_only = self.masks.owner_only & 1 << index != 0;
        let (owner, slot) = match self.entities.get(&id) {
            Some(e) => (e.owner, e.find(index)),
            None => return,
        };
        let same = |e: &Entity| slot.is_ok_and(|i| e.comps[i].bytes == bytes);
        if self.entities.get(&id).is_some_and(same) {
            return;
        }
        let touch = self.touch(id);
        match (slot, owner_only) {
            (_, true) => touch.owned |= 1 << index,
            (Ok(_), false) => touch.changed |= 1 << index,
            (Err(_), false) => touch.replaced = true,
        }
        let Some(e) = self.entities.get_mut(&id) else {
            return;
        };
        let old_hash = match slot {
            Ok(i) => {
                let c = &mut e.comps[i];
                c.bytes.clear();
                c.bytes.extend_from_slice(bytes);
                std::mem::replace(&mut c.hash, hash)
            }
            Err(i) => {
                let bytes = bytes.to_vec();
                e.comps.insert(i, Stored { index, bytes, hash });
                0
            }
        };
        self.rehash(index, owner, old_hash, hash);
    }
}
