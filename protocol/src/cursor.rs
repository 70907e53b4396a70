//! The primitive encodings of PROTOCOL.md §3 written by hand: varints, zigzag, and a
//! bounds-checked reader. Frames, inputs and component values use them; the static messages go
//! through bincode, which writes the same bytes.

use thiserror::Error;

/// Varint prefix: a `u16` follows.
pub const U16_PREFIX: u8 = 251;
/// Varint prefix: a `u32` follows.
pub const U32_PREFIX: u8 = 252;
/// Varint prefix: a `u64` follows.
pub const U64_PREFIX: u8 = 253;

/// Bytes that are not what PROTOCOL.md allows at that place; the text says what was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct Malformed(pub &'static str);

/// Appends `v` as a varint in its shortest form.
#[inline]
pub fn put_varint(out: &mut Vec<u8>, v: u64) {
    if v <= 250 {
        out.push(v as u8);
    } else {
        put_long_varint(out, v);
    }
}

/// [`put_varint`] of a value above 250 (out of line: the common case is one byte).
#[inline(never)]
fn put_long_varint(out: &mut Vec<u8>, v: u64) {
    if v <= u64::from(u16::MAX) {
        out.push(U16_PREFIX);
        out.extend_from_slice(&(v as u16).to_le_bytes());
    } else if v <= u64::from(u32::MAX) {
        out.push(U32_PREFIX);
        out.extend_from_slice(&(v as u32).to_le_bytes());
    } else {
        out.push(U64_PREFIX);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// Appends a signed integer zigzagged, then as a varint.
#[inline]
pub fn put_signed(out: &mut Vec<u8>, v: i64) {
    put_varint(out, zigzag(v));
}

/// Zigzag: `n >= 0 → 2n`, `n < 0 → −2n − 1`.
pub const fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// The inverse of [`zigzag`].
pub const fn unzigzag(z: u64) -> i64 {
    ((z >> 1) as i64) ^ -((z & 1) as i64)
}

/// Reads the primitives of PROTOCOL.md §3 from a byte slice, never past its end.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// How many bytes were read.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// How many bytes are left.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Fails unless every byte was read.
    pub fn finish(&self) -> Result<(), Malformed> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(Malformed("trailing bytes"))
        }
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(Malformed("truncated"))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Malformed> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, Malformed> {
        Ok(self.array::<1>()?[0])
    }

    /// A varint whose prefix is at most `max_prefix` (a longer form than needed is accepted).
    fn varint(&mut self, max_prefix: u8) -> Result<u64, Malformed> {
        match self.u8()? {
            b @ 0..=250 => Ok(u64::from(b)),
            U16_PREFIX => Ok(u64::from(u16::from_le_bytes(self.array()?))),
            U32_PREFIX if max_prefix >= U32_PREFIX => {
                Ok(u64::from(u32::from_le_bytes(self.array()?)))
            }
            U64_PREFIX if max_prefix >= U64_PREFIX => Ok(u64::from_le_bytes(self.array()?)),
            _ => Err(Malformed(match max_prefix {
                U16_PREFIX => {
                    "a u16 or i16 field starts with the prefix of a longer integer, see \
                     PROTOCOL.md §3"
                }
                U32_PREFIX => {
                    "a u32 or i32 field starts with the prefix of a longer integer, see \
                     PROTOCOL.md §3"
                }
                _ => "an integer starts with a reserved prefix byte, 0xfe or 0xff",
            })),
        }
    }

    /// A `u16` varint.
    pub fn u16(&mut self) -> Result<u16, Malformed> {
        Ok(self.varint(U16_PREFIX)? as u16)
    }

    /// A `u32` varint.
    pub fn u32(&mut self) -> Result<u32, Malformed> {
        Ok(self.varint(U32_PREFIX)? as u32)
    }

    /// A `u64` varint.
    pub fn u64(&mut self) -> Result<u64, Malformed> {
        self.varint(U64_PREFIX)
    }

    /// A zigzagged `i16`.
    pub fn i16(&mut self) -> Result<i16, Malformed> {
        Ok(unzigzag(u64::from(self.u16()?)) as i16)
    }

    /// A zigzagged `i32`.
    pub fn i32(&mut self) -> Result<i32, Malformed> {
        Ok(unzigzag(u64::from(self.u32()?)) as i32)
    }

    /// A list length. Every item takes at least one byte, so a length past the input is
    /// malformed rather than a reason to loop or allocate.
    #[allow(
        clippy::len_without_is_empty,
        reason = "reads a list length; the cursor is no collection"
    )]
    pub fn len(&mut self) -> Result<usize, Malformed> {
        let n = self.u64()?;
        if n > self.remaining() as u64 {
            return Err(Malformed("list longer than the message"));
        }
        Ok(n as usize)
    }
}

/// Rebuilds ids from the gaps of an id list (PROTOCOL.md "Id gaps").
#[derive(Debug, Default)]
pub struct IdGaps(Option<u32>);

impl IdGaps {
    /// The id the next gap stands for.
    pub fn next(&mut self, gap: u32) -> Result<u32, Malformed> {
        let id = match self.0 {
            None => gap,
            Some(_) if gap == 0 => return Err(Malformed("id gap of 0")),
            Some(prev) => prev.checked_add(gap).ok_or(Malformed("id overflow"))?,
        };
        self.0 = Some(id);
        Ok(id)
    }
}

/// Writes ids of an ascending list as gaps.
#[derive(Debug, Default)]
pub struct GapWriter(Option<u32>);

impl GapWriter {
    /// Appends the gap that leads to `id`; `id` must be above the previous one.
    #[inline]
    pub fn put(&mut self, out: &mut Vec<u8>, id: u32) {
        let gap = match self.0 {
            None => id,
            Some(prev) => id.wrapping_sub(prev),
        };
        debug_assert!(self.0.is_none_or(|p| id > p), "ids must ascend");
        put_varint(out, u64::from(gap));
        self.0 = Some(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_take_their_shortest_form_and_read_back() {
        for v in [
            0u64,
            250,
            251,
            65_535,
            65_536,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(Cursor::new(&out).u64(), Ok(v));
        }
        let mut out = Vec::new();
        put_signed(&mut out, -7);
        assert_eq!(out, [13]);
    }

    #[test]
    fn a_u64_prefix_on_a_u32_is_malformed() {
        let bytes = [U64_PREFIX, 5, 0, 0, 0, 0, 0, 0, 0];
        assert!(Cursor::new(&bytes).u32().is_err());
        assert_eq!(Cursor::new(&[U16_PREFIX, 5, 0]).u32(), Ok(5));
    }
}
