//! Interest management: in a room with an interest radius each client holds only the entities
//! near its avatar. Each tick the replica sorts its entities into a uniform grid and encodes the
//! moves and changes of each cell once, as a **piece**; a client's area delta is its own leaves
//! and enters, the pieces of the cells its circle meets, and its own part (PROTOCOL.md §6.5).

use std::ops::Range;

use crate::frame::NetId;
use crate::quant::{Bounds, QPos};
use crate::replica::entity::Fate;

/// How far a client sees, and the grid that finds what it sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interest {
    /// A client holds the entities whose position lies within this distance of its centre,
    /// in quanta (at least 1).
    pub radius: i32,
    /// The side of a grid cell in quanta (at least 1, widened to keep the grid at most
    /// [`MAX_CELLS_PER_SIDE`] cells a side); the grid covers the room's bounds and its edge
    /// cells reach past them.
    pub cell: i32,
    /// The room's playable rectangle.
    pub bounds: Bounds,
}

/// Most cells along each side of the grid: a small radius over a large world gets wider cells
/// (still at least the radius) rather than millions of them.
pub const MAX_CELLS_PER_SIDE: i32 = 256;

impl Interest {
    /// A radius of `radius` quanta over `bounds`, with cells as wide as the radius (wider when
    /// the world would need more than [`MAX_CELLS_PER_SIDE`] of them along a side): a circle
    /// then meets at most 3 × 3 cells.
    pub fn new(radius: i32, bounds: Bounds) -> Self {
        Self {
            radius: radius.max(1),
            cell: radius.max(1),
            bounds,
        }
    }

    /// The side of a cell the grid uses: `cell`, widened so that neither side of the bounds
    /// has more than [`MAX_CELLS_PER_SIDE`] cells.
    fn grid_cell(&self) -> i32 {
        let longest = self.bounds.width.max(self.bounds.height).max(1);
        let least = (longest - 1) / MAX_CELLS_PER_SIDE + 1;
        self.cell.max(least).max(1)
    }
}

/// An entity the grid holds: its id, position and the hash it adds to a client's checksum
/// (existence and shared components).
#[derive(Debug, Clone, Copy)]
pub(super) struct Member {
    pub id: NetId,
    pub pos: QPos,
    pub hash: u64,
}

/// The grid of the last finished tick and its encoded pieces.
#[derive(Debug)]
pub(super) struct Area {
    pub interest: Interest,
    cols: usize,
    rows: usize,
    /// `members[starts[c]..starts[c + 1]]` are the entities of cell `c`.
    starts: Vec<u32>,
    members: Vec<Member>,
    /// Entities without a position, which every client holds, with their hashes.
    pub everywhere: Vec<(NetId, u64)>,
    /// Per cell, then one more for the entities without a position: its piece in `bytes`
    /// (empty when nothing of it moved or changed).
    pub pieces: Vec<Range<usize>>,
    pub bytes: Vec<u8>,
    /// Ids spawned or replaced by the last frame, ascending: a client that held one takes it
    /// again whole.
    pub fresh: Vec<NetId>,
    /// Reused while sorting entities into cells: the entities, and each cell's next slot.
    scratch: Vec<(u32, Member)>,
    next: Vec<u32>,
    /// Reused while encoding the pieces: this tick's moves and changes by cell, one cell's of
    /// them, and the cells whose pieces are not empty.
    pub changes_by_cell: Vec<(usize, (NetId, Fate, u64))>,
    pub cell_changes: Vec<(NetId, Fate, u64)>,
    pub written: Vec<usize>,
}

impl Area {
    /// An empty grid for `interest`.
    pub fn new(interest: Interest) -> Self {
        let interest = Interest {
            cell: interest.grid_cell(),
            ..interest
        };
        let cell = i64::from(interest.cell);
        let span = |len: i32| (i64::from(len.max(1)) + cell - 1) / cell;
        let cols = span(interest.bounds.width).clamp(1, MAX_CELLS_PER_SIDE.into()) as usize;
        let rows = span(interest.bounds.height).clamp(1, MAX_CELLS_PER_SIDE.into()) as usize;
        Self {
            interest,
            cols,
            rows,
            starts: vec![0; cols * rows + 1],
            members: Vec::new(),
            everywhere: Vec::new(),
            pieces: vec![0..0; cols * rows + 1],
            bytes: Vec::new(),
            fresh: Vec::new(),
            scratch: Vec::new(),
            next: Vec::new(),
            changes_by_cell: Vec::new(),
            cell_changes: Vec::new(),
            written: Vec::new(),
        }
    }

    /// The index of the piece of the entities without a position.
    pub fn everywhere_piece(&self) -> usize {
        self.cols * self.rows
    }

    /// The column (or row) of coordinate `v`, clamped to the grid.
    fn line(&self, v: i32, count: usize) -> usize {
        (v.div_euclid(self.interest.cell.max(1))).clamp(0, count as i32 - 1) as usize
    }

    /// The cell holding position `p` (positions outside the bounds go to the edge cells).
    pub fn cell_of(&self, p: QPos) -> usize {
        self.line(p.y, self.rows) * self.cols + self.line(p.x, self.cols)
    }

    /// Sorts `entities` (id, position if any, hash) into the grid, replacing what it held.
    pub fn rebuild(&mut self, entities: impl Iterator<Item = (NetId, Option<QPos>, u64)>) {
        self.everywhere.clear();
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        for (id, pos, hash) in entities {
            match pos {
                Some(pos) => scratch.push((self.cell_of(pos) as u32, Member { id, pos, hash })),
                None => self.everywhere.push((id, hash)),
            }
        }
        self.everywhere.sort_unstable_by_key(|&(id, _)| id);
        self.starts.iter_mut().for_each(|s| *s = 0);
        for &(cell, _) in &scratch {
            self.starts[cell as usize + 1] += 1;
        }
        for c in 1..self.starts.len() {
            self.starts[c] += self.starts[c - 1];
        }
        let mut next = std::mem::take(&mut self.next);
        next.clear();
        next.extend_from_slice(&self.starts[..self.starts.len() - 1]);
        let filler = Member {
            id: 0,
            pos: QPos::new(0, 0),
            hash: 0,
        };
        self.members.clear();
        self.members.resize(scratch.len(), filler);
        for &(cell, member) in &scratch {
            let slot = &mut next[cell as usize];
            self.members[*slot as usize] = member;
            *slot += 1;
        }
        self.scratch = scratch;
        self.next = next;
    }

    /// Calls `cell` for every cell that the circle of the radius around `centre` meets, and
    /// `member` for every entity of those cells within the radius.
    pub fn around(
        &self,
        centre: QPos,
        mut cell: impl FnMut(usize),
        mut member: impl FnMut(&Member),
    ) {
        let r = i64::from(self.interest.radius);
        let (c0, c1) = (
            self.line(centre.x.saturating_sub(self.interest.radius), self.cols),
            self.line(centre.x.saturating_add(self.interest.radius), self.cols),
        );
        let (r0, r1) = (
            self.line(centre.y.saturating_sub(self.interest.radius), self.rows),
            self.line(centre.y.saturating_add(self.interest.radius), self.rows),
        );
        for row in r0..=r1 {
            let dy = self.gap_to(centre.y, row, self.rows);
            for col in c0..=c1 {
                let dx = self.gap_to(centre.x, col, self.cols);
                if dx * dx + dy * dy > r * r {
                    continue;
                }
                let c = row * self.cols + col;
                cell(c);
                let members = &self.members[self.starts[c] as usize..self.starts[c + 1] as usize];
                for m in members {
                    if within(m.pos, centre, r) {
                        member(m);
                    }
                }
            }
        }
    }

    /// The distance from coordinate `v` to line `index` of `count` (0 inside it); the first and
    /// last lines reach to infinity, as positions past the bounds belong to them.
    fn gap_to(&self, v: i32, index: usize, count: usize) -> i64 {
        let cell = i64::from(self.interest.cell.max(1));
        let lo = if index == 0 {
            i64::MIN / 4
        } else {
            index as i64 * cell
        };
        let hi = if index + 1 == count {
            i64::MAX / 4
        } else {
            (index as i64 + 1) * cell - 1
        };
        let v = i64::from(v);
        if v < lo {
            lo - v
        } else if v > hi {
            v - hi
        } else {
            0
        }
    }
}

/// Whether `p` lies within `r` quanta of `centre`, exactly (an edge cell holds positions far
/// past the bounds, whose squared distance does not fit 64 bits).
fn within(p: QPos, centre: QPos, r: i64) -> bool {
    let dx = i128::from(p.x) - i128::from(centre.x);
    let dy = i128::from(p.y) - i128::from(centre.y);
    dx * dx + dy * dy <= i128::from(r) * i128::from(r)
}

/// What one client of a room with an interest radius holds: the entities it was last sent, and
/// where it looks from.
#[derive(Debug, Default)]
pub struct View {
    /// The entities the client holds, ascending.
    pub(super) held: Vec<NetId>,
    /// Where the client looks from: its avatar's last known position.
    centre: Option<QPos>,
    /// What it sees now (id, hash), ascending: computed for the frame being written.
    pub(super) visible: Vec<(NetId, u64)>,
    /// The pieces of the frame being written.
    pub(super) cells: Vec<usize>,
    /// What the frame being written removes and adds, ascending.
    pub(super) left: Vec<NetId>,
    pub(super) entered: Vec<NetId>,
}

impl View {
    /// A view of nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The entities the client holds, ascending.
    pub fn held(&self) -> &[NetId] {
        &self.held
    }

    /// Where the client looks from, if it ever had an avatar with a position.
    pub fn centre(&self) -> Option<QPos> {
        self.centre
    }

    pub(super) fn set_centre(&mut self, centre: Option<QPos>) {
        if centre.is_some() {
            self.centre = centre;
        }
    }

    /// Makes what is visible now the held set.
    pub(super) fn commit(&mut self) {
        self.held.clear();
        self.held.extend(self.visible.iter().map(|&(id, _)| id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tiny_radius_over_a_huge_world_keeps_the_grid_small() {
        let bounds = Bounds {
            width: 10_000_000,
            height: 50,
        };
        let area = Area::new(Interest::new(1, bounds));
        assert_eq!(area.interest.cell, 39_063, "10,000,000 / 256, rounded up");
        assert_eq!((area.cols, area.rows), (256, 1));
        assert!(area.interest.cell >= area.interest.radius);
    }

    #[test]
    fn positions_past_the_bounds_belong_to_the_edge_cells_and_are_seen() {
        let bounds = Bounds {
            width: 1_000,
            height: 1_000,
        };
        let mut area = Area::new(Interest::new(100, bounds));
        let outside = QPos::new(-50, 1_040);
        let far = QPos::new(i32::MIN, i32::MAX);
        area.rebuild([(1, Some(outside), 7), (2, Some(far), 8)].into_iter());
        let mut seen = Vec::new();
        area.around(QPos::new(0, 990), |_| {}, |m| seen.push(m.id));
        assert_eq!(
            seen,
            [1],
            "the far one shares an edge cell, without overflow"
        );
    }
}
