//! The bytes a [`Replica`] writes: the shared part of a delta (once per tick), the shared part
//! of a snapshot, and each client's own parts.

use super::{EventBatch, Replica};
use crate::cursor::{GapWriter, put_signed, put_varint};
use crate::frame::NetId;
use crate::message::tag;
use crate::replica::entity::Fate;

impl Replica {
    /// Ends the frame leading to `tick`: writes the shared part of its delta and keeps each
    /// owner's owner-only changes.
    pub(super) fn finish(&mut self, tick: u32, server_time_us: u64, out: &mut Vec<u8>) {
        let fates = self.settle();
        // Before any finished tick no client holds a baseline; the one before `tick` stands in.
        self.baseline = self.tick.unwrap_or(tick.wrapping_sub(1));
        if self.area.is_some() {
            self.finish_area(&fates);
        } else {
            self.write_shared_delta(&fates, tick, server_time_us, out);
        }
        self.keep_own_changes(&fates);
        self.fates = fates;
        self.touches.clear();
        self.gone.clear();
        self.tick = Some(tick);
        self.server_time_us = server_time_us;
    }

    /// Writes the shared part of the delta leading to `tick` from `fates`.
    fn write_shared_delta(
        &self,
        fates: &[(NetId, Fate, u64)],
        tick: u32,
        server_time_us: u64,
        out: &mut Vec<u8>,
    ) {
        self.write_delta_header(tag::DELTA, tick, server_time_us, out);
        self.write_list(fates, out, |f| f.despawned, |_, _, _, _| {});
        self.write_moved(fates, out);
        self.write_changed(fates, out);
        self.write_list(
            fates,
            out,
            |f| f.spawned,
            |r, id, _, out| r.write_spawn(id, out),
        );
    }

    /// Writes the `moved` list of the entities of `fates` that moved.
    pub(super) fn write_moved(&self, fates: &[(NetId, Fate, u64)], out: &mut Vec<u8>) {
        self.write_list(
            fates,
            out,
            |f| f.moved.is_some(),
            |_, _, fate, out| {
                if let Some((dx, dy)) = fate.moved {
                    put_signed(out, i64::from(dx));
                    put_signed(out, i64::from(dy));
                }
            },
        );
    }

    /// Writes the `changed` list of the entities of `fates` whose shared components changed.
    pub(super) fn write_changed(&self, fates: &[(NetId, Fate, u64)], out: &mut Vec<u8>) {
        self.write_list(
            fates,
            out,
            |f| f.changed != 0,
            |r, id, fate, out| {
                put_varint(out, fate.changed);
                r.values(id, fate.changed, out);
            },
        );
    }

    /// Writes entity `id` as a spawn entry after its gap: kind, mask and every shared
    /// component.
    pub(super) fn write_spawn(&self, id: NetId, out: &mut Vec<u8>) {
        if let Some(e) = self.entities.get(&id) {
            put_varint(out, u64::from(e.kind));
            let mask = e.mask() & !self.masks.owner_only;
            put_varint(out, mask);
            e.write_values(mask, out);
        }
    }

    /// How each touched entity travels, by ascending id, with its owner-only changes; frees the
    /// entities' touch slots.
    fn settle(&mut self) -> Vec<(NetId, Fate, u64)> {
        let mut fates = std::mem::take(&mut self.fates);
        fates.clear();
        // Touches usually come in id order already (queries walk entities as they spawned).
        if !self.touches.is_sorted_by_key(|&(id, _)| id) {
            self.touches.sort_unstable_by_key(|&(id, _)| id);
        }
        for &(id, touch) in &self.touches {
            let now = self.entities.get_mut(&id).map(|e| {
                e.slot = None;
                &*e
            });
            fates.push((id, touch.fate(now), touch.owned));
        }
        fates
    }

    /// Writes the list of touched entities whose fate `pick`s them, each as its gap and what
    /// `item` appends.
    fn write_list(
        &self,
        fates: &[(NetId, Fate, u64)],
        out: &mut Vec<u8>,
        pick: impl Fn(&Fate) -> bool,
        item: impl Fn(&Self, NetId, &Fate, &mut Vec<u8>),
    ) {
        let count = fates.iter().filter(|(_, f, _)| pick(f)).count();
        put_varint(out, count as u64);
        let mut gaps = GapWriter::default();
        for (id, fate, _) in fates.iter().filter(|(_, f, _)| pick(f)) {
            gaps.put(out, *id);
            item(self, *id, fate, out);
        }
    }

    /// Appends the values of the components in `mask` of entity `id`.
    fn values(&self, id: NetId, mask: u64, out: &mut Vec<u8>) {
        if let Some(e) = self.entities.get(&id) {
            e.write_values(mask, out);
        }
    }

    /// Rebuilds `own_changes` from the touched entities (ascending ids): per owner, the
    /// owner-only components that changed, or all of them for an entity spawned in the frame.
    fn keep_own_changes(&mut self, fates: &[(NetId, Fate, u64)]) {
        self.own_changes.clear();
        if self.masks.owner_only == 0 {
            return;
        }
        for &(id, ref fate, owned) in fates {
            let Some(e) = self.entities.get(&id) else {
                continue;
            };
            let Some(owner) = e.owner else {
                continue;
            };
            let mask = if fate.spawned {
                e.mask() & self.masks.owner_only
            } else {
                owned
            };
            if mask != 0 {
                self.own_changes.push((owner, id, mask));
            }
        }
        self.own_changes.sort_by_key(|&(owner, _, _)| owner);
    }

    /// Appends the shared part of a snapshot of the last finished tick: tag, tick, time and every
    /// entity with its shared components (tick 0 before any finished tick).
    pub fn write_snapshot_shared(&self, out: &mut Vec<u8>) {
        self.write_snapshot_header(out);
        self.write_spawns(self.sorted_ids().into_iter(), out);
    }

    /// Appends a snapshot's tag, tick and time (tick 0 before any finished tick).
    pub(super) fn write_snapshot_header(&self, out: &mut Vec<u8>) {
        out.push(tag::SNAPSHOT);
        put_varint(out, u64::from(self.tick.unwrap_or(0)));
        put_varint(out, self.server_time_us);
    }

    /// Appends a delta's header: `tag` (a delta or an area delta), tick, baseline and time.
    pub(super) fn write_delta_header(
        &self,
        tag: u8,
        tick: u32,
        server_time_us: u64,
        out: &mut Vec<u8>,
    ) {
        out.push(tag);
        put_varint(out, u64::from(tick));
        put_varint(out, u64::from(self.baseline));
        put_varint(out, server_time_us);
    }

    /// Appends a list of spawn entries: the count of `ids` (ascending), then each one's gap and
    /// [`Replica::write_spawn`].
    pub(super) fn write_spawns(
        &self,
        ids: impl ExactSizeIterator<Item = NetId>,
        out: &mut Vec<u8>,
    ) {
        write_id_list(ids, out, |id, out| self.write_spawn(id, out));
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
        self.own_snapshot(player, ack, events, self.checksum(player), out);
    }

    /// Appends the own part of a snapshot with `checksum` as its checksum.
    pub(super) fn own_snapshot(
        &self,
        player: NetId,
        ack: u32,
        events: EventBatch<'_>,
        checksum: u64,
        out: &mut Vec<u8>,
    ) {
        put_varint(out, u64::from(ack));
        let owned = self.owners.get(&player).map(|o| &o.entities);
        let with_mask = owned.into_iter().flatten().filter_map(|&id| {
            let mask = self.entities.get(&id)?.mask() & self.masks.owner_only;
            (mask != 0).then_some((id, mask))
        });
        put_varint(out, with_mask.clone().count() as u64);
        let mut gaps = GapWriter::default();
        for (id, mask) in with_mask {
            gaps.put(out, id);
            put_varint(out, mask);
            self.values(id, mask, out);
        }
        own_tail(events, checksum, out);
    }

    /// Appends player `player`'s own part of the delta of the last finished tick: its ack
    /// advance (`ack` minus `previous_ack`, wrapping), the owner-only components of its entities
    /// that changed (all of them for an entity new in this delta), `events`, and its checksum.
    /// The work is proportional to this player's own changes, not to the world.
    pub fn write_own_delta(
        &self,
        player: NetId,
        previous_ack: u32,
        ack: u32,
        events: EventBatch<'_>,
        out: &mut Vec<u8>,
    ) {
        self.own_delta(
            player,
            ack.wrapping_sub(previous_ack),
            events,
            self.checksum(player),
            out,
        );
    }

    /// Appends the own part of a delta with ack advance `advance` and `checksum`.
    pub(super) fn own_delta(
        &self,
        player: NetId,
        advance: u32,
        events: EventBatch<'_>,
        checksum: u64,
        out: &mut Vec<u8>,
    ) {
        put_varint(out, u64::from(advance));
        if self.own_changes.is_empty() {
            // No owner-only change this tick (always so in a game without owner-only
            // components): an empty list.
            out.push(0);
        } else {
            self.own_changes_of(player, out);
        }
        own_tail(events, checksum, out);
    }

    /// Appends the list of `player`'s owner-only changes of the last delta.
    fn own_changes_of(&self, player: NetId, out: &mut Vec<u8>) {
        let start = self.own_changes.partition_point(|&(o, _, _)| o < player);
        let end = self.own_changes.partition_point(|&(o, _, _)| o <= player);
        let mine = &self.own_changes[start..end];
        put_varint(out, mine.len() as u64);
        let mut gaps = GapWriter::default();
        for &(_, id, mask) in mine {
            gaps.put(out, id);
            put_varint(out, mask);
            self.values(id, mask, out);
        }
    }

    /// Whether player `player`'s own part of the last delta, given no events, is the same bytes
    /// as that of every other such player with the same ack advance: it has no owner-only change
    /// and its checksum is the shared one (it holds no owner-only data). A server can then send
    /// one frame to all of them.
    pub fn own_delta_is_common(&self, player: NetId) -> bool {
        self.checksum(player) == self.shared_sum && !self.has_own_changes(player)
    }

    /// Whether the last delta has owner-only changes for `player`.
    fn has_own_changes(&self, player: NetId) -> bool {
        self.own_changes
            .binary_search_by_key(&player, |&(o, _, _)| o)
            .is_ok()
    }
}

/// The events and the checksum that end every own part.
fn own_tail(events: EventBatch<'_>, checksum: u64, out: &mut Vec<u8>) {
    put_varint(out, events.count as u64);
    out.extend_from_slice(events.bytes);
    put_varint(out, checksum);
}

/// Appends a list of ids: the count of `ids` (ascending), then each one's gap followed by what
/// `each` writes of it.
pub(super) fn write_id_list(
    ids: impl ExactSizeIterator<Item = NetId>,
    out: &mut Vec<u8>,
    mut each: impl FnMut(NetId, &mut Vec<u8>),
) {
    put_varint(out, ids.len() as u64);
    let mut gaps = GapWriter::default();
    for id in ids {
        gaps.put(out, id);
        each(id, out);
    }
}
