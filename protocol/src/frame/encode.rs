//! [`Frame::encode`](super::Frame::encode): the frame layout written from plain data, refusing
//! anything [`Frame::decode`](super::Frame::decode) would refuse.

use super::{Changed, Components, EventValue, Frame, Moved, NetId, Own};
use crate::codec::MAX_SERVER_MSG;
use crate::cursor::{GapWriter, Malformed, put_signed, put_varint};
use crate::message::tag;
use crate::schema::{FieldDef, Schema};
use crate::walk::{List, Masks};
use crate::wire::Value;

/// Encodes `f` under `schema`.
pub(super) fn frame(f: &Frame, schema: &Schema) -> Result<Vec<u8>, Malformed> {
    let w = Writer {
        schema,
        masks: Masks::of(schema),
    };
    let mut out = Vec::new();
    match f.baseline {
        None if f.pieces.is_some() => return Err(Malformed("a snapshot has no pieces")),
        Some(_) if f.pieces.is_some() && !(f.moved.is_empty() && f.changed.is_empty()) => {
            return Err(Malformed(
                "an area delta's moves and changes go in its pieces",
            ));
        }
        None if f.despawned.is_empty() && f.moved.is_empty() && f.changed.is_empty() => {
            out.push(tag::SNAPSHOT);
            put_varint(&mut out, u64::from(f.tick));
        }
        None => return Err(Malformed("a snapshot has no despawned, moved or changed")),
        Some(baseline) => {
            let area = f.pieces.is_some();
            out.push(if area { tag::AREA_DELTA } else { tag::DELTA });
            put_varint(&mut out, u64::from(f.tick));
            put_varint(&mut out, u64::from(baseline));
        }
    }
    put_varint(&mut out, f.server_time_us);
    if f.baseline.is_some() {
        w.delta_lists(f, &mut out)?;
    }
    let mut ids = Ids::new(&mut out, f.spawned.len());
    for s in &f.spawned {
        ids.put(&mut out, s.id)?;
        if s.kind as usize >= schema.kinds.len() {
            return Err(Malformed("unknown entity kind"));
        }
        put_varint(&mut out, u64::from(s.kind));
        w.components(List::Spawned, &s.components, &mut out)?;
    }
    w.own(&f.own, &mut out)?;
    put_varint(&mut out, f.checksum);
    if out.len() > MAX_SERVER_MSG {
        return Err(Malformed("frame larger than MAX_SERVER_MSG"));
    }
    Ok(out)
}

struct Writer<'s> {
    schema: &'s Schema,
    masks: Masks,
}

impl Writer<'_> {
    fn delta_lists(&self, f: &Frame, out: &mut Vec<u8>) -> Result<(), Malformed> {
        let mut ids = Ids::new(out, f.despawned.len());
        for &id in &f.despawned {
            ids.put(out, id)?;
        }
        if let Some(pieces) = &f.pieces {
            put_varint(out, pieces.len() as u64);
            for piece in pieces {
                moved(&piece.moved, out)?;
                self.entries(List::Changed, &piece.changed, out)?;
            }
            return Ok(());
        }
        moved(&f.moved, out)?;
        self.entries(List::Changed, &f.changed, out)
    }

    fn own(&self, own: &Own, out: &mut Vec<u8>) -> Result<(), Malformed> {
        put_varint(out, u64::from(own.ack));
        self.entries(List::Owned, &own.owned, out)?;
        put_varint(out, own.events.len() as u64);
        for EventValue { event, values } in &own.events {
            let def = self
                .schema
                .events
                .get(*event)
                .ok_or(Malformed("unknown event type"))?;
            put_varint(out, *event as u64);
            values_of(&def.fields, values, out)?;
        }
        Ok(())
    }

    fn entries(&self, list: List, entries: &[Changed], out: &mut Vec<u8>) -> Result<(), Malformed> {
        let mut ids = Ids::new(out, entries.len());
        for e in entries {
            ids.put(out, e.id)?;
            self.components(list, &e.components, out)?;
        }
        Ok(())
    }

    /// The mask of `components` then their values.
    fn components(
        &self,
        list: List,
        components: &Components,
        out: &mut Vec<u8>,
    ) -> Result<(), Malformed> {
        let mut mask = 0u64;
        for &(index, _) in components {
            let bit = u32::try_from(index)
                .ok()
                .and_then(|i| 1u64.checked_shl(i))
                .ok_or(Malformed("component index out of range"))?;
            if bit <= mask {
                return Err(Malformed("components not in ascending order"));
            }
            mask |= bit;
        }
        put_varint(out, self.masks.check(mask, list)?);
        for (index, values) in components {
            values_of(&self.schema.components[*index].fields, values, out)?;
        }
        Ok(())
    }
}

/// Writes a `moved` list.
fn moved(moved: &[Moved], out: &mut Vec<u8>) -> Result<(), Malformed> {
    let mut ids = Ids::new(out, moved.len());
    for m in moved {
        ids.put(out, m.id)?;
        put_signed(out, i64::from(m.dx));
        put_signed(out, i64::from(m.dy));
    }
    Ok(())
}

/// Writes `values` as `fields`.
fn values_of(fields: &[FieldDef], values: &[Value], out: &mut Vec<u8>) -> Result<(), Malformed> {
    if fields.len() != values.len() {
        return Err(Malformed("wrong number of field values"));
    }
    for (f, v) in fields.iter().zip(values) {
        f.ty.write(v, out)?;
    }
    Ok(())
}

/// An id list being written: its count, then strictly ascending ids as gaps.
struct Ids {
    gaps: GapWriter,
    last: Option<NetId>,
}

impl Ids {
    fn new(out: &mut Vec<u8>, count: usize) -> Self {
        put_varint(out, count as u64);
        Self {
            gaps: GapWriter::default(),
            last: None,
        }
    }

    fn put(&mut self, out: &mut Vec<u8>, id: NetId) -> Result<(), Malformed> {
        if self.last.is_some_and(|last| id <= last) {
            return Err(Malformed("ids not in ascending order"));
        }
        self.last = Some(id);
        self.gaps.put(out, id);
        Ok(())
    }
}
