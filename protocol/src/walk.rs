//! One reader of the frame layout (PROTOCOL.md §6) that both [`crate::frame::Frame::decode`] and
//! [`crate::world::WorldView::apply`] drive, so that they accept exactly the same bytes.
//!
//! [`walk`] checks every structural rule (tags, list lengths, id gaps, kinds, masks, event
//! indices, field values, trailing bytes, size) and hands what it read to a [`Sink`].

use crate::checksum::{component_seed, mix64};
use crate::codec::MAX_SERVER_MSG;
use crate::cursor::{Cursor, IdGaps, Malformed};
use crate::frame::NetId;
use crate::message::tag;
use crate::schema::{FieldDef, Schema};
use crate::wire::Value;

/// The first fields of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// The tick the frame leads to.
    pub tick: u32,
    /// `None` for a snapshot, the baseline tick for a delta.
    pub baseline: Option<u32>,
    /// Whether it is an area delta (tag 6): its moves and changes come in pieces that may
    /// name entities the client does not hold, which the client skips.
    pub area: bool,
    /// The server time.
    pub server_time_us: u64,
}

/// The lists whose entries carry component values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum List {
    /// A delta's `changed`.
    Changed,
    /// A snapshot's entities or a delta's `spawned`.
    Spawned,
    /// The own part's `owned`.
    Owned,
}

/// Receives a frame's contents in wire order. `values` buffers may be taken or swapped: the
/// walker clears them before each use.
pub(crate) trait Sink {
    /// The header, first.
    fn header(&mut self, header: Header);
    /// A delta's despawned entity, or an entity an area delta's client no longer holds.
    fn despawn(&mut self, id: NetId);
    /// The start of a piece of an area delta; its moved and changed entries follow.
    fn piece(&mut self);
    /// A delta's moved entity.
    fn moved(&mut self, id: NetId, dx: i32, dy: i32);
    /// The start of an entry of `list` (`kind` is set for [`List::Spawned`] only).
    fn entry(&mut self, list: List, id: NetId, kind: u32);
    /// One component of the current entry, its values and their checksum hash.
    fn component(
        &mut self,
        list: List,
        id: NetId,
        index: usize,
        values: &mut Vec<Value>,
        hash: u64,
    );
    /// The own part's ack (absolute in a snapshot, an advance in a delta).
    fn ack(&mut self, ack: u32);
    /// One event.
    fn event(&mut self, event: usize, values: &mut Vec<Value>);
    /// The checksum, last, once the whole frame was read and found well-formed.
    fn checksum(&mut self, checksum: u64);
}

/// Bit masks of a schema's components.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Masks {
    /// Every component index the schema has.
    pub all: u64,
    /// The owner-only ones.
    pub owner_only: u64,
}

impl Masks {
    /// The masks of `schema`.
    pub fn of(schema: &Schema) -> Self {
        let mut m = Self::default();
        for (i, c) in schema.components.iter().enumerate().take(64) {
            m.all |= 1 << i;
            if c.owner_only {
                m.owner_only |= 1 << i;
            }
        }
        m
    }

    /// Reads a mask and checks that it names only existing components of `list`'s sort.
    fn read(self, c: &mut Cursor<'_>, list: List) -> Result<u64, Malformed> {
        self.check(c.u64()?, list)
    }

    /// Checks that `mask` names only existing components of `list`'s sort.
    pub fn check(self, mask: u64, list: List) -> Result<u64, Malformed> {
        if mask & !self.all != 0 {
            return Err(Malformed("component mask names an unknown component"));
        }
        let ok = match list {
            List::Spawned => mask & self.owner_only == 0,
            List::Changed => mask & (self.owner_only | 1) == 0,
            List::Owned => mask & !self.owner_only == 0,
        };
        if ok {
            Ok(mask)
        } else {
            Err(Malformed("component mask has bits its list does not allow"))
        }
    }
}

/// The component indices of `mask`, ascending.
pub(crate) fn bits(mut mask: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (mask != 0).then(|| {
            let i = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            i
        })
    })
}

/// Reads the values of `fields` into `out` (cleared first) and returns the hash chain from
/// `seed` over them.
pub(crate) fn read_values(
    c: &mut Cursor<'_>,
    fields: &[FieldDef],
    seed: u64,
    out: &mut Vec<Value>,
) -> Result<u64, Malformed> {
    out.clear();
    let mut h = seed;
    for f in fields {
        let v = f.ty.read(c)?;
        h = mix64(h ^ v.hash_word());
        out.push(v);
    }
    Ok(h)
}

/// Whether `bytes` starts like a snapshot, a delta or an area delta.
pub(crate) fn is_frame(bytes: &[u8]) -> bool {
    matches!(
        bytes.first(),
        Some(&(tag::SNAPSHOT | tag::DELTA | tag::AREA_DELTA))
    )
}

/// Reads the tag and header.
pub(crate) fn header(c: &mut Cursor<'_>) -> Result<Header, Malformed> {
    let (delta, area) = match c.u8()? {
        tag::SNAPSHOT => (false, false),
        tag::DELTA => (true, false),
        tag::AREA_DELTA => (true, true),
        _ => return Err(Malformed("not a snapshot or delta")),
    };
    let tick = c.u32()?;
    let baseline = if delta { Some(c.u32()?) } else { None };
    Ok(Header {
        tick,
        baseline,
        area,
        server_time_us: c.u64()?,
    })
}

/// Reads a whole frame under `schema`, feeding `sink`, and returns its header; `scratch` is a
/// reusable value buffer.
pub(crate) fn walk(
    schema: &Schema,
    masks: Masks,
    bytes: &[u8],
    scratch: &mut Vec<Value>,
    sink: &mut impl Sink,
) -> Result<Header, Malformed> {
    if bytes.len() > MAX_SERVER_MSG {
        return Err(Malformed("frame larger than MAX_SERVER_MSG"));
    }
    let mut r = Reader {
        schema,
        masks,
        c: Cursor::new(bytes),
        scratch,
    };
    let head = header(&mut r.c)?;
    sink.header(head);
    if head.area {
        r.despawned(sink)?;
        r.pieces(sink)?;
    } else if head.baseline.is_some() {
        r.despawned(sink)?;
        r.moved(sink)?;
        r.entries(List::Changed, sink)?;
    }
    r.entries(List::Spawned, sink)?;
    sink.ack(r.c.u32()?);
    r.entries(List::Owned, sink)?;
    r.events(sink)?;
    let checksum = r.c.u64()?;
    r.c.finish()?;
    sink.checksum(checksum);
    Ok(head)
}

struct Reader<'s, 'b, 'v> {
    schema: &'s Schema,
    masks: Masks,
    c: Cursor<'b>,
    scratch: &'v mut Vec<Value>,
}

impl Reader<'_, '_, '_> {
    fn despawned(&mut self, sink: &mut impl Sink) -> Result<(), Malformed> {
        let mut ids = IdGaps::default();
        for _ in 0..self.c.len()? {
            sink.despawn(ids.next(self.c.u32()?)?);
        }
        Ok(())
    }

    fn pieces(&mut self, sink: &mut impl Sink) -> Result<(), Malformed> {
        for _ in 0..self.c.len()? {
            sink.piece();
            self.moved(sink)?;
            self.entries(List::Changed, sink)?;
        }
        Ok(())
    }

    fn moved(&mut self, sink: &mut impl Sink) -> Result<(), Malformed> {
        let mut ids = IdGaps::default();
        for _ in 0..self.c.len()? {
            let id = ids.next(self.c.u32()?)?;
            let dx = self.c.i32()?;
            sink.moved(id, dx, self.c.i32()?);
        }
        Ok(())
    }

    fn entries(&mut self, list: List, sink: &mut impl Sink) -> Result<(), Malformed> {
        let mut ids = IdGaps::default();
        for _ in 0..self.c.len()? {
            let id = ids.next(self.c.u32()?)?;
            let kind = if list == List::Spawned {
                self.kind()?
            } else {
                0
            };
            let mask = self.masks.read(&mut self.c, list)?;
            sink.entry(list, id, kind);
            for index in bits(mask) {
                let fields = &self.schema.components[index].fields;
                let seed = component_seed(id, index);
                let hash = read_values(&mut self.c, fields, seed, self.scratch)?;
                sink.component(list, id, index, self.scratch, hash);
            }
        }
        Ok(())
    }

    fn kind(&mut self) -> Result<u32, Malformed> {
        let kind = self.c.u32()?;
        if kind as usize >= self.schema.kinds.len() {
            return Err(Malformed("unknown entity kind"));
        }
        Ok(kind)
    }

    fn events(&mut self, sink: &mut impl Sink) -> Result<(), Malformed> {
        for _ in 0..self.c.len()? {
            let event = self.c.u32()? as usize;
            let def = self
                .schema
                .events
                .get(event)
                .ok_or(Malformed("unknown event type"))?;
            read_values(&mut self.c, &def.fields, 0, self.scratch)?;
            sink.event(event, self.scratch);
        }
        Ok(())
    }
}
