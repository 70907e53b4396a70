//! The bytes of rooms with an interest radius: each cell's piece (once per tick) and each
//! client's area delta or snapshot (PROTOCOL.md §6.5).

use super::area::{Area, Interest, View};
use super::write::write_id_list;
use super::{EventBatch, Replica};
use crate::cursor::put_varint;
use crate::frame::NetId;
use crate::message::tag;
use crate::replica::entity::Fate;
use crate::schema::Schema;

impl Replica {
    /// An empty replica for a game described by `schema` whose clients each hold only what lies
    /// within `interest`'s radius of their avatar: write their frames with
    /// [`Replica::write_area_snapshot`] and [`Replica::write_area_delta`].
    pub fn with_interest(schema: &Schema, interest: Interest) -> Self {
        Self {
            area: Some(Box::new(Area::new(interest))),
            ..Self::new(schema)
        }
    }

    /// The interest settings, if the replica has a radius.
    pub fn interest(&self) -> Option<Interest> {
        self.area.as_ref().map(|a| a.interest)
    }

    /// The grid, which a replica made with [`Replica::with_interest`] has.
    fn area_of_interest(&self) -> Option<&Area> {
        debug_assert!(
            self.area.is_some(),
            "an area frame of a replica without a radius"
        );
        self.area.as_deref()
    }

    /// Ends a frame of a replica with a radius: sorts the entities into the grid and encodes
    /// each cell's piece from `fates`.
    pub(super) fn finish_area(&mut self, fates: &[(NetId, Fate, u64)]) {
        let Some(mut area) = self.area.take() else {
            return;
        };
        let owner_only = self.masks.owner_only;
        area.rebuild(
            self.entities
                .iter()
                .map(|(&id, e)| (id, e.pos, e.shared_hash(id, owner_only))),
        );
        area.fresh.clear();
        area.fresh.extend(
            fates
                .iter()
                .filter(|(_, f, _)| f.spawned)
                .map(|&(id, _, _)| id),
        );
        self.write_pieces(&mut area, fates);
        self.area = Some(area);
    }

    /// Encodes the moves and changes of `fates` into the piece of the cell each entity is in
    /// now (ids ascend within a piece, as `fates` are by ascending id).
    fn write_pieces(&self, area: &mut Area, fates: &[(NetId, Fate, u64)]) {
        let everywhere = area.everywhere_piece();
        let mut by_cell = std::mem::take(&mut area.changes_by_cell);
        by_cell.clear();
        by_cell.extend(
            fates
                .iter()
                .filter(|(_, f, _)| !f.spawned && (f.moved.is_some() || f.changed != 0))
                .filter_map(|&(id, f, owned)| {
                    let e = self.entities.get(&id)?;
                    let cell = e.pos.map_or(everywhere, |p| area.cell_of(p));
                    Some((cell, (id, f, owned)))
                }),
        );
        by_cell.sort_by_key(|&(cell, _)| cell);
        for cell in area.written.drain(..) {
            area.pieces[cell] = 0..0;
        }
        area.bytes.clear();
        let mut group = std::mem::take(&mut area.cell_changes);
        for chunk in by_cell.chunk_by(|a, b| a.0 == b.0) {
            group.clear();
            group.extend(chunk.iter().map(|&(_, fate)| fate));
            let start = area.bytes.len();
            self.write_moved(&group, &mut area.bytes);
            self.write_changed(&group, &mut area.bytes);
            area.pieces[chunk[0].0] = start..area.bytes.len();
            area.written.push(chunk[0].0);
        }
        area.changes_by_cell = by_cell;
        area.cell_changes = group;
    }

    /// Works out what `player`'s client sees now into `view`: the entities within the radius of
    /// its avatar (or of where its avatar last was), every entity without a position and every
    /// entity it owns; and the pieces its frame takes.
    fn look(&self, area: &Area, view: &mut View, player: NetId) {
        view.set_centre(self.entities.get(&player).and_then(|e| e.pos));
        let centre = view.centre();
        let View { visible, cells, .. } = view;
        visible.clear();
        cells.clear();
        let owner_only = self.masks.owner_only;
        if let Some(centre) = centre {
            area.around(centre, |c| cells.push(c), |m| visible.push((m.id, m.hash)));
        }
        cells.push(area.everywhere_piece());
        visible.extend_from_slice(&area.everywhere);
        // Its own entities, wherever they are, with the pieces that carry their changes.
        if let Some(owned) = self.owners.get(&player) {
            for &id in &owned.entities {
                if let Some(e) = self.entities.get(&id) {
                    visible.push((id, e.shared_hash(id, owner_only)));
                    cells.extend(e.pos.map(|p| area.cell_of(p)));
                }
            }
        }
        visible.sort_unstable_by_key(|&(id, _)| id);
        visible.dedup_by_key(|&mut (id, _)| id);
        cells.sort_unstable();
        cells.dedup();
    }

    /// The checksum of what `view` sees now, with `player`'s owner-only components.
    fn view_checksum(&self, view: &View, player: NetId) -> u64 {
        let owned = self.owners.get(&player).map_or(0, |o| o.sum);
        view.visible
            .iter()
            .fold(owned, |sum, &(_, hash)| sum.wrapping_add(hash))
    }

    /// Appends `player`'s snapshot of the last finished tick in a room with a radius: every
    /// entity it sees, then its own part (`ack`, its owner-only components, `events`, the
    /// checksum of what it sees). `view` then holds what the snapshot held. Only for a replica
    /// made with [`Replica::with_interest`]: on another it writes nothing.
    pub fn write_area_snapshot(
        &self,
        view: &mut View,
        player: NetId,
        ack: u32,
        events: EventBatch<'_>,
        out: &mut Vec<u8>,
    ) {
        let Some(area) = self.area_of_interest() else {
            return;
        };
        self.look(area, view, player);
        self.write_snapshot_header(out);
        self.write_spawns(view.visible.iter().map(|&(id, _)| id), out);
        let checksum = self.view_checksum(view, player);
        self.own_snapshot(player, ack, events, checksum, out);
        view.commit();
    }

    /// Appends `player`'s area delta of the last finished tick (tag 6): the entities it stops
    /// holding, the pieces of the cells its radius meets, the entities it starts holding in
    /// full, then its own part (ack advance from `previous_ack` to `ack`, owner-only changes,
    /// `events`, checksum). `view` must hold what the client holds (its previous frame's); it
    /// then holds what this frame leaves the client with. Only for a replica made with
    /// [`Replica::with_interest`]: on another it writes nothing.
    pub fn write_area_delta(
        &self,
        view: &mut View,
        player: NetId,
        previous_ack: u32,
        ack: u32,
        events: EventBatch<'_>,
        out: &mut Vec<u8>,
    ) {
        let Some(area) = self.area_of_interest() else {
            return;
        };
        self.look(area, view, player);
        let tick = self.tick.unwrap_or(0);
        self.write_delta_header(tag::AREA_DELTA, tick, self.server_time_us, out);
        changes_of_view(&area.fresh, view);
        write_id_list(view.left.iter().copied(), out, |_, _| {});
        write_view_pieces(area, view, out);
        self.write_spawns(view.entered.iter().copied(), out);
        let checksum = self.view_checksum(view, player);
        self.own_delta(
            player,
            ack.wrapping_sub(previous_ack),
            events,
            checksum,
            out,
        );
        view.commit();
    }
}

/// Puts into `view.left` and `view.entered` the entities it stops holding and the ones it starts
/// holding, ascending: those that left or entered its sight, and those spawned again in the last
/// frame (`fresh`: in both).
fn changes_of_view(fresh: &[NetId], view: &mut View) {
    let View {
        held,
        visible,
        left,
        entered,
        ..
    } = view;
    left.clear();
    entered.clear();
    let (mut i, mut j) = (0, 0);
    while i < held.len() || j < visible.len() {
        let h = held.get(i).copied();
        let v = visible.get(j).map(|&(id, _)| id);
        match (h, v) {
            (Some(h), Some(v)) if h == v => {
                if fresh.binary_search(&h).is_ok() {
                    left.push(h);
                    entered.push(h);
                }
                i += 1;
                j += 1;
            }
            (Some(h), Some(v)) if h < v => {
                left.push(h);
                i += 1;
            }
            (Some(h), None) => {
                left.push(h);
                i += 1;
            }
            (_, Some(v)) => {
                entered.push(v);
                j += 1;
            }
            (None, None) => break,
        }
    }
}

/// Appends the list of the pieces of `area` that `view`'s frame takes (the empty ones left out).
fn write_view_pieces(area: &Area, view: &View, out: &mut Vec<u8>) {
    let pieces = view
        .cells
        .iter()
        .map(|&c| area.pieces[c].clone())
        .filter(|p| !p.is_empty());
    put_varint(out, pieces.clone().count() as u64);
    for piece in pieces {
        out.extend_from_slice(&area.bytes[piece]);
    }
}
