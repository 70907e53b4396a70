//! [`Replica`]: the server's record of the replicated world as its clients hold it, which turns
//! one tick's changes into the shared part of a delta (encoded once for every client) and writes
//! each client's own part (its acknowledged input, owner-only components, events, checksum).

use crate::frame::NetId;
use crate::quant::QPos;
use crate::schema::Schema;
use crate::wire::FieldWriter;

/// The replicated world at the last finished tick.
#[derive(Debug, Default)]
pub struct Replica {}

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
    #[doc(hidden)]
    pub _p: std::marker::PhantomData<&'a ()>,
}

impl<'a> ReplicaEntity<'a> {
    /// Its position, if it has one.
    pub fn position(&self) -> Option<QPos> {
        todo!("helper P")
    }

    /// Every component but the position, by ascending index, with its encoded fields.
    pub fn components(&self) -> impl Iterator<Item = (usize, &'a [u8])> {
        todo!("helper P");
        #[allow(unreachable_code)]
        std::iter::empty()
    }
}

impl Replica {
    /// An empty replica for a game described by `schema` (it keeps which components are
    /// owner-only).
    pub fn new(schema: &Schema) -> Self {
        todo!("helper P {schema:?}")
    }

    /// The last finished tick, if any.
    pub fn tick(&self) -> Option<u32> {
        todo!("helper P")
    }

    /// How many entities exist.
    pub fn len(&self) -> usize {
        todo!("helper P")
    }

    /// Whether no entity exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One entity.
    pub fn entity(&self, id: NetId) -> Option<ReplicaEntity<'_>> {
        todo!("helper P {id}")
    }

    /// Every entity by ascending id.
    pub fn entities(&self) -> impl Iterator<Item = ReplicaEntity<'_>> {
        todo!("helper P");
        #[allow(unreachable_code)]
        std::iter::empty()
    }

    /// Starts recording the changes that lead to `tick`.
    pub fn begin(&mut self, tick: u32, server_time_us: u64) -> ReplicaFrame<'_> {
        todo!("helper P {tick} {server_time_us}")
    }

    /// Appends the shared part of a snapshot of the last finished tick: tag, tick, time and every
    /// entity with its shared components.
    pub fn write_snapshot_shared(&self, out: &mut Vec<u8>) {
        todo!("helper P {out:?}")
    }

    /// Appends player `player`'s own part of a snapshot: `ack`, the owner-only components of
    /// every entity it owns, `events`, and its checksum.
    pub fn write_own_snapshot(
        &self,
        player: NetId,
        ack: u32,
        events: EventBatch<'_>,
        out: &mut Vec<u8>,
    ) {
        todo!("helper P {player} {ack} {events:?} {out:?}")
    }

    /// Appends player `player`'s own part of the delta of the last finished tick: its ack
    /// advance (`ack` minus `previous_ack`, wrapping), the owner-only components of its entities
    /// that changed (all of them for an entity new in this delta), `events`, and its checksum.
    pub fn write_own_delta(
        &self,
        player: NetId,
        previous_ack: u32,
        ack: u32,
        events: EventBatch<'_>,
        out: &mut Vec<u8>,
    ) {
        todo!("helper P {player} {previous_ack} {ack} {events:?} {out:?}")
    }
}

/// Records one tick's changes; [`ReplicaFrame::finish`] writes the shared part of the delta.
#[derive(Debug)]
pub struct ReplicaFrame<'a> {
    replica: &'a mut Replica,
}

impl ReplicaFrame<'_> {
    /// Makes sure entity `id` exists with `kind` and `owner`: a new id is spawned; an existing
    /// one with another kind or owner is replaced (despawned and spawned again, with the
    /// components it still has).
    pub fn spawn(&mut self, id: NetId, kind: u32, owner: Option<NetId>) {
        todo!("helper P {id} {kind} {owner:?} {:?}", self.replica)
    }

    /// Removes entity `id`; nothing when it does not exist.
    pub fn despawn(&mut self, id: NetId) {
        todo!("helper P {id}")
    }

    /// Sets entity `id`'s position (component 0); ignored for an unknown entity.
    pub fn set_position(&mut self, id: NetId, pos: QPos) {
        todo!("helper P {id} {pos:?}")
    }

    /// Sets component `index` of entity `id` to what `write` encodes; nothing travels when the
    /// bytes equal the ones held. Ignored for an unknown entity.
    pub fn set_component(
        &mut self,
        id: NetId,
        index: usize,
        write: impl FnOnce(&mut FieldWriter<'_>),
    ) {
        todo!(
            "helper P {id} {index} {}",
            std::any::type_name_of_val(&write)
        )
    }

    /// Removes component `index` of entity `id` (the entity is replaced, see
    /// [`ReplicaFrame::spawn`]); nothing when it does not have it.
    pub fn remove_component(&mut self, id: NetId, index: usize) {
        todo!("helper P {id} {index}")
    }

    /// Ends the frame: the replica now holds `tick`. Appends the shared part of the delta to
    /// `out` (tag, tick, baseline, time, despawned, moved, changed, spawned) and keeps what each
    /// owner's own part needs.
    pub fn finish(self, out: &mut Vec<u8>) {
        todo!("helper P {out:?}")
    }
}
