//! A zero-allocation reader of the wire format, written from PROTOCOL.md alone, that applies
//! frames straight into a [`WorldView`].
//!
//! [`crate::decode_server`] builds a message with its lists before anything is applied; a client
//! receiving thirty deltas a second would allocate those lists every frame. [`apply_frame`] reads
//! the same bytes field by field instead and touches only the mirror. Both accept exactly the same
//! inputs (property-tested against each other).

use crate::frame::{EntityKind, EntityState, NetId};
use crate::quant::QPos;
use crate::world::{Desync, WorldView};

/// Varint prefixes (PROTOCOL.md §3).
const U16_BYTE: u8 = 251;
const U32_BYTE: u8 = 252;
const U64_BYTE: u8 = 253;

/// `ServerMsg` variant indices of the frames (PROTOCOL.md §6).
const SNAPSHOT: u8 = 1;
const DELTA: u8 = 2;

/// Why a frame could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The bytes are not a well-formed frame.
    #[error("malformed frame: {0}")]
    Malformed(&'static str),
    /// The frame is well-formed but does not match the mirror.
    #[error(transparent)]
    Desync(#[from] Desync),
}

/// What an applied frame was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    /// The tick the mirror now holds.
    pub tick: u32,
    /// The frame's server time (µs since the Unix epoch).
    pub server_time_us: u64,
    /// Whether it was a snapshot.
    pub snapshot: bool,
}

/// Whether `bytes` is a snapshot or delta message (otherwise decode it with
/// [`crate::decode_server`]).
pub fn is_frame(bytes: &[u8]) -> bool {
    matches!(bytes.first(), Some(&SNAPSHOT | &DELTA))
}

/// The tick, server time and kind of an encoded frame, read from its first fields.
pub fn frame_header(bytes: &[u8]) -> Option<FrameInfo> {
    let mut r = Reader { buf: bytes, pos: 0 };
    let snapshot = match r.u8().ok()? {
        SNAPSHOT => true,
        DELTA => false,
        _ => return None,
    };
    let tick = r.u32().ok()?;
    if !snapshot {
        r.u32().ok()?;
    }
    let server_time_us = r.u64().ok()?;
    Some(FrameInfo {
        tick,
        server_time_us,
        snapshot,
    })
}

/// Applies an encoded snapshot or delta to `world` without allocating (beyond new entities) and
/// verifies its checksum. On error the mirror must wait for the next snapshot.
pub fn apply_frame(world: &mut WorldView, bytes: &[u8]) -> Result<FrameInfo, FrameError> {
    if bytes.len() > crate::codec::MAX_SERVER_MSG {
        return Err(FrameError::Malformed("frame over the size limit"));
    }
    let mut r = Reader { buf: bytes, pos: 0 };
    let info = match r.u8()? {
        SNAPSHOT => apply_snapshot(world, &mut r)?,
        DELTA => apply_delta(world, &mut r)?,
        _ => return Err(FrameError::Malformed("not a snapshot or delta")),
    };
    if r.pos != bytes.len() {
        return Err(FrameError::Malformed("trailing bytes"));
    }
    Ok(info)
}

fn apply_snapshot(world: &mut WorldView, r: &mut Reader<'_>) -> Result<FrameInfo, FrameError> {
    let tick = r.u32()?;
    let server_time_us = r.u64()?;
    let count = r.len()?;
    world.clear_for_snapshot(tick);
    let mut ids = IdGaps::default();
    for _ in 0..count {
        let id = ids.next(r.u32()?)?;
        let state = r.entity(id)?;
        world.insert_unchecked(state);
    }
    let checksum = r.u64()?;
    world.verify_checksum(tick, checksum)?;
    Ok(FrameInfo {
        tick,
        server_time_us,
        snapshot: true,
    })
}

fn apply_delta(world: &mut WorldView, r: &mut Reader<'_>) -> Result<FrameInfo, FrameError> {
    let tick = r.u32()?;
    let baseline = r.u32()?;
    let server_time_us = r.u64()?;
    let held = world.tick().ok_or(Desync::NoBaseline { tick })?;
    if held != baseline {
        return Err(Desync::WrongBaseline { baseline, held }.into());
    }
    let mut ids = IdGaps::default();
    for _ in 0..r.len()? {
        world.remove_entity(ids.next(r.u32()?)?)?;
    }
    let mut ids = IdGaps::default();
    for _ in 0..r.len()? {
        let id = ids.next(r.u32()?)?;
        let (dx, dy) = (r.i32()?, r.i32()?);
        world.update_entity(id, |e| {
            e.pos = QPos::new(e.pos.x.wrapping_add(dx), e.pos.y.wrapping_add(dy))
        })?;
    }
    let mut ids = IdGaps::default();
    for _ in 0..r.len()? {
        let id = ids.next(r.u32()?)?;
        let advance = r.u32()?;
        world.update_entity(id, |e| e.ack = e.ack.wrapping_add(advance))?;
    }
    let mut ids = IdGaps::default();
    for _ in 0..r.len()? {
        let id = ids.next(r.u32()?)?;
        let state = r.entity(id)?;
        world.spawn_entity(state)?;
    }
    let checksum = r.u64()?;
    world.set_tick(tick);
    world.verify_checksum(tick, checksum)?;
    Ok(FrameInfo {
        tick,
        server_time_us,
        snapshot: false,
    })
}

/// Rebuilds ids from gaps (PROTOCOL.md "Id gaps").
#[derive(Default)]
struct IdGaps(Option<NetId>);

impl IdGaps {
    fn next(&mut self, gap: u32) -> Result<NetId, FrameError> {
        let id = match self.0 {
            None => gap,
            Some(_) if gap == 0 => return Err(FrameError::Malformed("id gap of 0")),
            Some(prev) => prev
                .checked_add(gap)
                .ok_or(FrameError::Malformed("id overflow"))?,
        };
        self.0 = Some(id);
        Ok(id)
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], FrameError> {
        let end = self
            .pos
            .checked_add(N)
            .filter(|&e| e <= self.buf.len())
            .ok_or(FrameError::Malformed("truncated"))?;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.buf[self.pos..end]);
        self.pos = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, FrameError> {
        Ok(self.bytes::<1>()?[0])
    }

    /// A varint of at most `max_prefix` width (PROTOCOL.md §3).
    fn varint(&mut self, max_prefix: u8) -> Result<u64, FrameError> {
        match self.u8()? {
            b @ 0..=250 => Ok(u64::from(b)),
            U16_BYTE => Ok(u64::from(u16::from_le_bytes(self.bytes()?))),
            U32_BYTE if max_prefix >= U32_BYTE => Ok(u64::from(u32::from_le_bytes(self.bytes()?))),
            U64_BYTE if max_prefix >= U64_BYTE => Ok(u64::from_le_bytes(self.bytes()?)),
            _ => Err(FrameError::Malformed("varint too wide for its type")),
        }
    }

    fn u32(&mut self) -> Result<u32, FrameError> {
        Ok(self.varint(U32_BYTE)? as u32)
    }

    fn u64(&mut self) -> Result<u64, FrameError> {
        self.varint(U64_BYTE)
    }

    fn i32(&mut self) -> Result<i32, FrameError> {
        let z = self.u32()?;
        Ok(((z >> 1) as i32) ^ -((z & 1) as i32))
    }

    /// A list length; every item takes at least one byte, so a length past the input is
    /// malformed rather than a reason to loop or allocate.
    fn len(&mut self) -> Result<usize, FrameError> {
        let n = self.u64()?;
        let left = (self.buf.len() - self.pos) as u64;
        if n > left {
            return Err(FrameError::Malformed("list longer than the frame"));
        }
        Ok(n as usize)
    }

    fn entity(&mut self, id: NetId) -> Result<EntityState, FrameError> {
        let kind = match self.u32()? {
            0 => EntityKind::Player,
            _ => return Err(FrameError::Malformed("unknown entity kind")),
        };
        let pos = QPos::new(self.i32()?, self.i32()?);
        let ack = self.u32()?;
        Ok(EntityState { id, kind, pos, ack })
    }
}
