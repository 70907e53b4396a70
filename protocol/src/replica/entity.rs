//! What the replica stores per entity, and what a frame remembers of an entity it touched.

use crate::checksum::{component_seed, entity_hash, mix64};
use crate::cursor::put_signed;
use crate::frame::NetId;
use crate::quant::QPos;
use crate::walk::bits;
use crate::wire::pos_word;

/// One component other than the position: its index, encoded fields and checksum hash.
#[derive(Debug, Clone)]
pub(super) struct Stored {
    pub index: usize,
    pub bytes: Vec<u8>,
    pub hash: u64,
}

/// One replicated entity.
#[derive(Debug, Clone)]
pub(super) struct Entity {
    pub kind: u32,
    pub owner: Option<NetId>,
    pub pos: Option<QPos>,
    /// Components other than the position, by ascending index.
    pub comps: Vec<Stored>,
    /// Its slot in the replica's touches, while a frame has touched it.
    pub slot: Option<usize>,
}

/// The checksum hash of position `p` of entity `id` (component 0, one `Pos` field).
pub(super) fn pos_hash(id: NetId, p: QPos) -> u64 {
    mix64(component_seed(id, 0) ^ pos_word(p))
}

impl Entity {
    /// A new entity without components.
    pub fn new(kind: u32, owner: Option<NetId>) -> Self {
        Self {
            kind,
            owner,
            pos: None,
            comps: Vec::new(),
            slot: None,
        }
    }

    /// Where component `index` (not 0) is stored, or would be inserted.
    pub fn find(&self, index: usize) -> Result<usize, usize> {
        self.comps.binary_search_by_key(&index, |c| c.index)
    }

    /// The mask of every component it has.
    pub fn mask(&self) -> u64 {
        let pos = u64::from(self.pos.is_some());
        self.comps.iter().fold(pos, |m, c| m | 1 << c.index)
    }

    /// The hashes it adds to the shared sum: existence, position and the components not in
    /// `owner_only`.
    pub fn shared_hash(&self, id: NetId, owner_only: u64) -> u64 {
        let base = entity_hash(id, self.kind).wrapping_add(self.pos.map_or(0, |p| pos_hash(id, p)));
        self.comps
            .iter()
            .filter(|c| owner_only & 1 << c.index == 0)
            .fold(base, |h, c| h.wrapping_add(c.hash))
    }

    /// The hashes of its components in `owner_only`, which its owner's sum holds.
    pub fn owned_hash(&self, owner_only: u64) -> u64 {
        self.comps
            .iter()
            .filter(|c| owner_only & 1 << c.index != 0)
            .fold(0, |h: u64, c| h.wrapping_add(c.hash))
    }

    /// Appends the values of the components in `mask` (which it has) by ascending index.
    pub fn write_values(&self, mask: u64, out: &mut Vec<u8>) {
        for index in bits(mask) {
            if index == 0 {
                if let Some(p) = self.pos {
                    put_signed(out, i64::from(p.x));
                    put_signed(out, i64::from(p.y));
                }
            } else if let Ok(i) = self.find(index) {
                out.extend_from_slice(&self.comps[i].bytes);
            }
        }
    }
}

/// What a frame remembers of an entity it touched: how it was before the frame, and what
/// changed since.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Touch {
    /// It existed when the frame began.
    pub existed: bool,
    /// Its position when the frame began.
    pub old_pos: Option<QPos>,
    /// It was despawned and spawned again, changed kind or owner, or lost or gained a shared
    /// component: it travels as a despawn and a spawn.
    pub replaced: bool,
    /// Shared components (not the position) whose bytes changed.
    pub changed: u64,
    /// Owner-only components whose bytes changed or that are new.
    pub owned: u64,
}

/// How a touched entity travels in the delta.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Fate {
    pub despawned: bool,
    pub spawned: bool,
    pub moved: Option<(i32, i32)>,
    pub changed: u64,
}

impl Touch {
    /// How the entity travels, `now` being its state at the end of the frame.
    pub fn fate(&self, now: Option<&Entity>) -> Fate {
        let Some(e) = now else {
            return Fate {
                despawned: self.existed,
                ..Fate::default()
            };
        };
        if !self.existed || self.replaced {
            return Fate {
                despawned: self.existed,
                spawned: true,
                ..Fate::default()
            };
        }
        let moved = match (self.old_pos, e.pos) {
            (Some(a), Some(b)) if a != b => Some((b.x.wrapping_sub(a.x), b.y.wrapping_sub(a.y))),
            _ => None,
        };
        Fate {
            moved,
            changed: self.changed,
            ..Fate::default()
        }
    }
}
